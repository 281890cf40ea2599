/**
 * Running an aws program without AWS: Pulumi's runtime mocks (`pulumi.runtime.setMocks`) run the
 * real program and record every resource it registers, with its inputs, its parent and what it
 * depends on, answering each with plausible outputs (an ARN, an id, an endpoint) and each data
 * source (the account, a secret's ARN) with a fixed answer. What the tests check the
 * translation with, and what `deployer plan --resources` shows a reviewer before anyone has
 * credentials. The runtime's mocks are global to the process: runs are made one at a time.
 */
import type * as pulumiModule from '@pulumi/pulumi';
import { Mutex } from '../../util/mutex.js';

/** One resource the program registered. */
export interface MockedResource {
  /** Its Pulumi type token (`aws:sqs/queue:Queue`). */
  type: string;
  name: string;
  /** `type::name` of its parent, when it is not the stack. */
  parent?: string;
  /** `type::name` of what it depends on (dependsOn and the resources its inputs come from). */
  dependsOn: string[];
  /** Its inputs as the provider would get them; a secret shows as SECRET_SHOWN. */
  inputs: Record<string, unknown>;
  /** Pulumi's protect option: a destroy refuses it. */
  protect?: true;
  /** Properties whose changes Pulumi leaves alone (ignoreChanges). */
  ignoreChanges?: string[];
}

export interface MockedRun {
  resources: MockedResource[];
  /** What the program returned, resolved. */
  outputs: Record<string, unknown>;
}

/** How a secret input appears in a mocked resource: never its value. */
export const SECRET_SHOWN = '[secret]';
/** What the mocks say a secret holds (followed by `:<secret id>`): a test finds it in no resource input. */
export const MOCK_SECRET_VALUE = 'mock-secret-value';
/** The account the mocks answer as. */
export const MOCK_ACCOUNT = '123456789012';

const oneAtATime = new Mutex();

/** Pulumi's marker of a secret value in serialized properties. */
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const SIG_KEY = '4dabf18193072939515e22adb298388d';

/** `value` with every secret replaced by SECRET_SHOWN. */
function hideSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideSecrets);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (o[SIG_KEY] === SECRET_SIG) return SECRET_SHOWN;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hideSecrets(v)]));
}

/** `urn:pulumi:stack::project::a$b::name` -> `b::name`. */
function shortUrn(urn: string): string {
  const parts = urn.split('::');
  return `${parts[2]!.split('$').pop()}::${parts[3]}`;
}

/** The outputs a real resource would have beside its inputs, made up from its type and name. */
function madeUpOutputs(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  const service = type.split(':')[1]!.split('/')[0]!;
  const physical = typeof inputs['name'] === 'string' ? inputs['name'] : name;
  const host = `${physical}.${service}.${region}.amazonaws.example`;
  return {
    id: `${physical}-id`,
    arn: `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${type.split(':').pop()!.toLowerCase()}/${physical}`,
    name: physical,
    dnsName: host,
    // A database cluster's endpoint is a host name; an instance's, host and port.
    endpoint: /^aws:(rds|docdb)\/cluster:Cluster$/.test(type) ? host : `${host}:5432`,
    clusterEndpoints: [{ address: `clustercfg.${host}`, port: inputs['port'] ?? 6379 }],
    version: '1',
    latestRevision: 1,
    certificateSigningRequest: '-----BEGIN CERTIFICATE REQUEST-----\nMOCK\n-----END CERTIFICATE REQUEST-----',
    certificate: '-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----',
    certificateChain: '',
    address: host,
    url: `https://${host}`,
    zoneId: 'Z0MOCKZONE',
    hostedZoneId: 'Z0MOCKZONE',
    domainName: host,
    invokeArn: `arn:aws:apigateway:${region}:lambda:path/functions/${physical}/invocations`,
    qualifiedArn: `arn:aws:lambda:${region}:${MOCK_ACCOUNT}:function:${physical}:1`,
    executionArn: `arn:aws:execute-api:${region}:${MOCK_ACCOUNT}:${physical}`,
    apiEndpoint: `https://${host}`,
    functionUrl: `https://${physical}.lambda-url.${region}.on.aws/`,
    bucket: inputs['bucket'] ?? physical,
    bucketDomainName: `${physical}.s3.amazonaws.example`,
    bucketRegionalDomainName: `${physical}.s3.${region}.amazonaws.example`,
    streamArn: `arn:aws:dynamodb:${region}:${MOCK_ACCOUNT}:table/${physical}/stream/2026-01-01T00:00:00.000`,
    primaryEndpointAddress: host,
    readerEndpointAddress: `ro.${host}`,
    configurationEndpointAddress: `cfg.${host}`,
    clusterAddress: host,
    readerEndpoint: `ro.${host}`,
    bootstrapBrokers: `b-1.${host}:9092`,
    bootstrapBrokersTls: `b-1.${host}:9094`,
    bootstrapBrokersSaslIam: `b-1.${host}:9098`,
    bootstrapBrokersSaslScram: `b-1.${host}:9096`,
    privateIp: '10.0.0.10',
    publicIp: '203.0.113.10',
    privateDns: `ip-10-0-0-10.${region}.compute.internal`,
    publicDns: `ec2-203-0-113-10.${region}.compute.amazonaws.example`,
    availabilityZone: `${region}a`,
    ...inputs,
  };
}

/** Answers of the data sources programs use. */
function callAnswer(token: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  if (token === 'aws:index/getCallerIdentity:getCallerIdentity')
    return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/deployer`, userId: 'AIDAMOCK', id: MOCK_ACCOUNT };
  if (token === 'aws:index/getRegion:getRegion') return { name: region, region, id: region };
  if (token === 'aws:index/getPartition:getPartition') return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws' };
  if (token === 'aws:secretsmanager/getSecret:getSecret') {
    const name = String(inputs['name'] ?? inputs['arn']);
    return { ...inputs, name, arn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:${name}-AbCdEf`, id: name };
  }
  if (token === 'aws:secretsmanager/getSecretVersion:getSecretVersion') {
    // A value only a test can know: none may reach a resource input unless marked secret.
    const id = String(inputs['secretId']);
    return {
      ...inputs,
      arn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:${id}-AbCdEf`,
      secretString: `${MOCK_SECRET_VALUE}:${id}`,
      id,
    };
  }
  // A VPC's address range (a group's rules to and from the VPC) and a listener's protocol (HTTPS, as a load balancer's default listener is).
  if (token === 'aws:ec2/getVpc:getVpc') return { ...inputs, cidrBlock: '10.0.0.0/16', id: String(inputs['id'] ?? 'vpc-mock') };
  if (token === 'aws:lb/getListener:getListener')
    return { ...inputs, protocol: 'HTTPS', port: 443, id: String(inputs['arn'] ?? 'listener') };
  if (token === 'aws:elb/getServiceAccount:getServiceAccount')
    return { ...inputs, arn: 'arn:aws:iam::156460612806:root', id: '156460612806' };
  if (token === 'aws:ssm/getParameter:getParameter') return { ...inputs, value: 'ami-0123456789abcdef1', id: String(inputs['name']) };
  if (token === 'aws:ec2/getInstance:getInstance' || token === 'aws:ec2/getSubnet:getSubnet')
    return { ...inputs, availabilityZone: `${region}a`, id: String(inputs['instanceId'] ?? inputs['id']) };
  if (token === 'aws:ec2/getAvailabilityZones:getAvailabilityZones')
    return { names: [`${region}a`, `${region}b`, `${region}c`], zoneIds: ['az1', 'az2', 'az3'], id: region };
  if (token.startsWith('aws:ec2/getAmi')) return { ...inputs, id: 'ami-0123456789abcdef0', imageId: 'ami-0123456789abcdef0' };
  return { ...inputs, id: `${token.split(':').pop()}-answer` };
}

/**
 * Runs `program` under the mocks as the engine would run it (inside the stack resource) and
 * returns the resources it registered, in the order it registered them (the stack itself
 * left out), and its outputs resolved.
 */
export async function runWithMocks(program: () => Promise<Record<string, unknown> | void>, region = 'eu-west-1'): Promise<MockedRun> {
  return oneAtATime.run(async () => {
    const pulumi: typeof pulumiModule = await import('@pulumi/pulumi');
    const registered: MockedResource[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => ({ id: `${a.name}-id`, state: madeUpOutputs(a.type, a.name, a.inputs as Record<string, unknown>, region) }),
        call: (a) => callAnswer(a.token, a.inputs as Record<string, unknown>, region),
      },
      'deployer',
      'mocked',
      false,
    );
    type Request = {
      getType(): string;
      getName(): string;
      getParent(): string;
      getDependenciesList(): string[];
      getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
      getProtect(): boolean;
      getIgnorechangesList(): string[];
    };
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      const parent = req.getParent();
      registered.push({
        type: req.getType(),
        name: req.getName(),
        ...(parent && !parent.includes('::pulumi:pulumi:Stack::') ? { parent: shortUrn(parent) } : {}),
        dependsOn: req.getDependenciesList().map(shortUrn).sort(),
        inputs: hideSecrets(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
        ...(req.getProtect() ? { protect: true as const } : {}),
        ...(req.getIgnorechangesList().length > 0 ? { ignoreChanges: [...req.getIgnorechangesList()].sort() } : {}),
      });
      return register(req, cb);
    };
    const returned = await pulumi.runtime.runInPulumiStack(async () => (await program()) ?? {});
    const outputs = await new Promise<Record<string, unknown>>((resolve) =>
      pulumi.output(returned ?? {}).apply((o) => resolve(o as Record<string, unknown>)),
    );
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return {
      resources: registered.filter((r) => r.type !== 'pulumi:pulumi:Stack'),
      outputs: hideSecrets(outputs) as Record<string, unknown>,
    };
  });
}
