/**
 * Who else uses an S3 bucket of the stack, as the bucket's own policy must say: a bucket has one
 * policy, so the components that write their logs to it (an ALB's or NLB's access logs,
 * CloudFront's standard logs) or read it (a CloudFront distribution serving it through an origin
 * access control) cannot each add theirs. Found from their specs (a valueFrom of the bucket in
 * the fields that take one) and given to the bucket in its `_stack.bucketAccess`: a change of
 * them is a change of the bucket's policy, which the plan shows and apply deploys. The bucket
 * deploys first (they reference it), so the statements name no ARN of theirs (that would be a
 * cycle): what AWS's log delivery may write, under the prefix given, and what the account's
 * distributions may read.
 */
import { isValueFrom } from '../model/documents.js';
import type { DesiredComponent } from '../model/desired.js';
import type { BucketAccess } from '../model/stack-infra.js';

type Spec = Record<string, unknown>;

/** The bucket component a field names through a valueFrom, if it is an S3 of the stack. */
function bucketOf(value: unknown, components: ReadonlyMap<string, DesiredComponent>): string | undefined {
  if (!isValueFrom(value)) return undefined;
  return components.get(value.valueFrom.component)?.kind === 'S3' ? value.valueFrom.component : undefined;
}

/** What each bucket of the stack is used for by the others, by bucket id. */
export function bucketAccess(components: ReadonlyMap<string, DesiredComponent>): Map<string, BucketAccess[]> {
  const out = new Map<string, BucketAccess[]>();
  const add = (bucket: string | undefined, access: BucketAccess): void => {
    if (bucket) out.set(bucket, [...(out.get(bucket) ?? []), access]);
  };
  for (const c of components.values()) {
    const spec = c.spec;
    if (c.kind === 'ALB' || c.kind === 'NLB') {
      const logs = spec['accessLogs'] as { bucket?: unknown; prefix?: string; enabled?: boolean } | undefined;
      if (logs && logs.enabled !== false)
        add(bucketOf(logs.bucket, components), {
          component: c.id,
          access: c.kind === 'ALB' ? 'alb-logs' : 'log-delivery',
          ...prefixOf(logs.prefix),
        });
    }
    if (c.kind === 'CloudFront') {
      const logging = spec['logging'] as { bucket?: unknown; prefix?: string } | undefined;
      if (logging) add(bucketOf(logging.bucket, components), { component: c.id, access: 'log-delivery', ...prefixOf(logging.prefix) });
      for (const origin of (spec['origins'] ?? []) as Spec[]) {
        const type = origin['type'];
        if (type === undefined || type === 's3')
          add(bucketOf(origin['source'], components), { component: c.id, access: 'cloudfront-read' });
      }
    }
  }
  for (const [bucket, list] of out)
    out.set(
      bucket,
      list.filter((a, i) => list.findIndex((b) => JSON.stringify(b) === JSON.stringify(a)) === i),
    );
  return out;
}

const prefixOf = (prefix: string | undefined): { prefix?: string } => {
  const clean = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return clean ? { prefix: clean } : {};
};
