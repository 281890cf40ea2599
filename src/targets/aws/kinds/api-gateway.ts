/**
 * APIGateway on AWS: an HTTP API (API Gateway v2), or a WebSocket API, or a REST API
 * (api-gateway-rest.ts). Each route goes to its target through an integration: a Lambda by
 * proxy (its invoke ARN, and a permission for this API alone to invoke it), an ALB or NLB
 * listener (or a Cloud Map service) through a VPC link in the stack's private subnets, or a
 * URL. Routes are open, signed (IAM), or checked by a JWT or Lambda authorizer. Its stage (api-gateway-stage.ts),
 * deployed on every change, logs each request to a log group of its own, with the throttling
 * asked; a custom domain (TLS 1.2, regional) is mapped to it when asked.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { MetricCatalog } from '../alarms.js';
import type { AwsScope, Outputs } from '../scope.js';
import { addEdgeAlarms, arnResource, refuse } from './edge.js';
import { translateRestApi } from './api-gateway-rest.js';
import { customDomain, makeStage } from './api-gateway-stage.js';

export interface RouteSpec {
  method?: string;
  path: string;
  target: string;
  authorizer?: string;
  timeoutMs?: number;
}
export interface AuthorizerSpec {
  name: string;
  type: 'jwt' | 'lambda';
  issuer?: string;
  audience?: string[];
  function?: string;
  identitySource?: string;
}
export interface ApiSpec {
  type?: 'http' | 'rest' | 'websocket';
  routes: RouteSpec[];
  authorizers?: AuthorizerSpec[];
  cors?: {
    allowOrigins: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    allowCredentials?: boolean;
    maxAge?: number;
  };
  domain?: { name: string; certificate: string; basePath?: string };
  stage?: string;
  throttling?: { rateLimit?: number; burstLimit?: number };
  accessLogs?: boolean;
}

/** What a route's target resolved to. */
export type Backend =
  { kind: 'lambda'; uri: string; functionArn: string } | { kind: 'private'; uri: string } | { kind: 'url'; uri: string };

export function backendOf(scope: AwsScope, target: string): Backend {
  const lambda = /^arn:aws[a-z-]*:apigateway:[^:]*:lambda:path\/.*\/functions\/(.+)\/invocations$/.exec(target);
  if (lambda) return { kind: 'lambda', uri: target, functionArn: lambda[1]! };
  const resource = arnResource(target) ?? '';
  if (resource.startsWith('listener/') || /^arn:aws[a-z-]*:servicediscovery:/.test(target)) return { kind: 'private', uri: target };
  if (/^https?:\/\//.test(target)) return { kind: 'url', uri: target };
  if (/^arn:aws[a-z-]*:ecs:/.test(target))
    throw refuse(
      scope,
      `a route goes to an ECS service (${target}), which API Gateway cannot reach by itself`,
      'route to the load balancer in front of it (its ALB or NLB component: the listener it is reached through)',
    );
  throw refuse(scope, `a route goes to "${target}", which is no Lambda, load balancer listener or URL`);
}

/** The Lambda functions the API invokes (route targets, authorizers), each once, by ARN. */
export function functionsOf(backends: Backend[]): string[] {
  return [...new Set(backends.flatMap((b) => (b.kind === 'lambda' ? [b.functionArn] : [])))];
}

/** A function's name, from its ARN (what its permission is named after). */
export function functionName(functionArn: string): string {
  return /:function:([^:]+)/.exec(functionArn)?.[1] ?? functionArn.split(/[:/]/).pop()!;
}

/** The alarms' dimension and metric names differ by type of API. */
export function apiGatewayMetric(dimensions: Record<string, Input<string>>) {
  return (metricName: string, statistic = 'Sum') => ({ namespace: 'AWS/ApiGateway', metricName, dimensions, statistic });
}

export function translateAPIGateway(scope: AwsScope): Outputs {
  const spec = scope.spec as unknown as ApiSpec;
  const type = spec.type ?? 'http';
  if (type === 'rest') return translateRestApi(scope, spec);
  const ws = type === 'websocket';
  const { aws } = scope;
  if (ws && spec.cors) throw refuse(scope, 'CORS is for HTTP APIs: a WebSocket API has no preflight requests', 'remove spec.cors');
  const api = new aws.apigatewayv2.Api(
    'api',
    {
      name: scope.physicalName({ max: 128 }),
      description: `${scope.id} (deployer)`,
      protocolType: ws ? 'WEBSOCKET' : 'HTTP',
      ...(ws ? { routeSelectionExpression: '$request.body.action' } : {}),
      ...(spec.cors ? { corsConfiguration: cors(spec.cors) } : {}),
    },
    scope.opts(),
  );
  const backends = spec.routes.map((r) => backendOf(scope, r.target));
  const vpcLink = backends.some((b) => b.kind === 'private') ? privateLink(scope, ws) : undefined;
  const authorizers = makeAuthorizers(scope, api, spec.authorizers ?? [], ws);
  const integrations = new Map<string, awsModule.apigatewayv2.Integration>();
  spec.routes.forEach((r, i) => {
    const b = backends[i]!;
    const key = JSON.stringify([b.uri, r.timeoutMs]);
    if (!integrations.has(key)) integrations.set(key, integration(scope, api, `integration-${i}`, b, r.timeoutMs, ws, vpcLink));
    route(scope, api, i, r, integrations.get(key)!, authorizers, ws);
  });
  // Any stage and route of this API: a route's ARN writes its path parameters in ways not worth matching.
  for (const fn of functionsOf(backends))
    permit(
      scope,
      `invoke-${functionName(fn)}`,
      fn,
      api.executionArn.apply((a) => `${a}/*/*`),
    );

  const stageName = spec.stage ?? (ws ? scope.infra.environment : '$default');
  const stage = makeStage(scope, api, stageName, spec, ws);
  if (spec.domain) customDomain(scope, api, stage, spec.domain);
  const metric = apiGatewayMetric({ ApiId: api.id, Stage: stageName });
  addEdgeAlarms(scope, ws ? webSocketMetrics(metric) : httpMetrics(metric), {
    sums: ws ? { 'http-5xx-rate': { parts: [metric('IntegrationError'), metric('ExecutionError')], whole: metric('MessageCount') } } : {},
  });
  return {
    id: api.id,
    arn: api.arn,
    // The stage's invoke URL, as API Gateway makes it from the API's endpoint ($default: its root).
    url: api.apiEndpoint.apply((e) => `${e}/${stageName === '$default' ? '' : stageName}`),
    executionArn: api.executionArn,
  };
}

function httpMetrics(metric: ReturnType<typeof apiGatewayMetric>): MetricCatalog {
  return {
    'http-5xx-rate': { part: metric('5xx'), whole: metric('Count') },
    'http-4xx-rate': { part: metric('4xx'), whole: metric('Count') },
    'latency-p50': metric('Latency', 'Average'),
    'latency-p90': metric('Latency', 'Average'),
    'latency-p99': metric('Latency', 'Average'),
    'request-count': metric('Count'),
  };
}

function webSocketMetrics(metric: ReturnType<typeof apiGatewayMetric>): MetricCatalog {
  return {
    'http-4xx-rate': { part: metric('ClientError'), whole: metric('MessageCount') },
    'latency-p50': metric('IntegrationLatency', 'Average'),
    'latency-p90': metric('IntegrationLatency', 'Average'),
    'latency-p99': metric('IntegrationLatency', 'Average'),
    'request-count': metric('MessageCount'),
    connections: metric('ConnectCount'),
  };
}

function cors(c: NonNullable<ApiSpec['cors']>): awsModule.types.input.apigatewayv2.ApiCorsConfiguration {
  return {
    allowOrigins: c.allowOrigins,
    ...(c.allowMethods ? { allowMethods: c.allowMethods } : {}),
    ...(c.allowHeaders ? { allowHeaders: c.allowHeaders } : {}),
    ...(c.exposeHeaders ? { exposeHeaders: c.exposeHeaders } : {}),
    allowCredentials: c.allowCredentials ?? false,
    ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
  };
}

/** API Gateway may invoke the function, from this API only (any of its stages and routes, or the authorizer named). */
export function permit(scope: AwsScope, name: string, functionArn: string, sourceArn: Input<string>): void {
  new scope.aws.lambda.Permission(
    name,
    { action: 'lambda:InvokeFunction', function: functionArn, principal: 'apigateway.amazonaws.com', sourceArn },
    scope.opts(),
  );
}

/**
 * The VPC link private integrations go through, in the stack's private subnets, with a group
 * of its own that opens nothing in and lets it reach the VPC only (the load balancers it
 * forwards to must let this group in). A WebSocket API has none to reach a listener with.
 */
function privateLink(scope: AwsScope, ws: boolean): awsModule.apigatewayv2.VpcLink {
  if (ws)
    throw refuse(
      scope,
      'a WebSocket API reaches a load balancer only through a REST-style VPC link, which deployer does not make',
      'route a WebSocket API to Lambda functions, or use an HTTP API',
    );
  const { aws } = scope;
  const vpcId = scope.vpcId();
  const name = scope.physicalName({ max: 128, suffix: '-vpc-link' });
  const group = new aws.ec2.SecurityGroup(
    'vpc-link',
    { name, description: `${scope.id}: its VPC link to the load balancers it routes to (deployer)`, vpcId, tags: { Name: name } },
    scope.opts(),
  );
  new aws.vpc.SecurityGroupEgressRule(
    'vpc-link-egress',
    {
      securityGroupId: group.id,
      ipProtocol: 'tcp',
      fromPort: 0,
      toPort: 65535,
      cidrIpv4: aws.ec2.getVpcOutput({ id: vpcId }, { provider: scope.provider }).cidrBlock,
      description: 'to the load balancers, in the VPC',
    },
    scope.opts({ parent: group }),
  );
  return new aws.apigatewayv2.VpcLink(
    'vpc-link',
    { name, subnetIds: scope.subnetIds('private'), securityGroupIds: [group.id] },
    scope.opts(),
  );
}

function integration(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  name: string,
  b: Backend,
  timeoutMs: number | undefined,
  ws: boolean,
  vpcLink: awsModule.apigatewayv2.VpcLink | undefined,
): awsModule.apigatewayv2.Integration {
  // An HTTP API waits 30 s at most, a WebSocket API 29 s.
  const timeout = Math.min(timeoutMs ?? 30_000, ws ? 29_000 : 30_000);
  const common = { apiId: api.id, integrationUri: b.uri, timeoutMilliseconds: timeout };
  const args: awsModule.apigatewayv2.IntegrationArgs =
    b.kind === 'lambda'
      ? { ...common, integrationType: 'AWS_PROXY', ...(ws ? {} : { payloadFormatVersion: '2.0' }) }
      : {
          ...common,
          integrationType: 'HTTP_PROXY',
          integrationMethod: 'ANY',
          ...(b.kind === 'private' ? { connectionType: 'VPC_LINK', connectionId: vpcLink!.id, tlsConfig: tlsTo(scope, b.uri) } : {}),
        };
  return new scope.aws.apigatewayv2.Integration(name, args, scope.opts({ parent: api }));
}

/**
 * A private integration speaks HTTPS only when it has a TLS configuration: given to a listener
 * that is HTTPS (or TLS), which its ARN does not say, so the listener is looked up at deploy
 * time. No server name: the certificate's chain is checked, not its name, which the API does
 * not know (a Cloud Map service is reached as it registers, over HTTP).
 */
function tlsTo(scope: AwsScope, uri: string): Input<awsModule.types.input.apigatewayv2.IntegrationTlsConfig | undefined> | undefined {
  if (!(arnResource(uri) ?? '').startsWith('listener/')) return undefined;
  return scope.aws.lb
    .getListenerOutput({ arn: uri }, { provider: scope.provider })
    .apply((l) => (l.protocol === 'HTTPS' || l.protocol === 'TLS' ? {} : undefined));
}

interface MadeAuthorizer {
  spec: AuthorizerSpec;
  authorizer: awsModule.apigatewayv2.Authorizer;
}

function makeAuthorizers(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  specs: AuthorizerSpec[],
  ws: boolean,
): Map<string, MadeAuthorizer> {
  const out = new Map<string, MadeAuthorizer>();
  specs.forEach((a) => {
    if (a.type === 'jwt' && ws)
      throw refuse(scope, `authorizer ${a.name} is a JWT authorizer, which a WebSocket API cannot have`, 'use a Lambda authorizer');
    const identity = [a.identitySource ?? (ws ? 'route.request.header.Authorization' : '$request.header.Authorization')];
    const args: awsModule.apigatewayv2.AuthorizerArgs =
      a.type === 'jwt'
        ? {
            apiId: api.id,
            name: a.name,
            authorizerType: 'JWT',
            identitySources: identity,
            jwtConfiguration: { issuer: a.issuer!, audiences: a.audience! },
          }
        : {
            apiId: api.id,
            name: a.name,
            authorizerType: 'REQUEST',
            authorizerUri: a.function!,
            identitySources: identity,
            ...(ws ? {} : { authorizerPayloadFormatVersion: '2.0', enableSimpleResponses: true, authorizerResultTtlInSeconds: 300 }),
          };
    const authorizer = new scope.aws.apigatewayv2.Authorizer(`authorizer-${a.name}`, args, scope.opts({ parent: api }));
    if (a.type === 'lambda') {
      const fn = backendOf(scope, a.function!);
      if (fn.kind !== 'lambda') throw refuse(scope, `authorizer ${a.name}'s function is no Lambda (${a.function})`);
      permit(scope, `authorizer-${a.name}`, fn.functionArn, scope.pulumi.interpolate`${api.executionArn}/authorizers/${authorizer.id}`);
    }
    out.set(a.name, { spec: a, authorizer });
  });
  return out;
}

/** A route key: `GET /orders/{id}` (HTTP), `$connect` or the action a message names (WebSocket). */
function routeKey(r: RouteSpec, ws: boolean): string {
  if (r.path.startsWith('$')) return r.path;
  return ws ? r.path.slice(1) : `${r.method ?? 'ANY'} ${r.path}`;
}

function route(
  scope: AwsScope,
  api: awsModule.apigatewayv2.Api,
  i: number,
  r: RouteSpec,
  target: awsModule.apigatewayv2.Integration,
  authorizers: Map<string, MadeAuthorizer>,
  ws: boolean,
): void {
  const name = r.authorizer ?? 'none';
  const auth: Pick<awsModule.apigatewayv2.RouteArgs, 'authorizationType' | 'authorizerId'> =
    name === 'none'
      ? { authorizationType: 'NONE' }
      : name === 'iam'
        ? { authorizationType: 'AWS_IAM' }
        : authorizedBy(scope, r, authorizers, ws);
  new scope.aws.apigatewayv2.Route(
    `route-${i}`,
    { apiId: api.id, routeKey: routeKey(r, ws), target: scope.pulumi.interpolate`integrations/${target.id}`, ...auth },
    scope.opts({ parent: api }),
  );
}

function authorizedBy(scope: AwsScope, r: RouteSpec, authorizers: Map<string, MadeAuthorizer>, ws: boolean) {
  const a = authorizers.get(r.authorizer!);
  if (!a) throw refuse(scope, `route ${r.path} names authorizer "${r.authorizer}", which is none of its authorizers`);
  if (ws && r.path !== '$connect') throw refuse(scope, `route ${r.path} has an authorizer; a WebSocket API authorizes on $connect only`);
  return { authorizationType: a.spec.type === 'jwt' ? 'JWT' : 'CUSTOM', authorizerId: a.authorizer.id };
}
