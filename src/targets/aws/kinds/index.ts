/**
 * Which translation makes each kind on AWS, loaded when a component of that kind is deployed
 * (a translation imports only the @pulumi/aws modules it uses). One file per kind.
 */
import type { DeployedKind } from '../../../model/documents.js';
import type { AwsScope, Outputs } from '../scope.js';

/** A kind's translation: its resources made in the scope, its outputs returned. */
export type Translate = (scope: AwsScope) => Outputs | Promise<Outputs>;

export const TRANSLATIONS: Partial<Record<DeployedKind, () => Promise<Translate>>> = {
  Platform: async () => (await import('./platform.js')).translatePlatform,
  S3: async () => (await import('./s3.js')).translateS3,
  SQS: async () => (await import('./sqs.js')).translateSQS,
  MicroService: async () => (await import('./microservice.js')).translateMicroService,
  Worker: async () => (await import('./worker.js')).translateWorker,
  CronJob: async () => (await import('./cronjob.js')).translateCronJob,
  Lambda: async () => (await import('./lambda.js')).translateLambda,
  EC2Instance: async () => (await import('./ec2-instance.js')).translateEC2Instance,
  RDS: async () => (await import('./rds.js')).translateRDS,
  DynamoDB: async () => (await import('./dynamodb.js')).translateDynamoDB,
  DocumentDB: async () => (await import('./documentdb.js')).translateDocumentDB,
  ElastiCacheRedis: async () => (await import('./elasticache-redis.js')).translateElastiCacheRedis,
  ElastiCacheMemcached: async () => (await import('./elasticache-memcached.js')).translateElastiCacheMemcached,
  AWSMemoryDB: async () => (await import('./memorydb.js')).translateAWSMemoryDB,
  EFS: async () => (await import('./efs.js')).translateEFS,
  EBS: async () => (await import('./ebs.js')).translateEBS,
  SNS: async () => (await import('./sns.js')).translateSNS,
  Kafka: async () => (await import('./kafka.js')).translateKafka,
  MSK: async () => (await import('./msk.js')).translateMSK,
  EventBridge: async () => (await import('./eventbridge.js')).translateEventBridge,
  ALB: async () => (await import('./alb.js')).translateALB,
  NLB: async () => (await import('./nlb.js')).translateNLB,
  CloudFront: async () => (await import('./cloudfront.js')).translateCloudFront,
  APIGateway: async () => (await import('./api-gateway.js')).translateAPIGateway,
};
