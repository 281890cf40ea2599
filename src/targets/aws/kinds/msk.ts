/**
 * MSK on AWS: an Amazon MSK provisioned cluster — its brokers spread evenly over two or three
 * of the component's subnets (private unless its network says otherwise), behind its security
 * groups; a configuration of their server properties (replicated, with topics created on
 * purpose only, unless the spec says otherwise); EBS storage per broker, with provisioned
 * throughput and storage autoscaling when asked; encryption at rest (the AWS key, or a key of
 * the stack by name) and in transit (TLS between brokers always, between clients and brokers
 * as `transitEncryption` says); client authentication by IAM (the stack's grants give
 * components access), SASL/SCRAM (users are secrets in Secrets Manager, associated to the
 * cluster), mutual TLS (a private CA made for the cluster) or none; broker logs to a log group;
 * enhanced monitoring; its topics. The Kafka kind is made the same way (kafka.ts). Protected
 * from deletion in production and when the spec asks (MSK has no protection of its own).
 * Alarms: CPU, per broker.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, protectedStore } from './compute-messaging.js';

export interface KafkaTopic {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  retentionHours?: number;
  cleanupPolicy?: string;
  config?: Record<string, string | number | boolean>;
}

/** A cluster as both kinds describe it, in MSK's terms. */
export interface ClusterSettings {
  kafkaVersion: string;
  nodeType: string;
  brokers: number;
  volumeGb: number;
  throughputMibps?: number;
  autoscalingMaxGb?: number;
  clientBroker: 'TLS' | 'TLS_PLAINTEXT' | 'PLAINTEXT';
  auth: { iam: boolean; scram: boolean; tls: boolean; unauthenticated: boolean };
  /** Secrets of the SCRAM users (ARNs), associated to the cluster. */
  scramSecrets: Array<Output<string>>;
  serverProperties: Record<string, string | number | boolean>;
  monitoring: 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION';
  topics: KafkaTopic[];
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
}

interface MSKSpec {
  kafkaVersion?: string;
  nodeType?: string;
  brokers?: number;
  storage?: { volumeGb: number; provisionedThroughputMibps?: number; autoscalingMaxGb?: number };
  transitEncryption?: 'tls' | 'tls-plaintext' | 'plaintext';
  authentication?: { iam?: boolean; scram?: boolean; tls?: boolean; unauthenticated?: boolean };
  configuration?: Record<string, string | number | boolean>;
  monitoring?: string;
  topics?: KafkaTopic[];
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
}

/** MSK's recommended version when the spec names none. */
export const DEFAULT_KAFKA_VERSION = '3.8.x';

export function translateMSK(scope: AwsScope): Outputs {
  const spec = scope.spec as MSKSpec;
  const cluster = mskCluster(scope, {
    kafkaVersion: spec.kafkaVersion ?? DEFAULT_KAFKA_VERSION,
    nodeType: spec.nodeType ?? (scope.isProduction ? 'kafka.m7g.large' : 'kafka.t3.small'),
    brokers: spec.brokers ?? 3,
    volumeGb: spec.storage?.volumeGb ?? 100,
    ...(spec.storage?.provisionedThroughputMibps ? { throughputMibps: spec.storage.provisionedThroughputMibps } : {}),
    ...(spec.storage?.autoscalingMaxGb ? { autoscalingMaxGb: spec.storage.autoscalingMaxGb } : {}),
    clientBroker: (spec.transitEncryption ?? 'tls').toUpperCase().replace('-', '_') as ClusterSettings['clientBroker'],
    auth: {
      iam: spec.authentication?.iam ?? true,
      scram: spec.authentication?.scram ?? false,
      tls: spec.authentication?.tls ?? false,
      unauthenticated: spec.authentication?.unauthenticated ?? false,
    },
    // SCRAM users are secrets named AmazonMSK_*, associated where they are made (the kind names none).
    scramSecrets: [],
    serverProperties: spec.configuration ?? {},
    monitoring: monitoringOf(scope, spec.monitoring),
    topics: spec.topics ?? [],
    ...(spec.encryption ? { encryption: spec.encryption } : {}),
    ...(spec.deletionProtection !== undefined ? { deletionProtection: spec.deletionProtection } : {}),
  });
  return {
    arn: cluster.arn,
    name: cluster.clusterName,
    bootstrapBrokers: cluster.bootstrapBrokers,
    bootstrapBrokersTls: cluster.bootstrapBrokersTls,
    bootstrapBrokersSaslIam: cluster.bootstrapBrokersSaslIam,
    bootstrapBrokersSaslScram: cluster.bootstrapBrokersSaslScram,
  };
}

/** The spec's monitoring level, else per broker where Observability asks for detailed monitoring. */
export function monitoringOf(scope: AwsScope, level: string | undefined): ClusterSettings['monitoring'] {
  const written = level ?? (scope.infra.observability.detailedMonitoring ? 'per-broker' : 'default');
  return written.toUpperCase().replaceAll('-', '_') as ClusterSettings['monitoring'];
}

/** The subnets the brokers are spread over: two or three (one per zone), a number `brokers` is a multiple of. */
function brokerSubnets(scope: AwsScope, brokers: number): string[] {
  const subnets = scope.subnetIds();
  const zones = [3, 2].find((n) => n <= subnets.length && brokers % n === 0);
  if (zones === undefined)
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: MSK spreads its brokers evenly over 2 or 3 subnets, and ${brokers} broker(s) over ${subnets.length} subnet(s) cannot be`,
      {
        details: [`set brokers to a multiple of ${subnets.length >= 3 ? '2 or 3' : '2'}, or place the cluster in other subnets`],
      },
    );
  return subnets.slice(0, zones);
}

/** The brokers' server.properties: replicated, topics made on purpose only, under the spec's own. */
function serverProperties(settings: ClusterSettings): string {
  const replicas = Math.min(3, settings.brokers);
  const props: Record<string, string | number | boolean> = {
    'auto.create.topics.enable': false,
    'default.replication.factor': replicas,
    'min.insync.replicas': Math.max(1, replicas - 1),
    ...settings.serverProperties,
  };
  return Object.entries(props)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n');
}

export function mskCluster(scope: AwsScope, settings: ClusterSettings): awsModule.msk.Cluster {
  const { aws } = scope;
  const subnets = brokerSubnets(scope, settings.brokers);
  const groups = scope.securityGroupIds();
  if (groups.length === 0)
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: a Kafka cluster is reached through its security groups, and the spec names none`,
      {
        details: ['set network.securityGroups: groups of the stack letting its clients in on the brokers ports (9092-9098)'],
      },
    );
  if (settings.encryption?.enabled === false)
    scope.pulumi.log.warn(
      `${scope.id}: MSK encrypts its brokers' storage always: encryption.enabled false cannot be honoured (the AWS key is used)`,
    );
  const name = scope.physicalName({ max: 64 });
  const configuration = new aws.msk.Configuration(
    'configuration',
    { name, description: `${scope.id} (deployer)`, kafkaVersions: [settings.kafkaVersion], serverProperties: serverProperties(settings) },
    scope.opts(),
  );
  const logs = scope.logGroup(`/aws/msk/${name}`);
  const kmsKey = settings.encryption?.kmsKeyId ? scope.kmsKey(settings.encryption.kmsKeyId) : undefined;
  const a = settings.auth;
  const throughput = settings.throughputMibps;
  const cluster = new aws.msk.Cluster(
    'cluster',
    {
      clusterName: name,
      kafkaVersion: settings.kafkaVersion,
      numberOfBrokerNodes: settings.brokers,
      brokerNodeGroupInfo: {
        instanceType: settings.nodeType,
        clientSubnets: subnets,
        securityGroups: groups,
        storageInfo: {
          ebsStorageInfo: {
            volumeSize: settings.volumeGb,
            ...(throughput ? { provisionedThroughput: { enabled: true, volumeThroughput: throughput } } : {}),
          },
        },
      },
      encryptionInfo: {
        ...(kmsKey ? { encryptionAtRestKmsKeyArn: kmsKey } : {}),
        encryptionInTransit: { clientBroker: settings.clientBroker, inCluster: true },
      },
      clientAuthentication: {
        ...(a.iam || a.scram ? { sasl: { iam: a.iam, scram: a.scram } } : {}),
        ...(a.tls ? { tls: { certificateAuthorityArns: [clientCa(scope)] } } : {}),
        unauthenticated: a.unauthenticated,
      },
      configurationInfo: { arn: configuration.arn, revision: configuration.latestRevision },
      enhancedMonitoring: settings.monitoring,
      loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logs.name } } },
    },
    scope.opts({
      ...(protectedStore(scope, settings.deletionProtection) ? { protect: true } : {}),
      // Grown by storage autoscaling, the volume size is no longer the spec's to set.
      ...(settings.autoscalingMaxGb ? { ignoreChanges: ['brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize'] } : {}),
    }),
  );
  const child = scope.opts({ parent: cluster });
  if (settings.scramSecrets.length > 0)
    new aws.msk.ScramSecretAssociation('scram-users', { clusterArn: cluster.arn, secretArnLists: settings.scramSecrets }, child);
  settings.topics.forEach((t) => new aws.msk.Topic(`topic-${t.name}`, topicArgs(cluster.arn, t, settings.brokers), child));
  if (settings.autoscalingMaxGb) storageAutoscaling(scope, cluster, settings.autoscalingMaxGb);
  for (let broker = 1; broker <= settings.brokers; broker++)
    alarmsFor(
      scope,
      {
        cpu: {
          namespace: 'AWS/Kafka',
          metricName: 'CpuUser',
          dimensions: { 'Cluster Name': cluster.clusterName, 'Broker ID': String(broker) },
          statistic: 'Average',
        },
      },
      `broker-${broker}`,
    );
  return cluster;
}

function topicArgs(clusterArn: Input<string>, t: KafkaTopic, brokers: number): awsModule.msk.TopicArgs {
  const configs: Record<string, string> = {
    'cleanup.policy': t.cleanupPolicy ?? 'delete',
    ...(t.retentionHours !== undefined ? { 'retention.ms': t.retentionHours === -1 ? '-1' : String(t.retentionHours * 3_600_000) } : {}),
    ...Object.fromEntries(Object.entries(t.config ?? {}).map(([k, v]) => [k, String(v)])),
  };
  return {
    clusterArn,
    name: t.name,
    partitionCount: t.partitions ?? 3,
    replicationFactor: t.replicationFactor ?? Math.min(3, brokers),
    configs: JSON.stringify(configs),
  };
}

/** Storage grows by itself when a broker's volume is 60% full, up to `maxGb`. */
function storageAutoscaling(scope: AwsScope, cluster: awsModule.msk.Cluster, maxGb: number): void {
  const target = new scope.aws.appautoscaling.Target(
    'storage-autoscaling',
    {
      serviceNamespace: 'kafka',
      scalableDimension: 'kafka:broker-storage:VolumeSize',
      resourceId: cluster.arn,
      minCapacity: 1,
      maxCapacity: maxGb,
    },
    scope.opts({ parent: cluster }),
  );
  new scope.aws.appautoscaling.Policy(
    'storage-autoscaling',
    {
      name: scope.physicalName({ max: 255, suffix: '-storage' }),
      policyType: 'TargetTrackingScaling',
      serviceNamespace: target.serviceNamespace,
      scalableDimension: target.scalableDimension,
      resourceId: target.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: 60,
        predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' },
        disableScaleIn: true,
      },
    },
    scope.opts({ parent: target }),
  );
}

/**
 * The private CA the clients' certificates are issued by (mutual TLS): a root CA, its own
 * certificate (ten years) installed. Clients' certificates are issued from it by the teams
 * running them (acm-pca issue-certificate). AWS bills a private CA monthly.
 */
function clientCa(scope: AwsScope): Output<string> {
  const { aws } = scope;
  const ca = new aws.acmpca.CertificateAuthority(
    'client-ca',
    {
      type: 'ROOT',
      certificateAuthorityConfiguration: {
        keyAlgorithm: 'RSA_4096',
        signingAlgorithm: 'SHA512WITHRSA',
        subject: { commonName: `${scope.baseName} clients`.slice(0, 64) },
      },
      permanentDeletionTimeInDays: 30,
    },
    scope.opts(),
  );
  const certificate = new aws.acmpca.Certificate(
    'client-ca',
    {
      certificateAuthorityArn: ca.arn,
      certificateSigningRequest: ca.certificateSigningRequest,
      signingAlgorithm: 'SHA512WITHRSA',
      templateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
      validity: { type: 'YEARS', value: '10' },
    },
    scope.opts({ parent: ca }),
  );
  const installed = new aws.acmpca.CertificateAuthorityCertificate(
    'client-ca',
    { certificateAuthorityArn: ca.arn, certificate: certificate.certificate, certificateChain: certificate.certificateChain },
    scope.opts({ parent: ca }),
  );
  // The cluster takes the CA once its certificate is installed.
  return installed.certificateAuthorityArn;
}
