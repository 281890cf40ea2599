/**
 * An HTTP or WebSocket API's stage and domain (api-gateway.ts makes the API): one stage,
 * deployed on every change, its access logs as one JSON line per request (or message) in a log
 * group of its own, its throttling, and a regional custom domain (TLS 1.2) mapped to it.
 */
import type * as awsModule from '@pulumi/aws';
import type { Output } from '@pulumi/pulumi';
import type { AwsScope } from '../scope.js';
import type { ApiSpec } from './api-gateway.js';
import { arnRegion, refuse } from './edge.js';

/** Access logs: one JSON line per request (WebSocket: per message), in the component's log group. */
function accessLogFormat(ws: boolean): string {
  const common = { requestId: '$context.requestId', ip: '$context.identity.sourceIp', requestTime: '$context.requestTime' };
  const fields = ws
    ? {
        ...common,
        eventType: '$context.eventType',
        routeKey: '$context.routeKey',
        connectionId: '$context.connectionId',
        status: '$context.status',
        integrationLatency: '$context.integrationLatency',
        error: '$context.error.message',
      }
    : {
        ...common,
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        status: '$context.status',
        protocol: '$context.protocol',
        responseLength: '$context.responseLength',
        integrationLatency: '$context.integrationLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
      };
  return JSON.stringify(fields);
}

/** The API's one stage, deployed on every change, with its access logs and throttling. */
export function makeStage(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  name: string,
  spec: ApiSpec,
  ws: boolean,
): awsModule.apigatewayv2.Stage {
  const logs = (spec.accessLogs ?? true) ? scope.logGroup(`/aws/apigateway/${scope.baseName}`, 'access-logs') : undefined;
  return new scope.aws.apigatewayv2.Stage(
    'stage',
    {
      apiId: api.id,
      name,
      autoDeploy: true,
      ...(logs ? { accessLogSettings: { destinationArn: logs.arn, format: accessLogFormat(ws) } } : {}),
      defaultRouteSettings: {
        // Metrics by route cost more: in production, or when Observability asks for detailed monitoring.
        detailedMetricsEnabled: scope.infra.observability.detailedMonitoring ?? scope.isProduction,
        ...(spec.throttling?.rateLimit !== undefined ? { throttlingRateLimit: spec.throttling.rateLimit } : {}),
        ...(spec.throttling?.burstLimit !== undefined ? { throttlingBurstLimit: spec.throttling.burstLimit } : {}),
      },
    },
    scope.opts({ parent: api }),
  );
}

/** The custom domain, regional (its certificate in the API's region), TLS 1.2, mapped to the stage under its base path. */
export function customDomain(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  stage: awsModule.apigatewayv2.Stage,
  domain: NonNullable<ApiSpec['domain']>,
): Output<string> {
  if (arnRegion(domain.certificate) !== scope.infra.region)
    throw refuse(scope, `a regional domain takes a certificate of its region (${scope.infra.region}); ${domain.certificate} is not`);
  const { aws } = scope;
  const made = new aws.apigatewayv2.DomainName(
    'domain',
    {
      domainName: domain.name,
      domainNameConfiguration: { certificateArn: domain.certificate, endpointType: 'REGIONAL', securityPolicy: 'TLS_1_2' },
    },
    scope.opts(),
  );
  const key = (domain.basePath ?? '').replace(/^\/+|\/+$/g, '');
  new aws.apigatewayv2.ApiMapping(
    'domain',
    { apiId: api.id, domainName: made.id, stage: stage.id, ...(key ? { apiMappingKey: key } : {}) },
    scope.opts({ parent: made }),
  );
  return made.domainName;
}
