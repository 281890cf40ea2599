/**
 * The aws target's translation of a small stack (test/fixtures/aws-basic: its platform, a bucket
 * and queues) under Pulumi's runtime mocks, which run the real program and record every
 * resource with its inputs. Each component's resources are kept as a golden file
 * (test/fixtures/aws-golden/basic/); the assertions below say what a reviewer must find there.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import { SECRET_SHOWN, type MockedResource } from '../mocks.js';

const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'basic', env, `${id.replace('/', '.')}.yaml`);
/** The resources of a type, by name (the runtime registers them in no fixed order). */
const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));

describe.each(['dev', 'production'])('the aws-basic stack in %s', (env) => {
  let stack: TranslatedStack;
  beforeAll(async () => {
    stack = await translateStack(path.join(repoRoot, 'test', 'fixtures', 'aws-basic'), env);
  });

  it('keeps each component’s resources as its golden file', async () => {
    for (const [id, run] of stack.runs) {
      const c = stack.desired.components.get(id)!;
      await expect(renderRun(`${id} (${c.kind}) on aws, environment ${env}`, run)).toMatchFileSnapshot(golden(env, id));
    }
  });

  it('makes the platform: VPC, subnets by tier with their routes, one NAT, endpoints, flow logs, private zone, groups, key, cluster-free, alerts', () => {
    const r = stack.runs.get('stack/platform')!.resources;
    expect(ofType(r, 'aws:ec2/vpc:Vpc')[0]!.inputs).toMatchObject({ cidrBlock: '10.30.0.0/16', enableDnsHostnames: true });
    expect(ofType(r, 'aws:ec2/subnet:Subnet').map((s) => [s.name, s.inputs['availabilityZone']])).toEqual([
      ['isolated-0', 'eu-west-1a'],
      ['isolated-1', 'eu-west-1b'],
      ['private-0', 'eu-west-1a'],
      ['private-1', 'eu-west-1b'],
      ['public-0', 'eu-west-1a'],
      ['public-1', 'eu-west-1b'],
    ]);
    expect(ofType(r, 'aws:ec2/natGateway:NatGateway')).toHaveLength(1);
    // The isolated subnets have a route table with no route out.
    expect(ofType(r, 'aws:ec2/route:Route').map((x) => x.name)).toEqual(['private-default', 'public-default']);
    expect(ofType(r, 'aws:ec2/vpcEndpoint:VpcEndpoint').map((e) => [e.inputs['serviceName'], e.inputs['vpcEndpointType']])).toEqual([
      ['com.amazonaws.eu-west-1.logs', 'Interface'],
      ['com.amazonaws.eu-west-1.s3', 'Gateway'],
    ]);
    expect(ofType(r, 'aws:ec2/flowLog:FlowLog')[0]!.inputs).toMatchObject({
      trafficType: 'REJECT',
      logDestinationType: 'cloud-watch-logs',
    });
    expect(ofType(r, 'aws:route53/zone:Zone')[0]!.inputs['name']).toBe('basic.internal');
    expect(ofType(r, 'aws:kms/alias:Alias')[0]!.inputs['name']).toBe(`alias/basic-${env}-data`);
    expect(ofType(r, 'aws:kms/key:Key')[0]!.inputs['enableKeyRotation']).toBe(true);
    // A group that says nothing of egress lets everything out; one that does, only that.
    const egress = ofType(r, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').map((e) => [
      e.name,
      e.inputs['ipProtocol'],
      e.inputs['cidrIpv4'],
    ]);
    expect(egress).toEqual([
      ['sg-db-egress-0-0', 'udp', '10.30.0.2/32'],
      ['sg-web-egress-0-0', '-1', '0.0.0.0/0'],
    ]);
    const fromWeb = ofType(r, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').find((i) => i.name === 'sg-db-ingress-0-0')!;
    expect(fromWeb.inputs).toMatchObject({ fromPort: 5432, toPort: 5432, ipProtocol: 'tcp', referencedSecurityGroupId: 'sg-web-id' });
    // No cluster: the stack runs no containers.
    expect(ofType(r, 'aws:ecs/cluster:Cluster')).toEqual([]);
    expect(Object.keys(stack.runs.get('stack/platform')!.outputs).sort()).toEqual([
      'alertTopicArn',
      'kmsKeyArns',
      'privateZoneId',
      'securityGroupIds',
      'subnetIds',
      'vpcId',
    ]);
  });

  it('sends alerts to e-mail and, through a function that reads the webhook from Secrets Manager, to the webhook', () => {
    const r = stack.runs.get('stack/platform')!.resources;
    expect(ofType(r, 'aws:sns/topicSubscription:TopicSubscription').map((s) => s.inputs['protocol'])).toEqual(['email', 'lambda']);
    const fn = ofType(r, 'aws:lambda/function:Function')[0]!;
    expect(fn.inputs['environment']).toEqual({
      variables: {
        ENVIRONMENT: env,
        SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic/alerts-signing-key-AbCdEf',
        STACK: 'basic',
        WEBHOOK_URL_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic/alerts-webhook-url-AbCdEf',
      },
    });
    const read = ofType(r, 'aws:iam/rolePolicy:RolePolicy').find((p) => p.name === 'alerts-forwarder-secrets')!;
    expect(JSON.parse(String(read.inputs['policy'])).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic/alerts-webhook-url-AbCdEf',
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic/alerts-signing-key-AbCdEf',
        ],
      },
    ]);
  });

  it('makes a private, TLS-only bucket encrypted with the stack’s key, with its versioning, lifecycle and CORS', () => {
    const r = stack.runs.get('data/files')!.resources;
    expect(ofType(r, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0]!.inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const sse = ofType(r, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')[0]!;
    const rule = (sse.inputs['rules'] as Array<{ applyServerSideEncryptionByDefault: Record<string, string> }>)[0]!;
    expect(rule.applyServerSideEncryptionByDefault['sseAlgorithm']).toBe('aws:kms');
    // dev names its key by alias; the key is the platform's there, a literal alias elsewhere.
    expect(rule.applyServerSideEncryptionByDefault['kmsMasterKeyId']).toBe(
      env === 'dev' ? 'arn:aws:kms:eu-west-1:123456789012:key/kms-data' : 'alias/basic-dev-data',
    );
    expect(ofType(r, 'aws:s3/bucketVersioning:BucketVersioning')).toHaveLength(1);
    expect(ofType(r, 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration')[0]!.inputs['rules']).toHaveLength(2);
    const policy = JSON.parse(String(ofType(r, 'aws:s3/bucketPolicy:BucketPolicy')[0]!.inputs['policy']));
    expect(policy.Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(Object.keys(stack.runs.get('data/files')!.outputs).sort()).toEqual([
      'arn',
      'bucketName',
      'domainName',
      'regionalDomainName',
      'url',
    ]);
  });

  it('makes a queue with its dead-letter queue, an alarm per alert that applies here, and none for one it cannot measure', () => {
    const r = stack.runs.get('jobs/orders')!.resources;
    const [dlq, queue] = ofType(r, 'aws:sqs/queue:Queue'); // dead-letter, queue
    expect(dlq!.inputs).toMatchObject({ name: `basic-${env}-jobs-orders-dlq`, messageRetentionSeconds: 1209600 });
    expect(JSON.parse(String(queue!.inputs['redrivePolicy']))).toEqual({
      deadLetterTargetArn: dlq!.inputs['arn'] ?? expect.any(String),
      maxReceiveCount: 5,
    });
    expect(queue!.inputs['kmsMasterKeyId']).toBe('arn:aws:kms:eu-west-1:123456789012:key/kms-data');
    const alarms = ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => [
      a.name,
      a.inputs['metricName'],
      a.inputs['alarmActions'],
    ]);
    const topic = ['arn:aws:sns:eu-west-1:123456789012:topic/basic-' + env + '-alerts'];
    expect(alarms).toEqual([
      ['alarm-orders-backlog', 'ApproximateAgeOfOldestMessage', topic],
      ...(env === 'production' ? [['alarm-orders-dead-letters', 'ApproximateNumberOfMessagesVisible', topic]] : []),
    ]);
    // The bucket cannot be measured by `cpu`: no alarm, and no failure.
    expect(ofType(stack.runs.get('data/files')!.resources, 'aws:cloudwatch/metricAlarm:MetricAlarm')).toEqual([]);
    // A queue naming another as its dead-letter queue makes none of its own.
    const audit = stack.runs.get('jobs/audit')!;
    expect(ofType(audit.resources, 'aws:sqs/queue:Queue')).toHaveLength(1);
    expect(audit.outputs['deadLetterArn']).toBe(stack.runs.get('jobs/orders')!.outputs['arn']);
  });

  it('tags every resource through the provider and puts no secret value in any input', () => {
    for (const [id, run] of stack.runs) {
      const provider = ofType(run.resources, 'pulumi:providers:aws')[0]!;
      expect(JSON.parse(String(provider.inputs['defaultTags'])).tags, id).toMatchObject({
        'deployer:component': id,
        'deployer:stack': 'basic',
      });
      expect(JSON.stringify(run.resources), id).not.toContain(SECRET_SHOWN);
    }
    expect(readdirSync(path.join(repoRoot, 'test', 'fixtures', 'aws-basic'))).not.toContain('.deployer');
  });
});
