/**
 * APIGateway of type rest on AWS: a regional REST API (API Gateway v1), described whole by an
 * OpenAPI document (one resource that API Gateway imports, rather than a resource, method and
 * integration per path and verb), deployed to one stage each time the document changes. Routes
 * go to a Lambda by proxy (with a permission for this API alone) or to a URL; they are open,
 * signed (IAM), or checked by a Lambda authorizer; CORS is answered by OPTIONS methods and on
 * API Gateway's own errors. The stage logs each request, traces with X-Ray when Observability
 * traces, throttles as asked; a custom domain (TLS 1.2, regional) is mapped to it when asked.
 *
 * Not made: JWT authorizers (a REST API has none; an HTTP API has) and load balancer targets (a
 * REST API reaches one only through a VPC link to an NLB's ARN, which a listener ARN does not
 * name): both are refused with what to write instead.
 */
import { createHash } from 'node:crypto';
import type { AwsScope, Outputs } from '../scope.js';
import type { ApiSpec, AuthorizerSpec, RouteSpec } from './api-gateway.js';
import { apiGatewayMetric, backendOf, functionName, functionsOf, permit } from './api-gateway.js';
import { addEdgeAlarms, refuse } from './edge.js';
import { httpAccessLogFormat, regionalBasePath } from './api-gateway-stage.js';

type Json = Record<string, unknown>;

const ANY = 'x-amazon-apigateway-any-method';

export function translateRestApi(scope: AwsScope, spec: ApiSpec): Outputs {
  const { aws } = scope;
  // Indented: the document is what a reviewer reads of the API (plan, golden files).
  const body = JSON.stringify(openApi(scope, spec), null, 2);
  const api = new aws.apigateway.RestApi(
    'api',
    {
      name: scope.physicalName({ max: 255 }),
      description: `${scope.id} (deployer)`,
      body,
      endpointConfiguration: { types: 'REGIONAL' },
      putRestApiMode: 'overwrite',
      // An import warns of what it leaves out that a proxy does not need (method responses): not a failure.
      failOnWarnings: false,
    },
    scope.opts(),
  );
  const backends = spec.routes.map((r) => backendOf(scope, r.target));
  for (const fn of functionsOf(backends))
    permit(
      scope,
      `invoke-${functionName(fn)}`,
      fn,
      api.executionArn.apply((a) => `${a}/*/*`),
    );
  // Authorizers are made by the import: their ids are not known here, only that they are this API's.
  for (const a of spec.authorizers ?? []) {
    const fn = backendOf(scope, a.function!);
    if (fn.kind === 'lambda')
      permit(
        scope,
        `authorizer-${a.name}`,
        fn.functionArn,
        api.executionArn.apply((x) => `${x}/authorizers/*`),
      );
  }

  // A new deployment when the document changes: a stage serves a deployment, not the API as it is.
  const deployment = new aws.apigateway.Deployment(
    'deployment',
    { restApi: api.id, description: `${scope.id} (deployer)`, triggers: { body: createHash('sha256').update(body).digest('hex') } },
    scope.opts({ parent: api }),
  );
  const stageName = spec.stage ?? scope.infra.environment;
  const logs = (spec.accessLogs ?? true) ? scope.logGroup(`/aws/apigateway/${scope.baseName}`, 'access-logs') : undefined;
  const stage = new aws.apigateway.Stage(
    'stage',
    {
      restApi: api.id,
      deployment: deployment.id,
      stageName,
      xrayTracingEnabled: scope.infra.observability.tracing?.enabled ?? false,
      ...(logs
        ? { accessLogSettings: { destinationArn: logs.arn, format: httpAccessLogFormat({ resourcePath: '$context.resourcePath' }) } }
        : {}),
    },
    scope.opts({ parent: api }),
  );
  new aws.apigateway.MethodSettings(
    'stage',
    {
      restApi: api.id,
      stageName: stage.stageName,
      methodPath: '*/*',
      settings: {
        metricsEnabled: scope.infra.observability.detailedMonitoring ?? scope.isProduction,
        ...(spec.throttling?.rateLimit !== undefined ? { throttlingRateLimit: spec.throttling.rateLimit } : {}),
        ...(spec.throttling?.burstLimit !== undefined ? { throttlingBurstLimit: spec.throttling.burstLimit } : {}),
      },
    },
    scope.opts({ parent: stage }),
  );
  if (spec.domain) customDomain(scope, api, stage, spec.domain);

  const metric = apiGatewayMetric({ ApiName: api.name, Stage: stageName });
  addEdgeAlarms(scope, {
    'http-5xx-rate': { part: metric('5XXError'), whole: metric('Count') },
    'http-4xx-rate': { part: metric('4XXError'), whole: metric('Count') },
    'latency-p50': metric('Latency', 'Average'),
    'latency-p90': metric('Latency', 'Average'),
    'latency-p99': metric('Latency', 'Average'),
    'request-count': metric('Count'),
  });
  return {
    id: api.id,
    arn: api.arn,
    url: api.id.apply((id) => `https://${id}.execute-api.${scope.infra.region}.amazonaws.com/${stageName}`),
    executionArn: api.executionArn,
  };
}

/** The API as OpenAPI 3 with API Gateway's extensions: its paths, methods, integrations, authorizers and CORS. */
function openApi(scope: AwsScope, spec: ApiSpec): Json {
  const authorizers = new Map((spec.authorizers ?? []).map((a) => [a.name, a]));
  const paths: Record<string, Json> = {};
  for (const r of spec.routes) {
    // $default: whatever no other route matches, which a REST API says with a greedy path.
    const path = r.path === '$default' ? '/{proxy+}' : r.path;
    if (path.startsWith('$')) throw refuse(scope, `route ${r.path} is a WebSocket route; this API is of type rest`);
    const verb = (r.method ?? 'ANY') === 'ANY' ? ANY : r.method!.toLowerCase();
    paths[path] = { ...paths[path], [verb]: operation(scope, r, path, authorizers) };
  }
  if (spec.cors) for (const [path, ops] of Object.entries(paths)) if (!ops['options']) ops['options'] = preflight(scope, spec.cors, path);
  const schemes: Json = {};
  if (spec.routes.some((r) => r.authorizer === 'iam'))
    schemes['sigv4'] = { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' };
  for (const a of authorizers.values()) schemes[a.name] = securityScheme(scope, a);
  return {
    openapi: '3.0.1',
    info: { title: scope.physicalName({ max: 255 }), version: '1' },
    paths,
    ...(Object.keys(schemes).length ? { components: { securitySchemes: schemes } } : {}),
    ...(spec.cors ? { 'x-amazon-apigateway-gateway-responses': gatewayResponses(scope, spec.cors) } : {}),
  };
}

function operation(scope: AwsScope, r: RouteSpec, path: string, authorizers: Map<string, AuthorizerSpec>): Json {
  const b = backendOf(scope, r.target);
  if (b.kind === 'private')
    throw refuse(
      scope,
      `route ${r.path} goes to a load balancer listener, which a REST API cannot reach`,
      'make the API of type http (it reaches ALB and NLB listeners through a VPC link)',
    );
  const timeoutInMillis = Math.min(r.timeoutMs ?? 29_000, 29_000);
  const parameters = [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const integration =
    b.kind === 'lambda'
      ? { type: 'aws_proxy', httpMethod: 'POST', uri: b.uri, passthroughBehavior: 'when_no_match', timeoutInMillis }
      : {
          type: 'http_proxy',
          httpMethod: 'ANY',
          uri: b.uri,
          passthroughBehavior: 'when_no_match',
          timeoutInMillis,
          ...(parameters.length
            ? {
                requestParameters: Object.fromEntries(
                  parameters.map((p) => [`integration.request.path.${p.name}`, `method.request.path.${p.name}`]),
                ),
              }
            : {}),
        };
  return {
    ...(parameters.length ? { parameters } : {}),
    ...security(scope, r, authorizers),
    responses: {},
    'x-amazon-apigateway-integration': integration,
  };
}

function security(scope: AwsScope, r: RouteSpec, authorizers: Map<string, AuthorizerSpec>): Json {
  const name = r.authorizer ?? 'none';
  if (name === 'none') return {};
  if (name === 'iam') return { security: [{ sigv4: [] }] };
  if (!authorizers.has(name)) throw refuse(scope, `route ${r.path} names authorizer "${name}", which is none of its authorizers`);
  return { security: [{ [name]: [] }] };
}

function securityScheme(scope: AwsScope, a: AuthorizerSpec): Json {
  if (a.type === 'jwt')
    throw refuse(
      scope,
      `authorizer ${a.name} is a JWT authorizer, which a REST API cannot have`,
      'make the API of type http, or use a Lambda authorizer',
    );
  const fn = backendOf(scope, a.function!);
  if (fn.kind !== 'lambda') throw refuse(scope, `authorizer ${a.name}'s function is no Lambda (${a.function})`);
  // `$request.header.X` (as an HTTP API writes it) is `method.request.header.X` on a REST API.
  const source = (a.identitySource ?? '$request.header.Authorization').replace(/^\$request\./, 'method.request.');
  return {
    type: 'apiKey',
    name: source.split('.').pop(),
    in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': { type: 'request', authorizerUri: fn.uri, identitySource: source, authorizerResultTtlInSeconds: 300 },
  };
}

type Cors = NonNullable<ApiSpec['cors']>;

/** A REST API answers CORS with fixed headers: one origin (or `*`), not a list it would echo. */
function corsHeaders(scope: AwsScope, c: Cors): Record<string, string> {
  const origin = c.allowOrigins.includes('*') ? '*' : c.allowOrigins.length === 1 ? c.allowOrigins[0]! : undefined;
  if (!origin)
    throw refuse(
      scope,
      'a REST API answers CORS with one origin, and this one allows several',
      'allow one origin, or make the API of type http',
    );
  const q = (v: string) => `'${v}'`;
  return {
    'Access-Control-Allow-Origin': q(origin),
    'Access-Control-Allow-Methods': q((c.allowMethods ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).join(',')),
    'Access-Control-Allow-Headers': q((c.allowHeaders ?? ['Content-Type', 'Authorization']).join(',')),
    ...(c.exposeHeaders?.length ? { 'Access-Control-Expose-Headers': q(c.exposeHeaders.join(',')) } : {}),
    ...(c.allowCredentials ? { 'Access-Control-Allow-Credentials': q('true') } : {}),
    ...(c.maxAge !== undefined ? { 'Access-Control-Max-Age': q(String(c.maxAge)) } : {}),
  };
}

/** The preflight of a path: an OPTIONS method API Gateway answers itself (a mock integration). */
function preflight(scope: AwsScope, c: Cors, path: string): Json {
  const headers = corsHeaders(scope, c);
  const parameters = [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  return {
    ...(parameters.length ? { parameters } : {}),
    responses: {
      '200': {
        description: 'CORS preflight',
        headers: Object.fromEntries(Object.keys(headers).map((h) => [h, { schema: { type: 'string' } }])),
      },
    },
    'x-amazon-apigateway-integration': {
      type: 'mock',
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      passthroughBehavior: 'when_no_match',
      responses: {
        default: {
          statusCode: '200',
          responseParameters: Object.fromEntries(Object.entries(headers).map(([h, v]) => [`method.response.header.${h}`, v])),
        },
      },
    },
  };
}

/** API Gateway's own errors (an authorizer's 401, a throttled 429) carry the CORS headers too, or a browser hides them. */
function gatewayResponses(scope: AwsScope, c: Cors): Json {
  const { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Headers': headers } = corsHeaders(scope, c);
  const responseParameters = {
    'gatewayresponse.header.Access-Control-Allow-Origin': origin,
    'gatewayresponse.header.Access-Control-Allow-Headers': headers,
  };
  return { DEFAULT_4XX: { responseParameters }, DEFAULT_5XX: { responseParameters } };
}

function customDomain(
  scope: AwsScope,
  api: InstanceType<AwsScope['aws']['apigateway']['RestApi']>,
  stage: InstanceType<AwsScope['aws']['apigateway']['Stage']>,
  domain: NonNullable<ApiSpec['domain']>,
): void {
  const basePath = regionalBasePath(scope, domain);
  const { aws } = scope;
  const made = new aws.apigateway.DomainName(
    'domain',
    {
      domainName: domain.name,
      regionalCertificateArn: domain.certificate,
      endpointConfiguration: { types: 'REGIONAL' },
      securityPolicy: 'TLS_1_2',
    },
    scope.opts(),
  );
  new aws.apigateway.BasePathMapping(
    'domain',
    { restApi: api.id, stageName: stage.stageName, domainName: made.domainName, ...(basePath ? { basePath } : {}) },
    scope.opts({ parent: made }),
  );
}
