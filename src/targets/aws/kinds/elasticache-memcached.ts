/**
 * ElastiCacheMemcached on AWS: an ElastiCache Memcached cluster in the isolated subnets (its
 * subnet group), with a parameter group of the engine's family holding the spec's parameters,
 * TLS between clients and nodes unless the spec turns it off (Memcached 1.6.12 and later), and in
 * production two nodes spread over zones unless the spec says. Memcached keeps nothing at rest, so
 * there is nothing to encrypt there, back up or protect from deletion. Alarms on the cluster: cpu,
 * evictions, connections (Memcached has no memory percentage to measure).
 */
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import { addStoreAlarms, applyImmediately, metricsOf, parameterList, placement, type DataSpec } from './data-common.js';

interface MemcachedSpec extends DataSpec {
  engineVersion?: string;
  nodeType?: string;
  nodes?: number;
  azMode?: 'single-az' | 'cross-az';
  port?: number;
  transitEncryption?: boolean;
}

/** Pinned, so that a plan does not change when AWS's default does. */
const DEFAULT_VERSION = '1.6.22';

/** Does this version speak TLS (1.6.12 and later)? */
function hasTls(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 12)));
}

export function translateElastiCacheMemcached(scope: AwsScope): Outputs {
  const { aws, pulumi } = scope;
  const spec = scope.spec as MemcachedSpec;
  const version = spec.engineVersion ?? DEFAULT_VERSION;
  const nodes = spec.nodes ?? (scope.isProduction ? 2 : 1);
  const azMode = spec.azMode ?? (nodes > 1 && scope.isProduction ? 'cross-az' : 'single-az');
  const transit = spec.transitEncryption ?? true;
  if (azMode === 'cross-az' && nodes < 2)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: cross-az spreads nodes over zones: it needs nodes: 2 or more`);
  if (transit && !hasTls(version))
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: Memcached ${version} has no TLS (1.6.12 and later have): upgrade, or set transitEncryption: false`,
    );
  if (spec.encryption?.enabled) pulumi.log.warn(`${scope.id}: Memcached keeps nothing at rest; spec.encryption has nothing to encrypt`);
  const clusterId = scope.physicalName({ max: 50, lowercase: true });
  const port = spec.port ?? 11211;
  const place = placement(scope);
  const [major = '1', minor = '6'] = version.split('.');
  const subnetGroup = new aws.elasticache.SubnetGroup(
    'subnets',
    { name: clusterId, description: `${scope.id} (deployer)`, subnetIds: place.subnetIds },
    scope.opts(),
  );
  const parameterGroup = new aws.elasticache.ParameterGroup(
    'parameters',
    {
      name: clusterId,
      family: `memcached${major}.${minor}`,
      description: `${scope.id} (deployer)`,
      ...(spec.parameters ? { parameters: parameterList(spec.parameters) } : {}),
    },
    scope.opts(),
  );
  const cluster = new aws.elasticache.Cluster(
    'cluster',
    {
      clusterId,
      engine: 'memcached',
      engineVersion: version,
      nodeType: spec.nodeType ?? (scope.isProduction ? 'cache.m7g.large' : 'cache.t4g.micro'),
      numCacheNodes: nodes,
      azMode,
      port,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: place.securityGroupIds,
      parameterGroupName: parameterGroup.name,
      transitEncryptionEnabled: transit,
      ...(spec.maintenanceWindow ? { maintenanceWindow: spec.maintenanceWindow } : {}),
      applyImmediately: applyImmediately(scope),
    },
    scope.opts(),
  );
  const m = metricsOf('AWS/ElastiCache', { CacheClusterId: cluster.clusterId });
  addStoreAlarms(scope, [
    { catalog: { cpu: m('CPUUtilization'), evictions: m('Evictions', 'Sum'), connections: m('CurrConnections', 'Maximum') } },
  ]);
  return {
    configurationEndpoint: pulumi.interpolate`${cluster.clusterAddress}:${port}`,
    address: cluster.clusterAddress,
    port,
    arn: cluster.arn,
    id: cluster.clusterId,
  };
}
