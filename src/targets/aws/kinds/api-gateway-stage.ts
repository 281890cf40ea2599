/**
 * An HTTP or WebSocket API's stage and domain (api-gateway.ts makes the API): one stage,
 * deployed on every change, its access logs as one JSON line per request (or message) in a log
 * group of its own, its throttling, and a regional custom domain (TLS 1.2) mapped to it. A REST
 * API (api-gateway-rest.ts) shares its request log fields and the domain's region check.
 */
import type * as awsModule from '@pulumi/aws';
import type { Output } from '@pulumi/pulumi';
import type { AwsScope } from '../scope.js';
import type { ApiSpec } from './api-gateway.js';
import { arnRegion, refuse } from './edge.js';

const REQUEST_FIELDS = { requestId: '$context.requestId', ip: '$context.identity.sourceIp', requestTime: '$context.requestTime' };

/** An access log line of an HTTP request (REST and HTTP APIs): `route` names what was called, by the API's own field. */
export function httpAccessLogFormat(route: Record<string, string>): string {
  return JSON.stringify({
    ...REQUEST_FIELDS,
    httpMethod: '$context.httpMethod',
    ...route,
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  });
}

/** Access logs: one JSON line per request (WebSocket: per message), in the component's log group. */
function accessLogFormat(ws: boolean): string {
  if (!ws) return httpAccessLogFormat({ routeKey: '$context.routeKey' });
  return JSON.stringify({
    ...REQUEST_FIELDS,
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    integrationLatency: '$context.integrationLatency',
    error: '$context.error.message',
  });
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

/** A regional custom domain's base path (no slashes around it), once its certificate is found to be of the API's region. */
export function regionalBasePath(scope: AwsScope, domain: NonNullable<ApiSpec['domain']>): string {
  if (arnRegion(domain.certificate) !== scope.infra.region)
    throw refuse(scope, `a regional domain takes a certificate of its region (${scope.infra.region}); ${domain.certificate} is not`);
  return (domain.basePath ?? '').replace(/^\/+|\/+$/g, '');
}

/** The custom domain, regional (its certificate in the API's region), TLS 1.2, mapped to the stage under its base path. */
export function customDomain(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  stage: awsModule.apigatewayv2.Stage,
  domain: NonNullable<ApiSpec['domain']>,
): Output<string> {
  const key = regionalBasePath(scope, domain);
  const { aws } = scope;
  const made = new aws.apigatewayv2.DomainName(
    'domain',
    {
      domainName: domain.name,
      domainNameConfiguration: { certificateArn: domain.certificate, endpointType: 'REGIONAL', securityPolicy: 'TLS_1_2' },
    },
    scope.opts(),
  );
  new aws.apigatewayv2.ApiMapping(
    'domain',
    { apiId: api.id, domainName: made.id, stage: stage.id, ...(key ? { apiMappingKey: key } : {}) },
    scope.opts({ parent: made }),
  );
  return made.domainName;
}
