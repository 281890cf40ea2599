/**
 * Lambda on AWS: a function (its code from a directory or .zip deployer packages, a .zip in S3,
 * or a container image), published as a version on each change (`qualifiedArn`), with its log
 * group made first (so that it has the stack's retention, not Lambda's "never expire"), its
 * role (the stack's grants for what it references, Security's roles attached to it, and what
 * running needs: writing its logs, reading its secrets, its network interfaces in the VPC,
 * X-Ray), its place in the VPC when `network` is set, tracing when Observability traces with
 * X-Ray, reserved and provisioned concurrency, and its event sources (lambda-events.ts).
 * Alarms: error rate, throttles, duration.
 */
import path from 'node:path';
import type * as awsModule from '@pulumi/aws';
import type { Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { componentRole, policyDocument, type IamStatement } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { splitEnv, type TaskSecret } from '../secrets.js';
import { alarmsFor, arnParts, securityGroupsOrOwn } from './compute-messaging.js';
import { addEventSources, eventSourceStatements, type LambdaEvent } from './lambda-events.js';

interface LambdaSpec {
  runtime?: string;
  handler?: string;
  code: { path?: string; s3?: { bucket: string; key: string; version?: string }; image?: string };
  memory?: number;
  timeout?: number;
  architecture?: 'x86_64' | 'arm64';
  env?: Record<string, unknown>;
  ephemeralStorage?: number;
  reservedConcurrency?: number;
  provisionedConcurrency?: number;
  layers?: string[];
  events?: LambdaEvent[];
  network?: { subnets?: string; subnetIds?: string[]; securityGroups?: string[]; assignPublicIp?: boolean };
  url?: UrlSpec;
}

export function translateLambda(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as unknown as LambdaSpec;
  const events = spec.events ?? [];
  if (spec.network?.assignPublicIp)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: a Lambda function has no public IP address, even in a public subnet`, {
      details: ['remove network.assignPublicIp; in private subnets the function reaches the internet through the NAT gateway'],
    });
  const name = scope.physicalName({ max: 64 });
  const logGroup = scope.logGroup(`/aws/lambda/${name}`);
  const { plain, secrets } = splitEnv(scope, spec.env);
  const { role, attached } = componentRole(scope, 'lambda.amazonaws.com', eventSourceStatements(events));
  const running = runningPolicy(scope, role, logGroup, secrets, spec.network !== undefined);
  const fn = new aws.lambda.Function(
    'function',
    {
      name,
      description: `${scope.id} (deployer)`,
      role: role.arn,
      ...codeArgs(scope, spec),
      architectures: [spec.architecture ?? 'x86_64'],
      memorySize: spec.memory ?? 128,
      timeout: spec.timeout ?? 3,
      publish: true,
      ...(spec.ephemeralStorage ? { ephemeralStorage: { size: spec.ephemeralStorage } } : {}),
      ...(spec.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      ...(spec.layers?.length ? { layers: spec.layers } : {}),
      environment: { variables: environment(scope, plain, secrets) },
      loggingConfig: loggingConfig(scope, logGroup),
      tracingConfig: { mode: tracesWithXray(scope) ? 'Active' : 'PassThrough' },
      ...(spec.network
        ? { vpcConfig: { subnetIds: scope.subnetIds(), securityGroupIds: securityGroupsOrOwn(scope, 'the function') } }
        : {}),
    },
    // Its log group first, else Lambda makes one that never expires; its running policy first, else a VPC function cannot be made
    // (and its grants, else its event source mappings are refused reading their source).
    scope.opts({ dependsOn: [logGroup, running, ...attached] }),
  );
  if (spec.provisionedConcurrency)
    new aws.lambda.ProvisionedConcurrencyConfig(
      'provisioned-concurrency',
      { functionName: fn.name, qualifier: fn.version, provisionedConcurrentExecutions: spec.provisionedConcurrency },
      scope.opts({ parent: fn }),
    );
  addEventSources(scope, fn, events);
  const metric = (metricName: string, statistic: string) => ({
    namespace: 'AWS/Lambda',
    metricName,
    dimensions: { FunctionName: fn.name },
    statistic,
  });
  alarmsFor(scope, {
    'error-rate': { part: metric('Errors', 'Sum'), whole: metric('Invocations', 'Sum') },
    throttles: metric('Throttles', 'Sum'),
    duration: metric('Duration', 'Average'),
  });
  const url = spec.url ? functionUrl(scope, fn, spec.url) : undefined;
  return { arn: fn.arn, name: fn.name, invokeArn: fn.invokeArn, qualifiedArn: fn.qualifiedArn, url: url?.functionUrl ?? '' };
}

interface UrlSpec {
  auth?: 'iam' | 'none';
  cors?: {
    allowOrigins?: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    allowCredentials?: boolean;
    maxAge?: number;
  };
}

/**
 * The function's URL. With `auth: none` anyone may call it, which AWS asks to be said twice: the
 * URL's auth type, and the function's resource policy letting anyone invoke it through its URL.
 */
function functionUrl(scope: AwsScope, fn: awsModule.lambda.Function, url: UrlSpec): awsModule.lambda.FunctionUrl {
  const { aws } = scope;
  const open = url.auth === 'none';
  const made = new aws.lambda.FunctionUrl(
    'url',
    {
      functionName: fn.name,
      authorizationType: open ? 'NONE' : 'AWS_IAM',
      ...(url.cors ? { cors: url.cors } : {}),
    },
    scope.opts({ parent: fn }),
  );
  if (open) {
    new aws.lambda.Permission(
      'url-public',
      { action: 'lambda:InvokeFunctionUrl', function: fn.name, principal: '*', functionUrlAuthType: 'NONE' },
      scope.opts({ parent: fn }),
    );
    new aws.lambda.Permission(
      'url-public-invoke',
      { action: 'lambda:InvokeFunction', function: fn.name, principal: '*', invokedViaFunctionUrl: true },
      scope.opts({ parent: fn }),
    );
  }
  return made;
}

/** The code: packaged by Pulumi from a directory or .zip, a .zip in S3, or a container image (whose CMD `handler` overrides). */
function codeArgs(scope: AwsScope, spec: LambdaSpec): Partial<awsModule.lambda.FunctionArgs> {
  const { code } = spec;
  if (code.image)
    return { packageType: 'Image', imageUri: code.image, ...(spec.handler ? { imageConfig: { commands: [spec.handler] } } : {}) };
  const runtime = { packageType: 'Zip', runtime: spec.runtime!, handler: spec.handler! };
  if (code.s3) {
    // A bucket given as a reference may be its ARN: the name is its end.
    const bucket = code.s3.bucket.startsWith('arn:') ? arnParts(code.s3.bucket).name : code.s3.bucket;
    return { ...runtime, s3Bucket: bucket, s3Key: code.s3.key, ...(code.s3.version ? { s3ObjectVersion: code.s3.version } : {}) };
  }
  return { ...runtime, code: new scope.pulumi.asset.FileArchive(codePath(scope, code.path!)) };
}

/** Where `code.path` is: relative to the component's YAML file. */
function codePath(scope: AwsScope, written: string): string {
  return path.resolve(scope.baseDir, written);
}

/**
 * The function's environment: its plain values (under Observability's LOG_FORMAT and LOG_LEVEL),
 * and each secret as `<NAME>_SECRET_ARN` (with `<NAME>_SECRET_JSON_KEY` for one key of a JSON
 * secret). Lambda, unlike ECS, cannot resolve a secret into a variable: the value would have to
 * be written into the function's configuration, where anyone allowed to read the function
 * (lambda:GetFunctionConfiguration) and Pulumi's state would see it. The function reads the
 * secret by its ARN when it starts (an AWS SDK, or the Parameters and Secrets extension); its
 * role may read exactly those secrets.
 */
function environment(scope: AwsScope, plain: Record<string, string>, secrets: TaskSecret[]): Record<string, string | Output<string>> {
  const { logFormat, logLevel } = scope.infra.observability;
  const vars: Record<string, string | Output<string>> = {
    ...(logFormat ? { LOG_FORMAT: logFormat } : {}),
    ...(logLevel ? { LOG_LEVEL: logLevel } : {}),
    ...plain,
  };
  for (const s of secrets) {
    vars[`${s.name}_SECRET_ARN`] = s.arn;
    const key = (scope.spec['env'] as Record<string, { secretRef: { key: string } }>)[s.name]!.secretRef.key.split('#')[1];
    if (key) vars[`${s.name}_SECRET_JSON_KEY`] = key;
  }
  return vars;
}

/** Lambda's own log lines in Observability's format (JSON lets Lambda filter the function's by level too). */
function loggingConfig(scope: AwsScope, logGroup: awsModule.cloudwatch.LogGroup): awsModule.types.input.lambda.FunctionLoggingConfig {
  const { logFormat, logLevel } = scope.infra.observability;
  const json = (logFormat ?? 'json') === 'json';
  return {
    logFormat: json ? 'JSON' : 'Text',
    logGroup: logGroup.name,
    ...(json && logLevel
      ? { applicationLogLevel: logLevel.toUpperCase(), systemLogLevel: logLevel === 'error' ? 'WARN' : logLevel.toUpperCase() }
      : {}),
  };
}

function tracesWithXray(scope: AwsScope): boolean {
  const tracing = scope.infra.observability.tracing;
  return tracing?.enabled === true && (tracing.provider ?? 'xray') === 'xray';
}

/**
 * What running needs, beside the grants: writing to its log group (only it: no other group, and
 * no creating any), reading its secrets, managing its network interfaces in the VPC (which EC2
 * authorizes on no narrower resource), sending traces to X-Ray.
 */
function runningPolicy(
  scope: AwsScope,
  role: awsModule.iam.Role,
  logGroup: awsModule.cloudwatch.LogGroup,
  secrets: TaskSecret[],
  inVpc: boolean,
): awsModule.iam.RolePolicy {
  const fixed: IamStatement[] = [];
  if (inVpc)
    fixed.push({
      Effect: 'Allow',
      Action: [
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: ['*'],
    });
  if (tracesWithXray(scope))
    fixed.push({ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: ['*'] });
  const policy = scope.pulumi
    .all([logGroup.arn, ...secrets.map((s) => s.arn)])
    .apply(([logs, ...secretArns]) =>
      policyDocument([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logs}:*`] },
        ...(secretArns.length
          ? [{ Effect: 'Allow' as const, Action: ['secretsmanager:GetSecretValue'], Resource: [...new Set(secretArns)] }]
          : []),
        ...fixed,
      ]),
    );
  return new scope.aws.iam.RolePolicy('task-role-running', { role: role.name, name: 'running', policy }, scope.opts({ parent: role }));
}
