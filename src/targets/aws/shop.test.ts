/**
 * examples/shop on the aws target (issue 16): it translates completely in every environment
 * (golden files of each component's resources, test/fixtures/aws-golden/shop/), every output a
 * component references is one its kind makes, no secret value reaches a resource input, a
 * compliance rule is enforced before anything is translated, and the resources of dev and of
 * production differ exactly by the overlays' effect: taking away one of production's overlay
 * files changes the resources of exactly the components whose configuration it changes.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../test/helpers/aws-translate.js';
import { problemsRaised } from '../../../test/helpers/problems.js';
import { removeTestdirs, repoRoot, testdir } from '../../../test/helpers/testdir.js';
import { discover } from '../../discovery/index.js';
import { loadSchemas } from '../../discovery/validate.js';
import { canonicalJson } from '../../model/hash.js';
import { MOCK_SECRET_VALUE, SECRET_SHOWN } from './mocks.js';

afterAll(removeTestdirs);

const shop = path.join(repoRoot, 'examples', 'shop');
const golden = (file: string): string => path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'shop', file);
const ENVIRONMENTS = ['dev', 'staging', 'production'];
const translated = new Map<string, TranslatedStack>();

beforeAll(async () => {
  for (const env of ENVIRONMENTS) translated.set(env, await translateStack(shop, env));
}, 300_000);

/** The outputs a kind declares for the aws target (those of its schema it makes there). */
function declaredOutputs(kind: string): string[] {
  const schema = loadSchemas().schemaOf(kind)!;
  const byTarget = (schema['x-deployer-target-outputs'] as Record<string, string[]> | undefined)?.['aws'];
  return [...(byTarget ?? Object.keys(schema['x-deployer-outputs'] as object))].sort();
}

describe.each(ENVIRONMENTS)('examples/shop in %s', (env) => {
  it('translates every component, each kept as its golden file', async () => {
    const stack = translated.get(env)!;
    expect([...stack.runs.keys()].sort()).toEqual([...stack.desired.components.keys()].sort());
    for (const [id, run] of stack.runs) {
      const c = stack.desired.components.get(id)!;
      expect(run.resources.length, id).toBeGreaterThan(1);
      await expect(renderRun(`${id} (${c.kind}) on aws, environment ${env}`, run)).toMatchFileSnapshot(
        golden(`${env}/${id.replace('/', '.')}.yaml`),
      );
    }
  });

  it('makes exactly the outputs each kind declares, and puts no secret value in any input', () => {
    const stack = translated.get(env)!;
    for (const [id, run] of stack.runs) {
      const kind = stack.desired.components.get(id)!.kind;
      if (kind !== 'Platform') expect(Object.keys(run.outputs).sort(), id).toEqual(declaredOutputs(kind));
      const inputs = JSON.stringify(run.resources);
      expect(inputs, id).not.toContain(MOCK_SECRET_VALUE);
      // The shop's secrets are ARNs ECS resolves, but for the database's master password and the cache's AUTH token, which
      // the shop keeps in Secrets Manager itself: AWS takes nothing but their value, which Pulumi reads at deploy time and keeps encrypted.
      const encrypted = run.resources.flatMap((r) =>
        Object.entries(r.inputs)
          .filter(([, v]) => v === SECRET_SHOWN)
          .map(([k]) => `${r.type} ${k}`),
      );
      const expected: Record<string, string[]> = {
        'data/cache': ['aws:elasticache/replicationGroup:ReplicationGroup authToken'],
        'data/db': ['aws:rds/instance:Instance password'],
      };
      expect(encrypted, id).toEqual(expected[id] ?? []);
      expect(inputs.split(SECRET_SHOWN).length - 1, id).toBe(encrypted.length);
    }
    const api = translated.get(env)!.runs.get('api/api')!;
    const task = api.resources.find((r) => r.type === 'aws:ecs/taskDefinition:TaskDefinition')!;
    const secrets = (
      JSON.parse(String(task.inputs['containerDefinitions'])) as Array<{ secrets?: Array<{ name: string; valueFrom: string }> }>
    )[0]!.secrets;
    expect(secrets?.map((s) => s.name)).toEqual(['DATABASE_PASSWORD', 'REDIS_AUTH_TOKEN', 'STRIPE_API_KEY']);
    expect(secrets?.every((s) => s.valueFrom.startsWith('arn:aws:secretsmanager:eu-west-1:'))).toBe(true);
  });
});

/** The shop without some of its files, translated in production; its Compliance rules go too (they check configuration, they never change it). */
async function productionWithout(...files: string[]): Promise<TranslatedStack> {
  const dir = testdir('examples/shop');
  for (const f of ['infra/compliance.yaml', ...files]) rmSync(path.join(dir, f), { recursive: true });
  return translateStack(dir, 'production');
}

/** The components of `b` whose configuration differs from `a`'s, and those whose resources differ. */
function differences(a: TranslatedStack, b: TranslatedStack): { configuration: string[]; resources: string[] } {
  const ids = [...b.runs.keys()].sort();
  return {
    configuration: ids.filter(
      (id) => canonicalJson(a.desired.components.get(id)!.spec) !== canonicalJson(b.desired.components.get(id)!.spec),
    ),
    resources: ids.filter((id) => renderRun(id, a.runs.get(id)!) !== renderRun(id, b.runs.get(id)!)),
  };
}

describe('dev and production of examples/shop', () => {
  it.each([
    ['services/api/api.yaml', ['api/api']],
    ['services/data/assets.yaml', ['data/assets']],
    ['services/data/cache.yaml', ['data/cache']],
    ['services/data/db.yaml', ['data/db']],
    // The load balancer's access logs go to the assets bucket, whose policy lets it write them.
    ['services/edge/lb.yaml', ['data/assets', 'edge/lb']],
    ['services/jobs/order-worker.yaml', ['jobs/order-worker']],
    // The queue's key: those who use the queue may use the key too.
    ['services/jobs/orders.yaml', ['api/api', 'jobs/order-worker', 'jobs/orders']],
    ['infra/components.yaml', ['jobs/order-worker']],
  ])(
    'differ by the overlays: without production’s %s, exactly the components it configures change, all of them',
    async (file, configures) => {
      const without = await productionWithout(path.join('environments', 'production', file));
      expect(differences(translated.get('production')!, without)).toEqual({ configuration: configures, resources: configures });
    },
  );

  it('differ by the overlays: production’s Networking and Observability overlay reaches the platform and every component it applies to', async () => {
    const without = await productionWithout(path.join('environments', 'production', 'infra', 'defaults.yaml'));
    const { configuration, resources } = differences(translated.get('production')!, without);
    expect(resources).toEqual(configuration);
    expect(configuration).toContain('stack/platform');
  });

  it('keeps the whole difference between dev and production for a reviewer to read', async () => {
    await expect(resourceDiff(translated.get('dev')!, translated.get('production')!)).toMatchFileSnapshot(golden('dev-vs-production.diff'));
  });
});

describe('compliance', () => {
  it('refuses a public bucket in production before anything is translated, naming the file, line and rule', async () => {
    const dir = testdir('examples/shop');
    const overlay = path.join(dir, 'environments', 'production', 'services', 'data', 'assets.yaml');
    writeFileSync(overlay, readFileSync(overlay, 'utf8') + '  publicAccess: true\n');
    const problems = await problemsRaised(discover({ dir, displayBase: dir, environment: 'production', cacheDir: false }));
    expect(problems).toEqual([
      'environments/production/services/data/assets.yaml:9:3 S3/assets /spec/publicAccess [policy:no-public-buckets] policy "no-public-buckets" (noPublicBuckets): data/assets is a public bucket: set publicAccess: false',
    ]);
  });
});

/** Each component's resources in `a` and `b` as a line diff (the environment's name made the same), only where they differ. */
function resourceDiff(a: TranslatedStack, b: TranslatedStack): string {
  const out: string[] = [];
  for (const id of [...b.runs.keys()].sort()) {
    const left = renderRun(id, a.runs.get(id)!).replaceAll(a.desired.environment, '<env>').split('\n');
    const right = renderRun(id, b.runs.get(id)!).replaceAll(b.desired.environment, '<env>').split('\n');
    const lines = lineDiff(left, right);
    if (lines.length > 0) out.push(`### ${id}: dev -> production`, ...lines, '');
  }
  return out.join('\n');
}

/** A minimal line diff (longest common subsequence): `- ` lines only in `a`, `+ ` lines only in `b`. */
function lineDiff(a: string[], b: string[]): string[] {
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}
