/**
 * The aws target's translation of the edge kinds (ALB, NLB, CloudFront, APIGateway) in a small
 * stack (test/fixtures/aws-edge) under Pulumi's runtime mocks. Each edge component's resources
 * are kept as a golden file (test/fixtures/aws-golden/edge/); the assertions below say what a
 * reviewer must find there. The services, functions and instance the edge routes to are of
 * kinds other tests cover: they are given by their outputs.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import { resolveSpec } from '../../../plan/resolve.js';
import { AwsTarget } from '../index.js';
import { MOCK_SECRET_VALUE, runWithMocks, SECRET_SHOWN, type MockedResource, type MockedRun } from '../mocks.js';

const ACCOUNT = '123456789012';
const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'aws-edge');
const fn = (name: string) => {
  const arn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:edge-${name}`;
  return {
    arn,
    name: `edge-${name}`,
    invokeArn: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations`,
    qualifiedArn: `${arn}:1`,
  };
};
const service = (name: string) => ({
  url: `https://${name}.example.com`,
  port: 8080,
  arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/edge/${name}`,
  name,
  targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/edge-${name}/0123456789abcdef`,
});
/** Components of kinds other tests translate (Lambda, MicroService, EC2Instance), given by their outputs. */
const GIVEN = {
  'fn/orders': fn('orders'),
  'fn/auth': fn('auth'),
  'web/api': service('api'),
  'web/admin': service('admin'),
  'legacy/box': {
    id: 'i-0123456789abcdef0',
    arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
    privateIp: '10.40.16.10',
    publicIp: '',
    privateDns: 'ip-10-40-16-10.eu-west-1.compute.internal',
    publicDns: '',
  },
};
const EDGE = ['edge/lb', 'edge/nlb', 'edge/cdn', 'edge/api', 'edge/ws', 'edge/rest'];
const ALB_OUTPUTS = ['arn', 'dnsName', 'listenerArn', 'listenerArns', 'url', 'zoneId'];
const NLB_OUTPUTS = ['arn', 'dnsName', 'listenerArn', 'listenerArns', 'zoneId'];
const CLOUDFRONT_OUTPUTS = ['arn', 'domainName', 'hostedZoneId', 'id', 'url'];
const API_OUTPUTS = ['arn', 'executionArn', 'id', 'url'];

const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'edge', env, `${id.replace('/', '.')}.yaml`);
/** The resources of a type, by name (the runtime registers them in no fixed order). */
const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const one = (resources: MockedResource[], type: string, name: string): MockedResource => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
/** Each resource as `type name`, sorted: a kind's resource set. */
const set = (resources: MockedResource[]): string[] => resources.map((r) => `${r.type} ${r.name}`).sort();
const alarms = (resources: MockedResource[]) => ofType(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm');
/** A metric math alarm's queries, as its inputs hold them. */
interface Query {
  id: string;
  expression?: string;
  metric?: { metricName: string; period: number; stat: string; dimensions: Record<string, string> };
}
const queries = (alarm: MockedResource): Query[] => alarm.inputs['metricQueries'] as Query[];
/** What each query reads: its metric, or its expression. */
const reads = (alarm: MockedResource): string[] => queries(alarm).map((q) => q.metric?.metricName ?? q.expression!);
/** The value at a dotted path of a JSON value (`origins.0.domainName`), undefined where there is none. */
function at(value: unknown, path: string): unknown {
  if (path === '') return value;
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

/**
 * The error a component of the stack is refused with when translated again with fields of its
 * spec changed (undefined: removed), before references are resolved. Caught in the program, so
 * that the runtime finishes what was registered before it.
 */
async function refusal(stack: TranslatedStack, id: string, changes: Record<string, unknown>): Promise<string> {
  const c = stack.desired.components.get(id)!;
  const spec = structuredClone(c.spec);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const parent = at(spec, keys.slice(0, -1).join('.')) as Record<string, unknown>;
    if (value === undefined) delete parent[keys.at(-1)!];
    else parent[keys.at(-1)!] = value;
  }
  const resolved = resolveSpec(spec, (dep) => stack.runs.get(dep)?.outputs);
  const program = new AwsTarget().program(c, resolved.spec, { stack: stack.desired.name, environment: 'dev', stackDir: FIXTURE });
  let refused = 'nothing refused';
  await runWithMocks(async () => {
    try {
      return await program();
    } catch (e) {
      refused = (e as Error).message;
      return {};
    }
  }, 'eu-west-1');
  return refused;
}

describe.each(['dev', 'production'])('the aws-edge stack in %s', (env) => {
  const production = env === 'production';
  const topic = [`arn:aws:sns:eu-west-1:${ACCOUNT}:topic/edge-${env}-alerts`];
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateStack(FIXTURE, env, GIVEN);
  });

  it('keeps each edge component’s resources as its golden file', async () => {
    for (const id of EDGE) {
      const c = stack.desired.components.get(id)!;
      await expect(renderRun(`${id} (${c.kind}) on aws, environment ${env}`, run(id))).toMatchFileSnapshot(golden(env, id));
    }
  });

  it('makes an internet-facing ALB in public subnets behind its group, redirecting HTTP to HTTPS, 404 by default', () => {
    const r = run('edge/lb').resources;
    expect(set(r)).toEqual([
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-5xx',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-latency',
      ...(production ? ['aws:cloudwatch/metricAlarm:MetricAlarm alarm-lb-unhealthy'] : []),
      'aws:lb/listener:Listener listener-443',
      'aws:lb/listener:Listener listener-80',
      'aws:lb/listenerCertificate:ListenerCertificate listener-443-certificate-1',
      'aws:lb/listenerRule:ListenerRule rule-1',
      'aws:lb/listenerRule:ListenerRule rule-2',
      'aws:lb/loadBalancer:LoadBalancer load-balancer',
      'aws:lb/targetGroup:TargetGroup target-group-2',
      'aws:lb/targetGroupAttachment:TargetGroupAttachment target-group-2',
      ...(production ? ['aws:wafv2/webAclAssociation:WebAclAssociation waf'] : []),
      'pulumi:providers:aws aws',
    ]);
    expect(one(r, 'aws:lb/loadBalancer:LoadBalancer', 'load-balancer').inputs).toEqual({
      name: `edge-${env}-edge-lb`,
      loadBalancerType: 'application',
      internal: false,
      subnets: ['public-0-id', 'public-1-id'],
      securityGroups: ['sg-alb-public-id'],
      ipAddressType: 'ipv4',
      idleTimeout: 120,
      enableHttp2: true,
      dropInvalidHeaderFields: true,
      enableDeletionProtection: production,
      accessLogs: { bucket: `edge-${env}-data-logs`, enabled: true, prefix: 'alb' },
    });
    expect(one(r, 'aws:lb/listener:Listener', 'listener-80').inputs['defaultActions']).toEqual([
      { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } },
    ]);
    expect(one(r, 'aws:lb/listener:Listener', 'listener-443').inputs).toMatchObject({
      protocol: 'HTTPS',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000001',
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      defaultActions: [
        { type: 'fixed-response', fixedResponse: { contentType: 'text/plain', messageBody: 'Not Found', statusCode: '404' } },
      ],
    });
    expect(one(r, 'aws:lb/listenerCertificate:ListenerCertificate', 'listener-443-certificate-1').inputs['certificateArn']).toBe(
      'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000002',
    );
    if (production)
      expect(one(r, 'aws:wafv2/webAclAssociation:WebAclAssociation', 'waf').inputs['webAclArn']).toMatch(
        /^arn:aws:wafv2:eu-west-1:.*webacl\/edge-prod/,
      );
  });

  it('routes the ALB’s value targets itself, leaving the MicroService named by id to attach itself', () => {
    const r = run('edge/lb').resources;
    // web/admin's own target group, by its ARN, on its paths and host, at the priority written.
    expect(one(r, 'aws:lb/listenerRule:ListenerRule', 'rule-1').inputs).toMatchObject({
      priority: 10,
      conditions: [{ pathPattern: { values: ['/admin/*'] } }, { hostHeader: { values: ['admin.example.com'] } }],
      actions: [{ type: 'forward', targetGroupArn: GIVEN['web/admin'].targetGroupArn }],
    });
    // The instance, in a target group made for it: its port, health check, draining and stickiness.
    const group = one(r, 'aws:lb/targetGroup:TargetGroup', 'target-group-2');
    expect(group.inputs).toMatchObject({
      targetType: 'instance',
      port: 8080,
      protocol: 'HTTP',
      deregistrationDelay: 30,
      healthCheck: { path: '/status', interval: 15, healthyThreshold: 2, unhealthyThreshold: 3, matcher: '200-299' },
      stickiness: { type: 'lb_cookie', enabled: true, cookieDuration: 3600 },
    });
    expect(one(r, 'aws:lb/targetGroupAttachment:TargetGroupAttachment', 'target-group-2').inputs).toMatchObject({
      targetId: 'i-0123456789abcdef0',
      port: 8080,
    });
    expect(one(r, 'aws:lb/listenerRule:ListenerRule', 'rule-2').inputs).toMatchObject({
      priority: 300,
      conditions: [{ pathPattern: { values: ['/legacy/*'] } }],
    });
    // No target group or rule for web/api: it is the MicroService's to make.
    expect(JSON.stringify(r)).not.toContain('/api/*');
    const outputs = run('edge/lb').outputs;
    expect(Object.keys(outputs).sort()).toEqual(ALB_OUTPUTS);
    expect(outputs['url']).toBe(`https://edge-${env}-edge-lb.lb.eu-west-1.amazonaws.example`);
    expect(Object.keys(outputs['listenerArns'] as object).sort()).toEqual(['443', '80']);
    expect(outputs['listenerArn']).toBe(at(outputs, 'listenerArns.443'));
  });

  it('alarms on the ALB’s 5xx (its own and its targets’) over its requests, its p99 latency, and its own targets’ health', () => {
    const [five, latency, unhealthy] = alarms(run('edge/lb').resources);
    expect(reads(five!)).toEqual([
      'HTTPCode_ELB_5XX_Count',
      'HTTPCode_Target_5XX_Count',
      'RequestCount',
      '100 * (FILL(part0, 0) + FILL(part1, 0)) / whole',
    ]);
    expect(five!.inputs).toMatchObject({ threshold: 5, evaluationPeriods: 2, alarmActions: topic });
    expect(queries(five!)[0]!.metric).toMatchObject({ period: 300, stat: 'Sum', dimensions: { LoadBalancer: `edge-${env}-edge-lb` } });
    expect(latency!.inputs).toMatchObject({ metricName: 'TargetResponseTime', extendedStatistic: 'p99', threshold: 2 });
    expect(latency!.inputs['statistic']).toBeUndefined();
    if (production)
      expect(queries(unhealthy!).flatMap((q) => (q.metric ? [q.metric.dimensions['TargetGroup']] : []))).toEqual([
        'targetgroup/edge-admin/0123456789abcdef',
        `targetgroup/edge-production-edge-lb-tg2`,
      ]);
  });

  it('makes an NLB with a TLS listener and a target group per listener, its own group opening exactly its listeners', () => {
    const r = run('edge/nlb').resources;
    expect(set(r)).toEqual([
      ...(production ? ['aws:cloudwatch/metricAlarm:MetricAlarm alarm-lb-unhealthy'] : []),
      ...(production ? ['aws:ec2/eip:Eip eip-0', 'aws:ec2/eip:Eip eip-1'] : []),
      'aws:ec2/securityGroup:SecurityGroup security-group',
      'aws:lb/listener:Listener listener-443',
      'aws:lb/listener:Listener listener-7000',
      'aws:lb/loadBalancer:LoadBalancer load-balancer',
      'aws:lb/targetGroup:TargetGroup target-group-443',
      'aws:lb/targetGroup:TargetGroup target-group-7000',
      'aws:lb/targetGroupAttachment:TargetGroupAttachment target-group-443',
      'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule security-group-egress-tcp',
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule security-group-ingress-443-tcp',
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule security-group-ingress-7000-tcp',
      'pulumi:providers:aws aws',
    ]);
    const lb = one(r, 'aws:lb/loadBalancer:LoadBalancer', 'load-balancer').inputs;
    expect(lb).toMatchObject({
      loadBalancerType: 'network',
      internal: false,
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: production,
      securityGroups: ['security-group-id'],
      accessLogs: { bucket: `edge-${env}-data-logs`, enabled: true, prefix: 'nlb' },
    });
    // Production: one Elastic IP per public subnet, fixed addresses.
    if (production)
      expect(lb['subnetMappings']).toEqual([
        { subnetId: 'public-0-id', allocationId: 'eip-0-id' },
        { subnetId: 'public-1-id', allocationId: 'eip-1-id' },
      ]);
    else expect(lb['subnets']).toEqual(['public-0-id', 'public-1-id']);
    expect(
      ofType(r, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((x) => [x.inputs['fromPort'], x.inputs['cidrIpv4']]),
    ).toEqual([
      [443, '0.0.0.0/0'],
      [7000, '0.0.0.0/0'],
    ]);
    expect(one(r, 'aws:lb/listener:Listener', 'listener-443').inputs).toMatchObject({
      protocol: 'TLS',
      alpnPolicy: 'HTTP2Preferred',
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000003',
      defaultActions: [{ type: 'forward', targetGroupArn: `arn:aws:lb:eu-west-1:${ACCOUNT}:targetgroup/edge-${env}-edge-nlb-tg443` }],
    });
    // TLS ends at the NLB: TCP to the instance's address, with PROXY protocol and an HTTPS check.
    expect(one(r, 'aws:lb/targetGroup:TargetGroup', 'target-group-443').inputs).toMatchObject({
      targetType: 'ip',
      protocol: 'TCP',
      port: 8443,
      proxyProtocolV2: true,
      preserveClientIp: 'true',
      healthCheck: { protocol: 'HTTPS', path: '/status', interval: 10, port: 'traffic-port' },
    });
    expect(one(r, 'aws:lb/targetGroupAttachment:TargetGroupAttachment', 'target-group-443').inputs['targetId']).toBe('10.40.16.10');
    // web/api registers its tasks in the group its listener forwards to: nothing attached here.
    expect(one(r, 'aws:lb/targetGroup:TargetGroup', 'target-group-7000').inputs).toMatchObject({
      targetType: 'ip',
      protocol: 'TCP',
      port: 7000,
      preserveClientIp: 'false',
      deregistrationDelay: 60,
    });
    const outputs = run('edge/nlb').outputs;
    expect(Object.keys(outputs).sort()).toEqual(NLB_OUTPUTS);
    expect(outputs['listenerArn']).toBe(at(outputs, 'listenerArns.443'));
    expect(alarms(r).map((a) => a.name)).toEqual(production ? ['alarm-lb-unhealthy'] : []);
  });

  it('makes a CloudFront distribution reading its bucket through origin access control and its ALB over TLS 1.2', () => {
    const r = run('edge/cdn').resources;
    expect(set(r)).toEqual([
      'aws:cloudfront/distribution:Distribution distribution',
      'aws:cloudfront/originAccessControl:OriginAccessControl origin-access-control',
      'aws:cloudwatch/logDelivery:LogDelivery access-logs',
      'aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination access-logs',
      'aws:cloudwatch/logDeliverySource:LogDeliverySource access-logs',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-5xx',
      'pulumi:providers:aws aws',
      'pulumi:providers:aws us-east-1',
    ]);
    expect(one(r, 'aws:cloudfront/originAccessControl:OriginAccessControl', 'origin-access-control').inputs).toMatchObject({
      originAccessControlOriginType: 's3',
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    });
    const d = one(r, 'aws:cloudfront/distribution:Distribution', 'distribution').inputs;
    const [assets, api] = d['origins'] as unknown[];
    expect(assets).toEqual({
      originId: 'assets',
      domainName: 'bucket.s3.eu-west-1.amazonaws.example',
      originAccessControlId: 'origin-access-control-id',
      s3OriginConfig: { originAccessIdentity: '' },
    });
    expect(api).toEqual({
      originId: 'api',
      domainName: `edge-${env}-edge-lb.lb.eu-west-1.amazonaws.example`,
      customHeaders: [{ name: 'X-Origin-Verify', value: SECRET_SHOWN }],
      customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'] },
    });
    expect(d['defaultCacheBehavior']).toMatchObject({
      targetOriginId: 'assets',
      viewerProtocolPolicy: 'redirect-to-https',
      cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      compress: true,
      functionAssociations: [{ eventType: 'viewer-request', functionArn: 'arn:aws:cloudfront::123456789012:function/rewrite-index' }],
    });
    // The ALB's paths: not cached, everything of the viewer's but its Host passed on.
    expect(at(d, 'orderedCacheBehaviors.0')).toMatchObject({
      pathPattern: '/api/*',
      allowedMethods: ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
      cachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      originRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    expect(d).toMatchObject({
      defaultRootObject: 'index.html',
      httpVersion: 'http2and3',
      isIpv6Enabled: true,
      priceClass: production ? 'PriceClass_All' : 'PriceClass_100',
      restrictions: { geoRestriction: { restrictionType: 'blacklist', locations: ['KP'] } },
    });
    expect(d['customErrorResponses']).toHaveLength(2);
    if (production) {
      expect(d['aliases']).toEqual(['www.example.com', 'example.com']);
      expect(d['viewerCertificate']).toEqual({
        acmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000004',
        sslSupportMethod: 'sni-only',
        minimumProtocolVersion: 'TLSv1.2_2021',
      });
      expect(d['webAclId']).toMatch(/^arn:aws:wafv2:us-east-1:/);
      // A managed policy the table does not know is looked up by name.
      expect(at(d, 'orderedCacheBehaviors.1')).toMatchObject({
        pathPattern: '/static/*',
        originRequestPolicyId: '88a5eaf4-2fd4-4709-b370-b4c650ea3fcf',
      });
    } else expect(d['viewerCertificate']).toEqual({ cloudfrontDefaultCertificate: true });
    expect(Object.keys(run('edge/cdn').outputs).sort()).toEqual(CLOUDFRONT_OUTPUTS);
  });

  it('logs the distribution to the bucket through log delivery, and alarms on its 5xx rate in us-east-1 without the other region’s topic', () => {
    const r = run('edge/cdn').resources;
    expect(one(r, 'aws:cloudwatch/logDeliverySource:LogDeliverySource', 'access-logs').inputs).toMatchObject({ logType: 'ACCESS_LOGS' });
    expect(one(r, 'aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination', 'access-logs').inputs).toMatchObject({
      deliveryDestinationType: 'S3',
      deliveryDestinationConfiguration: { destinationResourceArn: 'arn:aws:s3:::bucket/cdn' },
    });
    expect(one(r, 'pulumi:providers:aws', 'us-east-1').inputs['region']).toBe('us-east-1');
    const [five] = alarms(r);
    expect(five!.inputs).toMatchObject({
      namespace: 'AWS/CloudFront',
      metricName: '5xxErrorRate',
      dimensions: { DistributionId: 'distribution-id', Region: 'Global' },
      statistic: 'Average',
    });
    expect(five!.inputs['alarmActions']).toBeUndefined();
  });

  it('makes an HTTP API: Lambda proxies, a VPC link to the ALB, JWT, Lambda and IAM authorization, CORS, a logged, throttled stage', () => {
    const r = run('edge/api').resources;
    expect(set(r)).toEqual([
      'aws:apigatewayv2/api:Api api',
      ...(production ? ['aws:apigatewayv2/apiMapping:ApiMapping domain'] : []),
      'aws:apigatewayv2/authorizer:Authorizer authorizer-partners',
      'aws:apigatewayv2/authorizer:Authorizer authorizer-users',
      ...(production ? ['aws:apigatewayv2/domainName:DomainName domain'] : []),
      'aws:apigatewayv2/integration:Integration integration-0',
      'aws:apigatewayv2/integration:Integration integration-1',
      'aws:apigatewayv2/integration:Integration integration-3',
      'aws:apigatewayv2/route:Route route-0',
      'aws:apigatewayv2/route:Route route-1',
      'aws:apigatewayv2/route:Route route-2',
      'aws:apigatewayv2/route:Route route-3',
      'aws:apigatewayv2/route:Route route-4',
      'aws:apigatewayv2/stage:Stage stage',
      'aws:apigatewayv2/vpcLink:VpcLink vpc-link',
      'aws:cloudwatch/logGroup:LogGroup access-logs',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-5xx',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-latency',
      'aws:ec2/securityGroup:SecurityGroup vpc-link',
      'aws:lambda/permission:Permission authorizer-partners',
      'aws:lambda/permission:Permission invoke-edge-orders',
      'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule vpc-link-egress',
      'pulumi:providers:aws aws',
    ]);
    expect(one(r, 'aws:apigatewayv2/api:Api', 'api').inputs).toMatchObject({
      protocolType: 'HTTP',
      corsConfiguration: { allowOrigins: ['https://www.example.com'], allowMethods: ['GET', 'POST'], allowCredentials: false, maxAge: 600 },
    });
    const routes = ofType(r, 'aws:apigatewayv2/route:Route').map((x) => [
      x.inputs['routeKey'],
      x.inputs['authorizationType'],
      x.inputs['target'],
    ]);
    expect(routes).toEqual([
      ['GET /orders/{id}', 'NONE', 'integrations/integration-0-id'],
      ['POST /orders', 'JWT', 'integrations/integration-1-id'],
      ['ANY /partners/{proxy+}', 'CUSTOM', 'integrations/integration-0-id'],
      ['ANY /legacy/{proxy+}', 'AWS_IAM', 'integrations/integration-3-id'],
      ['$default', 'NONE', 'integrations/integration-0-id'],
    ]);
    expect(one(r, 'aws:apigatewayv2/integration:Integration', 'integration-1').inputs).toMatchObject({
      integrationType: 'AWS_PROXY',
      integrationUri: GIVEN['fn/orders'].invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: 10000,
    });
    expect(one(r, 'aws:apigatewayv2/integration:Integration', 'integration-3').inputs).toMatchObject({
      integrationType: 'HTTP_PROXY',
      connectionType: 'VPC_LINK',
      connectionId: 'vpc-link-id',
      integrationUri: (run('edge/lb').outputs as Record<string, string>)['listenerArn'],
    });
    expect(one(r, 'aws:apigatewayv2/vpcLink:VpcLink', 'vpc-link').inputs).toMatchObject({
      subnetIds: ['private-0-id', 'private-1-id'],
      securityGroupIds: ['vpc-link-id'],
    });
    expect(one(r, 'aws:apigatewayv2/authorizer:Authorizer', 'authorizer-users').inputs).toMatchObject({
      authorizerType: 'JWT',
      identitySources: ['$request.header.Authorization'],
      jwtConfiguration: { issuer: 'https://auth.example.com/', audiences: ['orders-api'] },
    });
    expect(one(r, 'aws:apigatewayv2/authorizer:Authorizer', 'authorizer-partners').inputs).toMatchObject({
      authorizerType: 'REQUEST',
      authorizerUri: GIVEN['fn/auth'].invokeArn,
      identitySources: ['$request.header.X-Partner-Key'],
      authorizerPayloadFormatVersion: '2.0',
    });
    const stage = one(r, 'aws:apigatewayv2/stage:Stage', 'stage').inputs;
    expect(stage).toMatchObject({
      name: '$default',
      autoDeploy: true,
      accessLogSettings: { destinationArn: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:loggroup//aws/apigateway/edge-${env}-edge-api` },
      defaultRouteSettings: {
        detailedMetricsEnabled: production,
        throttlingRateLimit: production ? 1000 : 100,
        throttlingBurstLimit: production ? 2000 : 200,
      },
    });
    expect(one(r, 'aws:cloudwatch/logGroup:LogGroup', 'access-logs').inputs['retentionInDays']).toBe(30);
    if (production) {
      expect(one(r, 'aws:apigatewayv2/domainName:DomainName', 'domain').inputs).toEqual({
        domainName: 'api.example.com',
        domainNameConfiguration: {
          certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000005',
          endpointType: 'REGIONAL',
          securityPolicy: 'TLS_1_2',
        },
      });
      expect(one(r, 'aws:apigatewayv2/apiMapping:ApiMapping', 'domain').inputs).toMatchObject({ apiMappingKey: 'v1', stage: 'stage-id' });
    }
    const outputs = run('edge/api').outputs as Record<string, string>;
    expect(Object.keys(outputs).sort()).toEqual(API_OUTPUTS);
    expect(outputs['url']).toBe(`https://edge-${env}-edge-api.apigatewayv2.eu-west-1.amazonaws.example/`);
  });

  it('lets exactly this API invoke its functions: the routes’ on any of its routes, the authorizer’s as that authorizer', () => {
    const r = run('edge/api').resources;
    const execution = `arn:aws:execute-api:eu-west-1:${ACCOUNT}:edge-${env}-edge-api`;
    expect(ofType(r, 'aws:lambda/permission:Permission').map((p) => p.inputs)).toEqual([
      {
        action: 'lambda:InvokeFunction',
        function: GIVEN['fn/auth'].arn,
        principal: 'apigateway.amazonaws.com',
        sourceArn: `${execution}/authorizers/authorizer-partners-id`,
      },
      {
        action: 'lambda:InvokeFunction',
        function: GIVEN['fn/orders'].arn,
        principal: 'apigateway.amazonaws.com',
        sourceArn: `${execution}/*/*`,
      },
    ]);
    const [five, latency] = alarms(r);
    expect(reads(five!)).toEqual(['5xx', 'Count', '100 * (FILL(part0, 0)) / whole']);
    expect(latency!.inputs).toMatchObject({
      metricName: 'Latency',
      extendedStatistic: 'p99',
      dimensions: { ApiId: 'api-id', Stage: '$default' },
    });
  });

  it('makes a WebSocket API: routes by action, authorized on $connect by a Lambda, a stage named after the environment', () => {
    const r = run('edge/ws').resources;
    expect(one(r, 'aws:apigatewayv2/api:Api', 'api').inputs).toMatchObject({
      protocolType: 'WEBSOCKET',
      routeSelectionExpression: '$request.body.action',
    });
    expect(ofType(r, 'aws:apigatewayv2/route:Route').map((x) => [x.inputs['routeKey'], x.inputs['authorizationType']])).toEqual([
      ['$connect', 'CUSTOM'],
      ['$disconnect', 'NONE'],
      ['subscribe', 'NONE'],
      ['$default', 'NONE'],
    ]);
    const authorizer = one(r, 'aws:apigatewayv2/authorizer:Authorizer', 'authorizer-tickets').inputs;
    expect(authorizer).toMatchObject({ authorizerType: 'REQUEST', identitySources: ['route.request.querystring.ticket'] });
    expect(authorizer['authorizerPayloadFormatVersion']).toBeUndefined();
    const integration = ofType(r, 'aws:apigatewayv2/integration:Integration')[0]!.inputs;
    expect(integration).toMatchObject({ integrationType: 'AWS_PROXY', timeoutMilliseconds: 29000 });
    expect(integration['payloadFormatVersion']).toBeUndefined();
    expect(one(r, 'aws:apigatewayv2/stage:Stage', 'stage').inputs['name']).toBe(env);
    const [five] = alarms(r);
    expect(reads(five!)).toEqual(['IntegrationError', 'ExecutionError', 'MessageCount', '100 * (FILL(part0, 0) + FILL(part1, 0)) / whole']);
    expect(Object.keys(run('edge/ws').outputs).sort()).toEqual(API_OUTPUTS);
    expect(run('edge/ws').outputs['url']).toBe(`https://edge-${env}-edge-ws.apigatewayv2.eu-west-1.amazonaws.example/${env}`);
  });

  it('makes a REST API from one OpenAPI document, redeployed when it changes, with CORS preflights and a Lambda authorizer', () => {
    const r = run('edge/rest').resources;
    expect(set(r)).toEqual([
      'aws:apigateway/deployment:Deployment deployment',
      'aws:apigateway/methodSettings:MethodSettings stage',
      'aws:apigateway/restApi:RestApi api',
      'aws:apigateway/stage:Stage stage',
      'aws:cloudwatch/logGroup:LogGroup access-logs',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-5xx',
      'aws:cloudwatch/metricAlarm:MetricAlarm alarm-edge-latency',
      'aws:lambda/permission:Permission authorizer-partners',
      'aws:lambda/permission:Permission invoke-edge-orders',
      'pulumi:providers:aws aws',
    ]);
    const api = one(r, 'aws:apigateway/restApi:RestApi', 'api').inputs;
    expect(api).toMatchObject({ endpointConfiguration: { types: 'REGIONAL' }, putRestApiMode: 'overwrite', failOnWarnings: false });
    const doc = JSON.parse(String(api['body'])) as unknown;
    expect(Object.keys(at(doc, 'paths') as object)).toEqual(['/reports/{id}', '/reports']);
    expect(at(doc, 'paths./reports/{id}.get')).toMatchObject({
      parameters: [{ name: 'id', in: 'path', required: true }],
      security: [{ partners: [] }],
      'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: GIVEN['fn/orders'].invokeArn },
    });
    expect(at(doc, 'paths./reports.post.security')).toEqual([{ sigv4: [] }]);
    expect(at(doc, 'paths./reports.options.x-amazon-apigateway-integration.responses.default.responseParameters')).toMatchObject({
      'method.response.header.Access-Control-Allow-Origin': "'https://www.example.com'",
    });
    expect(at(doc, 'components.securitySchemes.partners.x-amazon-apigateway-authorizer')).toEqual({
      type: 'request',
      authorizerUri: GIVEN['fn/auth'].invokeArn,
      identitySource: 'method.request.header.Authorization',
      authorizerResultTtlInSeconds: 300,
    });
    expect(one(r, 'aws:apigateway/deployment:Deployment', 'deployment').inputs['triggers']).toEqual({
      body: createHash('sha256').update(String(api['body'])).digest('hex'),
    });
    expect(one(r, 'aws:apigateway/stage:Stage', 'stage').inputs).toMatchObject({ stageName: 'v1', deployment: 'deployment-id' });
    expect(one(r, 'aws:apigateway/methodSettings:MethodSettings', 'stage').inputs).toMatchObject({
      methodPath: '*/*',
      settings: { metricsEnabled: production },
    });
    expect(alarms(r)[0]!.inputs['metricQueries']).toMatchObject([
      { metric: { metricName: '5XXError', dimensions: { ApiName: `edge-${env}-edge-rest`, Stage: 'v1' } } },
      { metric: { metricName: 'Count' } },
      { expression: '100 * (FILL(part0, 0)) / whole' },
    ]);
    expect(Object.keys(run('edge/rest').outputs).sort()).toEqual(API_OUTPUTS);
  });

  it('tags every resource through the provider and puts no secret value in any input', () => {
    for (const id of EDGE) {
      const resources = run(id).resources;
      for (const provider of ofType(resources, 'pulumi:providers:aws'))
        expect(JSON.parse(String(provider.inputs['defaultTags'])).tags, id).toMatchObject({
          'deployer:component': id,
          'deployer:stack': 'edge',
          project: 'edge',
        });
      expect(JSON.stringify(resources), id).not.toContain(MOCK_SECRET_VALUE);
      expect(JSON.stringify(run(id).outputs), id).not.toContain(MOCK_SECRET_VALUE);
    }
    expect(readdirSync(FIXTURE)).not.toContain('.deployer');
  });

  it('refuses what AWS would refuse, or what would reach no one, saying what to write instead', async () => {
    if (production) return;
    const refused = (id: string, changes: Record<string, unknown>) => refusal(stack, id, changes);
    expect(await refused('edge/lb', { certificates: undefined })).toMatch(/HTTPS listener on 443 has no certificate/);
    expect(await refused('edge/lb', { wafAcl: 'arn:aws:wafv2:us-east-1:1:global/webacl/x/y' })).toMatch(
      /regional web ACL of its own region/,
    );
    expect(await refused('edge/lb', { 'network.subnets': 'private' })).toMatch(/internet-facing load balancer in private subnets/);
    expect(await refused('edge/nlb', { 'targets.1.listenerPort': 443 })).toMatch(/both go through listener 443/);
    expect(await refused('edge/nlb', { internal: true, elasticIps: true })).toMatch(/elasticIps is for an internet-facing one/);
    expect(await refused('edge/cdn', { aliases: ['www.example.com'] })).toMatch(/need a certificate/);
    expect(await refused('edge/cdn', { aliases: ['www.example.com'], certificate: 'arn:aws:acm:eu-west-1:1:certificate/x' })).toMatch(
      /us-east-1 only/,
    );
    expect(await refused('edge/api', { 'routes.0.target': { valueFrom: { component: 'web/api', output: 'arn' } } })).toMatch(
      /goes to an ECS service .*, which API Gateway cannot reach by itself/,
    );
    expect(await refused('edge/ws', { authorizers: [{ name: 'tickets', type: 'jwt', issuer: 'https://a', audience: ['x'] }] })).toMatch(
      /JWT authorizer, which a WebSocket API cannot have/,
    );
    expect(await refused('edge/rest', { 'routes.0.target': { valueFrom: { component: 'edge/lb', output: 'listenerArn' } } })).toMatch(
      /load balancer listener, which a REST API cannot reach/,
    );
    expect(await refused('edge/rest', { 'cors.allowOrigins': ['https://a.example', 'https://b.example'] })).toMatch(/one origin/);
  });
});
