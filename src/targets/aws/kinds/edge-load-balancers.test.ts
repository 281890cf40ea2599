/**
 * The aws target's translation of the edge's load balancers (ALB, NLB) in a small stack
 * (test/fixtures/aws-edge) under Pulumi's runtime mocks: listeners, rules, target groups, alarms
 * and outputs. Each edge component's resources (ALB, NLB, CloudFront, APIGateway) are kept as a
 * golden file (test/fixtures/aws-golden/edge/), every resource tagged and no secret shown, and
 * what AWS would refuse is refused, here for all of them; the assertions below say what a
 * reviewer must find there. The services, functions and instance the edge routes to are of kinds
 * other tests cover: they are given by their outputs. CloudFront and API Gateway are in
 * edge-cloudfront-api.test.ts.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  ALB_OUTPUTS,
  alarms,
  at,
  EDGE,
  FIXTURE,
  GIVEN,
  golden,
  NLB_OUTPUTS,
  ofType,
  one,
  queries,
  reads,
  refusal,
  set,
  translateEdge,
} from '../../../../test/helpers/aws-edge.js';
import { renderRun, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { MOCK_SECRET_VALUE, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-edge stack in %s', (env) => {
  const production = env === 'production';
  const topic = [`arn:aws:sns:eu-west-1:${ACCOUNT}:topic/edge-${env}-alerts`];
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateEdge(env);
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
