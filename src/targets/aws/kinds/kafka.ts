/**
 * Kafka on AWS: an Amazon MSK provisioned cluster, made as MSK's (msk.ts). The kind describes a
 * Kafka deployer runs itself; on AWS the managed service runs it instead, so that the brokers'
 * patching, replacement, storage and KRaft quorum are AWS's. What it says maps to MSK: the
 * version (MSK's patch line of it), the brokers, their size (the smallest Graviton node type
 * with at least the CPU and memory asked; a t3.small outside production when that is enough),
 * storage per broker, TLS, authentication (SCRAM users' passwords are secrets associated to the
 * cluster, mutual TLS a private CA, none), server properties, topics. What MSK cannot do is
 * refused (another image) or said (a volume type: MSK's are general purpose SSD).
 * `bootstrapBrokersTls` is the TLS listener clients authenticate on: SCRAM's when SCRAM is the
 * mechanism, as it is a self-run Kafka's SASL_SSL listener. `arn` is the cluster's.
 */
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import { secretArn, type SecretRef } from '../secrets.js';
import { DEFAULT_KAFKA_VERSION, monitoringOf, mskCluster, type ClusterSettings, type KafkaTopic } from './msk.js';

interface KafkaSpec {
  version?: string;
  image?: string;
  brokers?: number;
  cpu?: number;
  memory?: number;
  storage?: { sizeGb: number; type?: string };
  tls?: boolean;
  authentication?: { mechanism?: 'none' | 'scram-sha-512' | 'mtls'; users?: Array<{ name: string; password: SecretRef }> };
  config?: Record<string, string | number | boolean>;
  topics?: KafkaTopic[];
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
}

/** Graviton (m7g) broker sizes: name, vCPUs, GiB. */
const M7G: Array<[string, number, number]> = [
  ['large', 2, 8],
  ['xlarge', 4, 16],
  ['2xlarge', 8, 32],
  ['4xlarge', 16, 64],
  ['8xlarge', 32, 128],
  ['12xlarge', 48, 192],
  ['16xlarge', 64, 256],
];

export function translateKafka(scope: AwsScope): Outputs {
  const spec = scope.spec as KafkaSpec;
  if (spec.image)
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: Kafka on aws runs on Amazon MSK, which runs its own build of Apache Kafka, not the image ${spec.image}`,
      {
        details: ['remove image (spec.version chooses the version)'],
      },
    );
  if (spec.storage?.type && !['gp3', 'gp2'].includes(spec.storage.type))
    scope.pulumi.log.warn(
      `${scope.id}: MSK brokers store on general purpose SSD volumes: storage.type ${spec.storage.type} cannot be honoured`,
    );
  const tls = spec.tls ?? true;
  const mechanism = spec.authentication?.mechanism ?? 'scram-sha-512';
  if (mechanism !== 'none' && !tls)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: MSK authenticates clients (${mechanism}) over TLS only, and spec.tls is false`, {
      details: ['set tls: true, or authentication.mechanism: none'],
    });
  const users = mechanism === 'scram-sha-512' ? (spec.authentication?.users ?? []) : [];
  users.forEach((u, i) => checkScramSecret(scope, u.password, i));
  const cluster = mskCluster(scope, {
    kafkaVersion: mskVersion(spec.version),
    nodeType: nodeTypeFor(scope, spec.cpu, spec.memory),
    brokers: spec.brokers ?? 3,
    volumeGb: spec.storage?.sizeGb ?? 100,
    clientBroker: tls ? 'TLS' : 'PLAINTEXT',
    auth: { iam: false, scram: mechanism === 'scram-sha-512', tls: mechanism === 'mtls', unauthenticated: mechanism === 'none' },
    // MSK reads the whole secret ({"username", "password"}): a #jsonKey does not apply.
    scramSecrets: users.map((u) => secretArn(scope, u.password)),
    serverProperties: spec.config ?? {},
    monitoring: monitoringOf(scope, undefined),
    topics: spec.topics ?? [],
    ...(spec.encryption ? { encryption: spec.encryption } : {}),
    ...(spec.deletionProtection !== undefined ? { deletionProtection: spec.deletionProtection } : {}),
  } satisfies ClusterSettings);
  return {
    bootstrapBrokers: cluster.bootstrapBrokers,
    bootstrapBrokersTls: mechanism === 'scram-sha-512' ? cluster.bootstrapBrokersSaslScram : cluster.bootstrapBrokersTls,
    arn: cluster.arn,
  };
}

/** MSK offers a patch line (3.7.x, 3.8.x ...) from 3.7 on, exact versions before. */
export function mskVersion(version: string | undefined): string {
  if (!version) return DEFAULT_KAFKA_VERSION;
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (!m) return version;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 3 || (major === 3 && minor >= 7) ? `${major}.${minor}.x` : version;
}

/** The broker node type for `cpu` units and `memory` MiB a broker is to have. */
export function nodeTypeFor(scope: AwsScope, cpu: number | undefined, memory: number | undefined): string {
  const vcpus = (cpu ?? 0) / 1024;
  const gib = (memory ?? 0) / 1024;
  // Burstable brokers are for trying things out: never in production.
  if (!scope.isProduction && vcpus <= 2 && gib <= 2) return 'kafka.t3.small';
  const size = M7G.find(([, c, m]) => c >= vcpus && m >= gib);
  if (!size)
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: no MSK broker has ${vcpus} vCPUs and ${gib} GiB (the largest: kafka.m7g.16xlarge, 64 vCPUs, 256 GiB)`,
    );
  return `kafka.m7g.${size[0]}`;
}

/** MSK takes SCRAM users from secrets whose name starts with AmazonMSK_ (and encrypted with a key of the account's own). */
function checkScramSecret(scope: AwsScope, ref: SecretRef, i: number): void {
  const key = ref.secretRef.key.split('#')[0]!;
  const name = key.startsWith('arn:') ? (key.split(':secret:')[1] ?? '') : key;
  if (!name.startsWith('AmazonMSK_'))
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: authentication.users[${i}]: MSK reads SCRAM users from secrets named AmazonMSK_..., not ${key}`,
      {
        details: [
          'store the user as {"username", "password"} in a secret named AmazonMSK_<something>, encrypted with a KMS key of the account',
        ],
      },
    );
}
