/**
 * The aws target's translation of the edge's CloudFront distribution and API Gateway APIs (HTTP,
 * WebSocket, REST) in a small stack (test/fixtures/aws-edge) under Pulumi's runtime mocks:
 * origins and cache behaviours, log delivery, routes, integrations, authorizers, stages, the
 * permissions that let an API invoke its functions, alarms and outputs. Their golden files
 * (test/fixtures/aws-golden/edge/) are written by edge-load-balancers.test.ts; the assertions
 * below say what a reviewer must find there. The services, functions and instance the edge
 * routes to are of kinds other tests cover: they are given by their outputs.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  alarms,
  API_OUTPUTS,
  at,
  CLOUDFRONT_OUTPUTS,
  GIVEN,
  ofType,
  one,
  reads,
  set,
  translateEdge,
} from '../../../../test/helpers/aws-edge.js';
import type { TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { SECRET_SHOWN, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-edge stack in %s', (env) => {
  const production = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateEdge(env);
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
});
