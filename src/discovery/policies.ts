/**
 * Policies: the rules of Compliance and Security documents, checked against every component's
 * effective spec at validation. A violation is an error, or a warning when its rule says
 * `enforcement: advisory`. Rules may be limited to some kinds or environments.
 */

export type PolicyType =
  | 'requiredTags'
  | 'encryptionRequired'
  | 'noPublicBuckets'
  | 'allowedRegions'
  | 'allowedInstanceClasses'
  | 'minBackupRetention'
  | 'deletionProtection';

export interface PolicyRule {
  name: string;
  type: PolicyType;
  enforcement?: 'enforced' | 'advisory';
  kinds?: string[];
  environments?: string[];
  tags?: string[];
  regions?: string[];
  classes?: string[];
  days?: number;
}

/** Kinds that store data (encryption applies), keep state (deletion protection) or back up. */
export const DATA_KINDS = new Set([
  'S3',
  'RDS',
  'DynamoDB',
  'DocumentDB',
  'ElastiCacheRedis',
  'ElastiCacheMemcached',
  'AWSMemoryDB',
  'EFS',
  'EBS',
  'SQS',
  'SNS',
  'Kafka',
  'MSK',
]);
export const STATEFUL_KINDS = new Set([
  'RDS',
  'DynamoDB',
  'DocumentDB',
  'ElastiCacheRedis',
  'AWSMemoryDB',
  'EFS',
  'EBS',
  'S3',
  'Kafka',
  'MSK',
]);
export const BACKUP_KINDS = new Set(['RDS', 'DocumentDB', 'DynamoDB', 'EFS', 'ElastiCacheRedis', 'AWSMemoryDB']);
const SIZE_FIELDS = ['instanceClass', 'instanceType', 'nodeType'] as const;

export interface PolicySubject {
  id: string;
  kind: string;
  environment: string;
  spec: Record<string, unknown>;
  /** The region it deploys to (its own, else the defaults', else the stack's). */
  region: string | undefined;
}

export interface Violation {
  rule: PolicyRule;
  advisory: boolean;
  /** Pointer inside the component's spec that is at fault. */
  pointer: string;
  message: string;
}

function applies(rule: PolicyRule, s: PolicySubject): boolean {
  if (rule.kinds && !rule.kinds.includes(s.kind)) return false;
  if (rule.environments && !rule.environments.includes(s.environment)) return false;
  return true;
}

/** What is wrong with `s` under `rule`: [pointer, message] pairs. */
function check(rule: PolicyRule, s: PolicySubject): Array<[string, string]> {
  const spec = s.spec;
  switch (rule.type) {
    case 'requiredTags': {
      const tags = (spec['tags'] ?? {}) as Record<string, unknown>;
      const missing = (rule.tags ?? []).filter((t) => typeof tags[t] !== 'string' || tags[t] === '');
      return missing.length ? [['/tags', `is missing the required tag${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`]] : [];
    }
    case 'encryptionRequired': {
      if (!DATA_KINDS.has(s.kind)) return [];
      const enc = spec['encryption'] as { enabled?: boolean } | undefined;
      // S3 encrypts every object by default; the other stores must say so.
      const on = s.kind === 'S3' ? enc?.enabled !== false : enc?.enabled === true;
      return on ? [] : [['/encryption', 'must be encrypted at rest: set encryption.enabled: true']];
    }
    case 'noPublicBuckets':
      return s.kind === 'S3' && spec['publicAccess'] === true ? [['/publicAccess', 'is a public bucket: set publicAccess: false']] : [];
    case 'allowedRegions':
      return s.region !== undefined && !(rule.regions ?? []).includes(s.region)
        ? [['/region', `deploys to ${s.region}, which is not one of ${(rule.regions ?? []).join(', ')}`]]
        : [];
    case 'allowedInstanceClasses':
      return SIZE_FIELDS.filter((f) => typeof spec[f] === 'string' && !(rule.classes ?? []).includes(spec[f] as string)).map((f) => [
        `/${f}`,
        `${f} ${String(spec[f])} is not one of ${(rule.classes ?? []).join(', ')}`,
      ]);
    case 'minBackupRetention': {
      if (!BACKUP_KINDS.has(s.kind)) return [];
      const days = (spec['backup'] as { retentionDays?: number } | undefined)?.retentionDays ?? 0;
      return days < (rule.days ?? 0) ? [['/backup/retentionDays', `keeps backups ${days} day(s); at least ${rule.days} are required`]] : [];
    }
    case 'deletionProtection':
      return STATEFUL_KINDS.has(s.kind) && spec['deletionProtection'] !== true
        ? [['/deletionProtection', 'holds state: set deletionProtection: true']]
        : [];
    default:
      return [];
  }
}

export function evaluatePolicies(rules: PolicyRule[], subjects: PolicySubject[]): Array<Violation & { subject: PolicySubject }> {
  const out: Array<Violation & { subject: PolicySubject }> = [];
  for (const s of subjects) {
    for (const rule of rules) {
      if (!applies(rule, s)) continue;
      for (const [pointer, what] of check(rule, s)) {
        out.push({
          subject: s,
          rule,
          advisory: rule.enforcement === 'advisory',
          pointer,
          message: `policy "${rule.name}" (${rule.type}): ${s.id} ${what}`,
        });
      }
    }
  }
  return out;
}
