/**
 * What a component on the `aws` target is given of the stack around it: discovery
 * (discovery/aws-platform.ts) writes it into the component's spec under `_stack`, and the AWS
 * target reads it there once references are resolved. Kept in the spec on purpose: its
 * `valueFrom`s (the platform's VPC and subnets, a load balancer's listeners, a queue's ARN in an
 * IAM policy) are then dependencies, resolved and hashed like any other, and a change of a
 * Security, Observability or Networking document that concerns a component is a change of it,
 * shown by the plan and deployed.
 *
 * The stack's shared resources (VPC, subnets, NAT, endpoints, flow logs, DNS zone, security
 * groups, KMS keys, the ECS cluster, the alert topic) are one component of their own,
 * `stack/platform` (kind Platform), made from the stack's Networking, Security and
 * Observability documents.
 */
import type { ValueFrom } from './documents.js';

/** The spec key discovery writes a component's StackInfra under. */
export const STACK_INFRA_KEY = '_stack';

/** The reserved service of the stack's shared resources on the aws target. */
export const PLATFORM_SERVICE = 'stack';
/** The component of the stack's shared resources on the aws target. */
export const PLATFORM_ID = `${PLATFORM_SERVICE}/platform`;
/** Its kind (not a kind a document may have: discovery makes it). */
export const PLATFORM_KIND = 'Platform';

/** The outputs of stack/platform, each a value a component may be given. */
export const PLATFORM_OUTPUTS = [
  'vpcId',
  'subnetIds',
  'securityGroupIds',
  'kmsKeyArns',
  'clusterArn',
  'clusterName',
  'alertTopicArn',
  'privateZoneId',
] as const;
export type PlatformOutput = (typeof PLATFORM_OUTPUTS)[number];

/** Kinds placed in subnets of the stack's VPC (a Lambda only when its spec.network says so; an API Gateway for a VPC link). */
export const VPC_KINDS: ReadonlySet<string> = new Set([
  'MicroService',
  'Worker',
  'CronJob',
  'Lambda',
  'EC2Instance',
  'RDS',
  'DocumentDB',
  'ElastiCacheRedis',
  'ElastiCacheMemcached',
  'AWSMemoryDB',
  'EFS',
  'MSK',
  'Kafka',
  'ALB',
  'NLB',
  'APIGateway',
]);
/** Kinds whose components run processes (a CronJob on its schedule): `deployer restart`, `stop`, `start` and `logs` apply to them. */
export const PROCESS_KINDS: ReadonlySet<string> = new Set(['MicroService', 'Worker', 'CronJob']);
/** Kinds that run on the stack's ECS cluster. */
export const CONTAINER_KINDS: ReadonlySet<string> = new Set(['MicroService', 'Worker', 'CronJob']);

/** A value as discovery writes it (a valueFrom) or as the target reads it (resolved). */
export type Given<T> = T | { valueFrom: ValueFrom };

/** A subnet tier of the stack's Networking. */
export type SubnetTier = 'public' | 'private' | 'isolated';

/** What a component may do with another component it references (its IAM grant). */
export type Access = 'use' | 'consume';

/** An IAM statement (Security's policies, as written there). */
export interface PolicyStatement {
  sid?: string;
  effect?: 'Allow' | 'Deny';
  actions: string[];
  resources: Array<Given<string>>;
  conditions?: Record<string, unknown>;
}

/** A role of Security's `iam.roles` attached to this component, its named policies given whole. */
export interface AttachedRole {
  name: string;
  description?: string;
  assumedBy: string[];
  managedPolicies?: string[];
  permissionsBoundary?: string;
  maxSessionDuration?: number;
  policies: Array<{ name: string; description?: string; statements: PolicyStatement[] }>;
}

/** An alert of Observability that applies to this component (its `components`, `kinds` and `environments`). */
export interface ComponentAlarm {
  name: string;
  description?: string;
  metric: string;
  statistic?: string;
  comparison?: string;
  threshold: number;
  period?: string;
  evaluationPeriods?: number;
  severity?: string;
  rollback?: boolean;
  /** metric custom: the CloudWatch metric. */
  customMetric?: { namespace: string; name: string; dimensions?: Record<string, string> };
  /** Channels notified (all configured ones when absent). */
  notify?: string[];
}

/** A load balancer this component attaches itself to (it was named in its `targets`). */
export interface LoadBalancerAttachment {
  /** The load balancer's component id and kind. */
  loadBalancer: string;
  kind: 'ALB' | 'NLB';
  /** Its listeners' ARNs by port (its `listenerArns` output). */
  listenerArns: Given<Record<string, string>>;
  /** Its URL (its `url` output for an ALB, `dnsName` for an NLB): where the component is reached. */
  url: Given<string>;
  /** The listeners it has, by port, with their protocol (to pick the default one). */
  listeners: Array<{ port: number; protocol: string }>;
  /** The target entry that named this component, without the id: paths, hosts, port, priority, health check ... */
  route: Record<string, unknown>;
}

/** A component this one references, and the IAM access that gives it. */
export interface Grant {
  component: string;
  kind: string;
  access: Access;
  /** The referenced component's ARN (its `arn` output, `streamArn` for a table's stream). */
  arn: Given<string>;
  /** The KMS key it is encrypted with, as its spec names it (a key of the stack by name or alias, an ARN ...). */
  kmsKeyId?: string;
}

/** What another component of the stack does with an S3 bucket, which the bucket's policy allows. */
export interface BucketAccess {
  /** The component (`edge/lb`). */
  component: string;
  /** alb-logs: an ALB's access logs (written by Elastic Load Balancing); log-delivery: an NLB's or CloudFront's logs (written by CloudWatch Logs' delivery); cloudfront-read: a distribution's origin. */
  access: 'alb-logs' | 'log-delivery' | 'cloudfront-read';
  /** Where in the bucket its logs go. */
  prefix?: string;
}

/** Everything a component on the aws target is given of the stack. */
export interface StackInfra {
  stack: string;
  environment: string;
  /** The region it deploys to: its own, else InfraDefaults', else the Stack's. */
  region: string;
  /** stack/platform's outputs this component's kind uses (absent: the stack has no such resource). */
  platform: Partial<Record<PlatformOutput, Given<unknown>>>;
  /** Observability as it applies to this component. */
  observability: {
    logRetentionDays?: number;
    logFormat?: string;
    logLevel?: string;
    tracing?: { enabled?: boolean; provider?: string; sampleRate?: number };
    containerInsights?: boolean;
    detailedMonitoring?: boolean;
    alarms: ComponentAlarm[];
  };
  /** Security's roles attached to this component, and the boundary every role deployer makes gets. */
  iam: { roles: AttachedRole[]; permissionsBoundary?: string };
  /** What it references, and the access that gives it (least privilege, generated). */
  grants: Grant[];
  /** Load balancers that route to it. */
  attachments: LoadBalancerAttachment[];
  /** An S3 bucket: what the other components do with it (its policy allows it). */
  bucketAccess?: BucketAccess[];
}
