/**
 * What MicroService, Worker and CronJob share on AWS: they run on ECS Fargate in the stack's
 * cluster. Each gets a task definition (awsvpc, its size and architecture, one container with
 * its image, args, ports, env, secrets as Secrets Manager ARNs ECS resolves at start, logs to a
 * log group of its own through awslogs, and the X-Ray daemon beside it when Observability traces
 * with X-Ray), a TaskExecutionRole that may pull exactly its image, write exactly its log group
 * and read exactly its secrets, a TaskRole made of its generated grants (iam.ts), its placement
 * (subnets, security groups) and its capacity (Fargate, or Spot above one Fargate task).
 * The services' deployment (strategy, circuit breaker, alarms) and autoscaling are in
 * ecs-service.ts; what a MicroService adds on its load balancers, in ecs-routing.ts.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { componentRole, policyDocument, trustPolicy, type IamStatement } from '../iam.js';
import type { AwsScope } from '../scope.js';
import { splitEnv } from '../secrets.js';

/** The spec fields the three kinds share. */
export interface ContainerSpec {
  image?: string;
  args?: string[];
  cpu?: number;
  memory?: number;
  architecture?: 'x86_64' | 'arm64';
  launchType?: 'fargate' | 'fargate-spot' | 'ec2';
  env?: Record<string, unknown>;
  stopTimeout?: number;
  network?: { subnets?: string; subnetIds?: string[]; securityGroups?: string[]; assignPublicIp?: boolean };
}

/** A container definition as ECS reads it (the parts deployer writes). */
export type ContainerDefinition = Record<string, unknown>;

/** What a task definition is made with. */
export interface Task {
  taskDefinition: awsModule.ecs.TaskDefinition;
  executionRole: awsModule.iam.Role;
  taskRole: awsModule.iam.Role;
  logGroup: awsModule.cloudwatch.LogGroup;
  /** The container that runs the image (named after the component). */
  containerName: string;
}

/** The capacity providers the tasks run on. */
export type Capacity = Array<{ capacityProvider: string; weight: number; base?: number }>;

/** Where the tasks run in the VPC. */
export interface Placement {
  subnets: string[];
  securityGroups: Array<Input<string>>;
  assignPublicIp: boolean;
}

/** Memory (MiB) Fargate accepts for each CPU size: from, to, step. */
const FARGATE_SIZES: Record<number, [number, number, number]> = {
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

/** The X-Ray daemon's image (AWS's own, on ECR Public: no credentials needed to pull it). */
const XRAY_IMAGE = 'public.ecr.aws/xray/aws-xray-daemon:3.x';

/** CPU and memory of a task, as Fargate takes them (refused here rather than by AWS mid-deployment). */
export function fargateSize(scope: AwsScope, spec: ContainerSpec): { cpu: number; memory: number } {
  const cpu = spec.cpu ?? 256;
  const sizes = FARGATE_SIZES[cpu];
  if (!sizes)
    throw new DeployerError(
      'APPLY_FAILED',
      `${scope.id}: Fargate runs tasks of ${Object.keys(FARGATE_SIZES).join(', ')} CPU units, not ${cpu}`,
    );
  const [from, to, step] = sizes;
  const memory = spec.memory ?? from;
  if (memory < from || memory > to || (memory - from) % step !== 0)
    throw new DeployerError(
      'APPLY_FAILED',
      `${scope.id}: a Fargate task of ${cpu} CPU units takes ${from} to ${to} MiB in steps of ${step}, not ${memory}`,
    );
  return { cpu, memory };
}

/**
 * The capacity the tasks run on. The stack's cluster has Fargate and Fargate Spot capacity
 * (platform.ts) and no EC2 instances, so `ec2` is refused rather than silently run elsewhere.
 */
export function capacityProviders(scope: AwsScope, launchType: ContainerSpec['launchType']): Capacity {
  if (launchType === 'ec2')
    throw new DeployerError('APPLY_FAILED', `${scope.id}: launchType ec2, but the stack's ECS cluster has Fargate capacity only`, {
      details: ['use launchType fargate or fargate-spot'],
    });
  // Spot may be reclaimed at two minutes' notice: one task always runs on regular Fargate.
  if (launchType === 'fargate-spot')
    return [
      { capacityProvider: 'FARGATE', base: 1, weight: 0 },
      { capacityProvider: 'FARGATE_SPOT', weight: 1 },
    ];
  return [{ capacityProvider: 'FARGATE', weight: 1 }];
}

/**
 * Subnets and security groups of the tasks. With no group named, the tasks get one of their own
 * that lets everything out and nothing in (rather than the VPC's default group, whose rules
 * nobody here chose); `inbound` says why that may not do (a MicroService must be reached).
 */
export function placement(scope: AwsScope, spec: ContainerSpec, inbound?: string): Placement {
  const named = scope.securityGroupIds();
  let securityGroups: Array<Input<string>> = named;
  if (named.length === 0) {
    const { aws } = scope;
    const group = new aws.ec2.SecurityGroup(
      'tasks',
      {
        name: scope.physicalName({ max: 255, suffix: '-tasks' }),
        description: `Tasks of ${scope.id} (deployer): outbound only`,
        vpcId: scope.vpcId(),
        tags: { Name: scope.physicalName({ max: 255, suffix: '-tasks' }) },
      },
      scope.opts(),
    );
    new aws.vpc.SecurityGroupEgressRule(
      'tasks-egress',
      { securityGroupId: group.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'everything out' },
      scope.opts({ parent: group }),
    );
    if (inbound) scope.pulumi.log.warn(`${scope.id}: no network.securityGroups, so its tasks accept no connection: ${inbound}`);
    securityGroups = [group.id];
  }
  return { subnets: scope.subnetIds('private'), securityGroups, assignPublicIp: spec.network?.assignPublicIp ?? false };
}

/** The ECR repository of an image in a private registry (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`), if it is one. */
export function ecrRepositoryArn(image: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  if (!m) return undefined;
  const partition = image.includes('.amazonaws.com.cn/') ? 'aws-cn' : 'aws';
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

/** What Observability asks of the code: its log format and level, and where its traces go. */
function observabilityEnv(scope: AwsScope): Record<string, string> {
  const o = scope.infra.observability;
  const env: Record<string, string> = {};
  if (o.logFormat) env['LOG_FORMAT'] = o.logFormat;
  if (o.logLevel) env['LOG_LEVEL'] = o.logLevel;
  const tracing = o.tracing as { enabled?: boolean; provider?: string; sampleRate?: number; endpoint?: string } | undefined;
  if (!tracing?.enabled) return env;
  if ((tracing.provider ?? 'xray') === 'xray') {
    // The daemon runs beside the app in the task: in awsvpc mode they share localhost.
    env['AWS_XRAY_DAEMON_ADDRESS'] = '127.0.0.1:2000';
    env['AWS_XRAY_TRACING_NAME'] = scope.id;
    env['AWS_XRAY_CONTEXT_MISSING'] = 'LOG_ERROR';
    return env;
  }
  if (tracing.endpoint) env['OTEL_EXPORTER_OTLP_ENDPOINT'] = tracing.endpoint;
  env['OTEL_SERVICE_NAME'] = scope.id;
  env['OTEL_RESOURCE_ATTRIBUTES'] = `deployment.environment=${scope.infra.environment},service.namespace=${scope.infra.stack}`;
  if (tracing.sampleRate !== undefined) {
    env['OTEL_TRACES_SAMPLER'] = 'parentbased_traceidratio';
    env['OTEL_TRACES_SAMPLER_ARG'] = String(tracing.sampleRate);
  }
  return env;
}

/** Is X-Ray the stack's tracing (then the daemon runs beside the app)? */
export function tracesWithXray(scope: AwsScope): boolean {
  const t = scope.infra.observability.tracing;
  return t?.enabled === true && (t.provider ?? 'xray') === 'xray';
}

/** What the X-Ray daemon may do with the task's role (X-Ray's actions take no resource). */
const XRAY_STATEMENTS: IamStatement[] = [
  {
    Effect: 'Allow',
    Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    Resource: ['*'],
  },
];

/** The X-Ray daemon container, and the sampling rule of Observability's rate for this component's traces. */
function xrayDaemon(scope: AwsScope, logOptions: (prefix: string) => Record<string, string>): ContainerDefinition {
  const rate = scope.infra.observability.tracing?.sampleRate;
  if (rate !== undefined)
    new scope.aws.xray.SamplingRule(
      'tracing',
      {
        ruleName: scope.physicalName({ max: 32 }),
        priority: 100,
        fixedRate: rate,
        reservoirSize: 1,
        serviceName: scope.id,
        serviceType: '*',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
      scope.opts(),
    );
  return {
    name: 'xray-daemon',
    image: XRAY_IMAGE,
    // Tracing is not worth stopping the app for.
    essential: false,
    portMappings: [{ containerPort: 2000, protocol: 'udp' }],
    logConfiguration: { logDriver: 'awslogs', options: logOptions('xray') },
  };
}

/** What the task definition of a kind adds to the common one. */
export interface TaskOptions {
  /** Ports the container listens on. */
  ports?: number[];
  /** ECS's container health check (a command). */
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; gracePeriod?: number };
  /** Other essential containers (a CronJob's deadline). */
  sidecars?: ContainerDefinition[];
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(v)));

function healthCheckOf(h: NonNullable<TaskOptions['healthCheck']>): Record<string, unknown> {
  // ECS's ranges: interval 5-300 s, timeout 2-60 s, retries 1-10, start period 0-300 s.
  return {
    command: ['CMD', ...h.command],
    interval: clamp(h.interval ?? 30, 5, 300),
    timeout: clamp(h.timeout ?? 5, 2, 60),
    retries: clamp(h.retries ?? 3, 1, 10),
    ...(h.gracePeriod !== undefined ? { startPeriod: clamp(h.gracePeriod, 0, 300) } : {}),
  };
}

/** The task definition, its two roles and its log group. */
export function taskDefinition(scope: AwsScope, spec: ContainerSpec, options: TaskOptions = {}): Task {
  const { aws, pulumi } = scope;
  const image = spec.image;
  if (!image) throw new DeployerError('APPLY_FAILED', `${scope.id}: the aws target runs a container image: set spec.image`);
  const { cpu, memory } = fargateSize(scope, spec);
  const logGroup = scope.logGroup(`/ecs/${scope.baseName}`);
  const logOptions = (prefix: string): Record<string, string> => ({
    'awslogs-group': `/ecs/${scope.baseName}`,
    'awslogs-region': scope.infra.region,
    'awslogs-stream-prefix': prefix,
    // A slow CloudWatch never blocks the app's writes; a 25 MiB buffer absorbs bursts.
    mode: 'non-blocking',
    'max-buffer-size': '25m',
  });
  const { plain, secrets } = splitEnv(scope, spec.env);
  const environment = Object.entries({ ...observabilityEnv(scope), ...plain })
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  const app: ContainerDefinition = {
    name: scope.name,
    image,
    essential: true,
    ...(spec.args ? { command: spec.args } : {}),
    ...(options.ports?.length ? { portMappings: [...new Set(options.ports)].map((p) => ({ containerPort: p, protocol: 'tcp' })) } : {}),
    environment,
    secrets: secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom })),
    logConfiguration: { logDriver: 'awslogs', options: logOptions(scope.name) },
    // An init process forwards SIGTERM to the app and reaps zombies, whatever the image's PID 1.
    linuxParameters: { initProcessEnabled: true },
    ...(spec.stopTimeout !== undefined ? { stopTimeout: spec.stopTimeout } : {}),
    ...(options.healthCheck ? { healthCheck: healthCheckOf(options.healthCheck) } : {}),
  };
  const xray = tracesWithXray(scope);
  const sidecars = (options.sidecars ?? []).map((c) => ({
    ...c,
    logConfiguration: c['logConfiguration'] ?? { logDriver: 'awslogs', options: logOptions(String(c['name'])) },
  }));
  const containers = [app, ...sidecars, ...(xray ? [xrayDaemon(scope, logOptions)] : [])];
  const execution = taskExecutionRole(
    scope,
    image,
    logGroup,
    secrets.map((s) => s.arn),
  );
  const { role: taskRole, attached } = componentRole(scope, 'ecs-tasks.amazonaws.com', xray ? XRAY_STATEMENTS : []);
  const taskDefinition = new aws.ecs.TaskDefinition(
    'task',
    {
      family: scope.physicalName({ max: 255 }),
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: String(cpu),
      memory: String(memory),
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: spec.architecture === 'arm64' ? 'ARM64' : 'X86_64' },
      executionRoleArn: execution.role.arn,
      taskRoleArn: taskRole.arn,
      containerDefinitions: pulumi.jsonStringify(containers),
    },
    // A task started before its roles may act would fail to pull its image or read its secrets, or be refused what it was granted.
    scope.opts({ dependsOn: [execution.policy, ...attached] }),
  );
  return { taskDefinition, executionRole: execution.role, taskRole, logGroup, containerName: scope.name };
}

/**
 * The TaskExecutionRole: what ECS itself does to start the task, and nothing more: pull the
 * image (from its ECR repository; images elsewhere need no AWS permission), write the task's
 * log group, read the task's secrets.
 */
function taskExecutionRole(
  scope: AwsScope,
  image: string,
  logGroup: awsModule.cloudwatch.LogGroup,
  secretArns: Array<Output<string>>,
): { role: awsModule.iam.Role; policy: awsModule.iam.RolePolicy } {
  const { aws, pulumi } = scope;
  const role = new aws.iam.Role(
    'execution-role',
    {
      name: scope.physicalName({ max: 64, suffix: '-exec' }),
      description: `what ECS does to start ${scope.id}'s tasks: pull its image, write its logs, read its secrets (deployer)`,
      assumeRolePolicy: trustPolicy(['ecs-tasks.amazonaws.com']),
      ...(scope.infra.iam.permissionsBoundary ? { permissionsBoundary: scope.infra.iam.permissionsBoundary } : {}),
    },
    scope.opts(),
  );
  const repository = ecrRepositoryArn(image);
  const policy = pulumi.all([logGroup.arn, pulumi.all(secretArns)]).apply(([logArn, secrets]) =>
    policyDocument([
      // GetAuthorizationToken takes no resource: it only opens the registry; the pull is per repository.
      ...(repository
        ? [
            { Effect: 'Allow' as const, Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
            {
              Effect: 'Allow' as const,
              Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
              Resource: [repository],
            },
          ]
        : []),
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logArn}:log-stream:*`] },
      ...(secrets.length ? [{ Effect: 'Allow' as const, Action: ['secretsmanager:GetSecretValue'], Resource: [...new Set(secrets)] }] : []),
    ]),
  );
  return {
    role,
    policy: new aws.iam.RolePolicy('execution-role', { role: role.name, name: 'task-execution', policy }, scope.opts({ parent: role })),
  };
}
