/**
 * CloudFront on AWS: a distribution in front of buckets, load balancers and APIs. A bucket is
 * read through an Origin Access Control (signed requests, so that the bucket stays private; its
 * policy must let this distribution read it, which is the bucket's to say); anything else is a
 * custom origin reached over HTTPS with TLS 1.2 unless told otherwise. Behaviours use cache and
 * origin request policies (AWS's managed ones by name), compress, and CloudFront Functions.
 * Viewers get TLS 1.2 (TLSv1.2_2021) at least on the aliases' certificate (ACM, us-east-1),
 * HTTP/2 and 3, IPv6; errors, geographic restrictions, WAF and price class as written.
 *
 * Standard logs go to the bucket named through CloudWatch Logs' log delivery (logging v2):
 * the legacy logging writes with ACLs, which the buckets deployer makes refuse (owner enforced).
 * Logs, like the distribution's metrics, are in us-east-1, whatever the stack's region.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { AwsScope, Outputs } from '../scope.js';
import { isSecretRef, type SecretRef } from '../secrets.js';
import { addEdgeAlarms, arnRegion, refuse, usEast1Provider } from './edge.js';

interface OriginSpec {
  name: string;
  source: string;
  type?: 's3' | 'alb' | 'api-gateway' | 'custom';
  path?: string;
  protocol?: 'https-only' | 'http-only' | 'match-viewer';
  headers?: Record<string, string | SecretRef>;
}

interface BehaviorSpec {
  path?: string;
  origin: string;
  viewerProtocol?: string;
  methods?: 'get-head' | 'get-head-options' | 'all';
  cachePolicy?: string;
  originRequestPolicy?: string;
  compress?: boolean;
  functions?: Array<{ event: string; arn: string }>;
}

interface CloudFrontSpec {
  origins: OriginSpec[];
  defaultBehavior: BehaviorSpec;
  behaviors?: BehaviorSpec[];
  aliases?: string[];
  certificate?: string;
  defaultRootObject?: string;
  priceClass?: string;
  httpVersion?: string;
  ipv6?: boolean;
  customErrors?: Array<{ code: number; responseCode?: number; responsePath?: string; ttl?: number }>;
  geoRestriction?: { type: 'allow' | 'deny'; locations: string[] };
  webAclId?: string;
  logging?: { bucket: string; prefix?: string };
}

/** AWS's managed cache policies, by name (their ids are fixed and documented); others are looked up by name. */
const CACHE_POLICIES: Record<string, string> = {
  CachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  CachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  CachingOptimizedForUncompressedObjects: 'b2884449-e4de-46a7-ac36-70bc7f1ddd6d',
  Amplify: '2e54312d-136d-493c-8eb9-b001f22f67d2',
  'Elemental-MediaPackage': '08627262-05a9-4f76-9ded-b50ca2e3a84f',
};
const ORIGIN_REQUEST_POLICIES: Record<string, string> = {
  AllViewer: '216adef6-5c7f-47e4-b989-5492eafa07d3',
  AllViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
  'AllViewerAndCloudFrontHeaders-2022-06': '33f36d7e-f396-46d9-90e0-52428a34d9dc',
  'CORS-S3Origin': '88a5eaf4-2fd4-4709-b370-b4c650ea3fcf',
  'CORS-CustomOrigin': '59781a5b-3903-41f3-afcb-af62929ccde1',
};
const POLICY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const METHODS: Record<string, { allowed: string[]; cached: string[] }> = {
  'get-head': { allowed: ['GET', 'HEAD'], cached: ['GET', 'HEAD'] },
  'get-head-options': { allowed: ['GET', 'HEAD', 'OPTIONS'], cached: ['GET', 'HEAD', 'OPTIONS'] },
  all: { allowed: ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'], cached: ['GET', 'HEAD'] },
};

/** An origin as CloudFront reaches it: host and path apart (a source may be a URL, such as an API's). */
interface Origin {
  spec: OriginSpec;
  s3: boolean;
  host: string;
  path?: string;
}

export function translateCloudFront(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as unknown as CloudFrontSpec;
  const origins = spec.origins.map((o) => originOf(o));
  const byName = new Map(origins.map((o) => [o.spec.name, o]));
  for (const b of [spec.defaultBehavior, ...(spec.behaviors ?? [])])
    if (!byName.has(b.origin))
      throw refuse(scope, `a behavior names origin "${b.origin}", which is none of its origins (${[...byName.keys()].join(', ')})`);
  if (spec.webAclId?.startsWith('arn:') && arnRegion(spec.webAclId) !== 'us-east-1')
    throw refuse(scope, `a distribution takes a web ACL of scope CLOUDFRONT, in us-east-1; ${spec.webAclId} is not`);
  const oac = origins.some((o) => o.s3) ? originAccessControl(scope) : undefined;
  const distribution = new aws.cloudfront.Distribution(
    'distribution',
    {
      comment: scope.baseName,
      enabled: true,
      origins: origins.map((o) => origin(scope, o, oac)),
      defaultCacheBehavior: behavior(scope, spec.defaultBehavior, byName.get(spec.defaultBehavior.origin)!),
      ...(spec.behaviors?.length
        ? { orderedCacheBehaviors: spec.behaviors.map((b) => ({ pathPattern: b.path!, ...behavior(scope, b, byName.get(b.origin)!) })) }
        : {}),
      ...(spec.aliases?.length ? { aliases: spec.aliases } : {}),
      viewerCertificate: viewerCertificate(scope, spec),
      ...(spec.defaultRootObject ? { defaultRootObject: spec.defaultRootObject } : {}),
      priceClass: spec.priceClass ?? 'PriceClass_100',
      httpVersion: spec.httpVersion ?? 'http2and3',
      isIpv6Enabled: spec.ipv6 ?? true,
      customErrorResponses: (spec.customErrors ?? []).map((e) => ({
        errorCode: e.code,
        ...(e.responseCode !== undefined ? { responseCode: e.responseCode } : {}),
        ...(e.responsePath ? { responsePagePath: e.responsePath } : {}),
        ...(e.ttl !== undefined ? { errorCachingMinTtl: e.ttl } : {}),
      })),
      restrictions: {
        geoRestriction: spec.geoRestriction
          ? { restrictionType: spec.geoRestriction.type === 'allow' ? 'whitelist' : 'blacklist', locations: spec.geoRestriction.locations }
          : { restrictionType: 'none' },
      },
      ...(spec.webAclId ? { webAclId: spec.webAclId } : {}),
    },
    scope.opts(),
  );
  const east = usEast1Provider(scope);
  if (spec.logging) logDelivery(scope, distribution, spec.logging, east);
  const metric = (metricName: string, statistic: string) => ({
    namespace: 'AWS/CloudFront',
    metricName,
    dimensions: { DistributionId: distribution.id, Region: 'Global' },
    statistic,
  });
  // CloudFront publishes its metrics in us-east-1 only: the alarms are made there (and notify the
  // stack's alert topic only when it is there too: CloudWatch cannot notify another region's).
  addEdgeAlarms(
    scope,
    {
      'http-5xx-rate': metric('5xxErrorRate', 'Average'),
      'http-4xx-rate': metric('4xxErrorRate', 'Average'),
      'request-count': metric('Requests', 'Sum'),
    },
    { provider: east, region: 'us-east-1' },
  );
  return {
    id: distribution.id,
    arn: distribution.arn,
    domainName: distribution.domainName,
    hostedZoneId: distribution.hostedZoneId,
    url: distribution.domainName.apply((d) => `https://${d}`),
  };
}

/** The origin's host and path, and whether it is a bucket (its type, else its regional domain name says so). */
function originOf(o: OriginSpec): Origin {
  const url = /^https?:\/\//.test(o.source) ? new URL(o.source) : undefined;
  const host = url ? url.host : o.source;
  const urlPath = url?.pathname.replace(/\/+$/, '');
  const s3 = o.type ? o.type === 's3' : /\.s3\.([a-z0-9-]+\.)?amazonaws\./.test(host);
  const path = o.path ?? (urlPath || undefined);
  return { spec: o, s3, host, ...(path ? { path } : {}) };
}

function originAccessControl(scope: AwsScope): awsModule.cloudfront.OriginAccessControl {
  return new scope.aws.cloudfront.OriginAccessControl(
    'origin-access-control',
    {
      name: scope.physicalName({ max: 64 }),
      description: `${scope.id} reads its buckets with signed requests (deployer)`,
      originAccessControlOriginType: 's3',
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    },
    scope.opts(),
  );
}

function origin(
  scope: AwsScope,
  o: Origin,
  oac: awsModule.cloudfront.OriginAccessControl | undefined,
): awsModule.types.input.cloudfront.DistributionOrigin {
  const headers = Object.entries(o.spec.headers ?? {}).map(([name, value]) => ({ name, value: headerValue(scope, value) }));
  // CloudFront checks the origin's certificate against the origin's name, which no certificate of
  // a load balancer's own name (*.elb.amazonaws.com) can match: the origin answers 502.
  if (!o.s3 && (o.spec.protocol ?? 'https-only') !== 'http-only' && /\.elb\.amazonaws\.com$/.test(o.host))
    scope.pulumi.log.warn(
      `${scope.id}: origin ${o.spec.name} is reached over HTTPS by its load balancer's own name, which its certificate cannot cover; give it a domain name of the certificate (a record pointing to the load balancer)`,
    );
  return {
    originId: o.spec.name,
    domainName: o.host,
    ...(o.path ? { originPath: o.path } : {}),
    ...(headers.length ? { customHeaders: headers } : {}),
    ...(o.s3
      ? // Access control, not an identity: the empty identity is what the API wants with it.
        { originAccessControlId: oac!.id, s3OriginConfig: { originAccessIdentity: '' } }
      : {
          customOriginConfig: {
            httpPort: 80,
            httpsPort: 443,
            originProtocolPolicy: o.spec.protocol ?? 'https-only',
            originSslProtocols: ['TLSv1.2'],
          },
        }),
  };
}

/**
 * A header CloudFront adds to origin requests. A shared secret (such as X-Origin-Verify) can
 * only be given to CloudFront as its value: read from Secrets Manager at deploy time and kept
 * secret (encrypted in Pulumi's state, never shown).
 */
function headerValue(scope: AwsScope, value: string | SecretRef): Input<string> {
  if (!isSecretRef(value)) return value;
  const [key, jsonKey] = value.secretRef.key.split('#') as [string, string | undefined];
  const secret = scope.aws.secretsmanager.getSecretVersionOutput({ secretId: key }, { provider: scope.provider }).secretString;
  const picked = jsonKey ? secret.apply((s) => String((JSON.parse(s) as Record<string, unknown>)[jsonKey] ?? '')) : secret;
  return scope.pulumi.secret(picked);
}

/** A managed policy by name, an id as it is, any other name looked up (a managed one, `Managed-<name>`). */
function policyId(scope: AwsScope, written: string, known: Record<string, string>, kind: 'cache' | 'origin-request'): Input<string> {
  if (known[written]) return known[written];
  if (POLICY_ID.test(written)) return written;
  const args = { name: written.startsWith('Managed-') ? written : `Managed-${written}` };
  const opts = { provider: scope.provider };
  return kind === 'cache'
    ? scope.aws.cloudfront.getCachePolicyOutput(args, opts).apply((p) => p.id!)
    : scope.aws.cloudfront.getOriginRequestPolicyOutput(args, opts).apply((p) => p.id!);
}

/**
 * A behavior. Without a cache policy, a bucket's objects are cached (CachingOptimized) and
 * anything else is not (CachingDisabled), with the viewer's headers, cookies and query strings
 * but its Host passed on (AllViewerExceptHostHeader), which an API or a load balancer needs.
 */
function behavior(scope: AwsScope, b: BehaviorSpec, o: Origin): awsModule.types.input.cloudfront.DistributionDefaultCacheBehavior {
  const methods = METHODS[b.methods ?? 'get-head']!;
  const cache = b.cachePolicy ?? (o.s3 ? 'CachingOptimized' : 'CachingDisabled');
  const originRequest = b.originRequestPolicy ?? (o.s3 ? undefined : 'AllViewerExceptHostHeader');
  return {
    targetOriginId: b.origin,
    viewerProtocolPolicy: b.viewerProtocol ?? 'redirect-to-https',
    allowedMethods: methods.allowed,
    cachedMethods: methods.cached,
    compress: b.compress ?? true,
    cachePolicyId: policyId(scope, cache, CACHE_POLICIES, 'cache'),
    ...(originRequest ? { originRequestPolicyId: policyId(scope, originRequest, ORIGIN_REQUEST_POLICIES, 'origin-request') } : {}),
    ...(b.functions?.length ? { functionAssociations: b.functions.map((f) => ({ eventType: f.event, functionArn: f.arn })) } : {}),
  };
}

/** The aliases' certificate, which CloudFront takes from us-east-1 only, and TLS 1.2 at least; else CloudFront's own. */
function viewerCertificate(scope: AwsScope, spec: CloudFrontSpec): awsModule.types.input.cloudfront.DistributionViewerCertificate {
  if (!spec.certificate) {
    if (spec.aliases?.length)
      throw refuse(
        scope,
        `its aliases (${spec.aliases.join(', ')}) need a certificate`,
        'set spec.certificate to an ACM certificate in us-east-1',
      );
    return { cloudfrontDefaultCertificate: true };
  }
  if (arnRegion(spec.certificate) !== 'us-east-1')
    throw refuse(scope, `CloudFront takes certificates from us-east-1 only; ${spec.certificate} is in ${arnRegion(spec.certificate)}`);
  return { acmCertificateArn: spec.certificate, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' };
}

/**
 * Standard logs (v2) to the bucket whose domain name is given: a delivery source (the
 * distribution's access logs), a destination (the bucket, under the prefix) and the delivery,
 * all in us-east-1, as CloudFront's must be. The bucket's policy must let the log delivery
 * service write there (the S3 component's).
 */
function logDelivery(
  scope: AwsScope,
  distribution: awsModule.cloudfront.Distribution,
  logging: { bucket: string; prefix?: string },
  provider: awsModule.Provider,
): void {
  const { aws } = scope;
  const bucket = logging.bucket.replace(/\.s3[.-].*$/, '');
  const prefix = (logging.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const name = scope.physicalName({ max: 60, suffix: '-logs' });
  const opts = { provider, parent: distribution };
  const source = new aws.cloudwatch.LogDeliverySource('access-logs', { name, logType: 'ACCESS_LOGS', resourceArn: distribution.arn }, opts);
  const destination = new aws.cloudwatch.LogDeliveryDestination(
    'access-logs',
    {
      name,
      deliveryDestinationType: 'S3',
      outputFormat: 'w3c',
      deliveryDestinationConfiguration: { destinationResourceArn: `arn:aws:s3:::${bucket}${prefix ? `/${prefix}` : ''}` },
    },
    opts,
  );
  new aws.cloudwatch.LogDelivery(
    'access-logs',
    { deliverySourceName: source.name, deliveryDestinationArn: destination.arn },
    { provider, parent: source },
  );
}
