/**
 * `deployer plan --resources` (issue 16): a reviewer sees what each change would make on AWS
 * before anyone has credentials — a run of each changing component's program under Pulumi's
 * runtime mocks, in dependency order — and nothing is written or locked.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';

afterAll(removeTestdirs);

describe('plan --resources', () => {
  it('lists the resources each change of an aws stack would make, and writes nothing', async () => {
    const dir = testdir('aws-basic');
    const r = await deployer(['plan', '-C', dir, '-e', 'dev', '--resources']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan: 5 to create');
    expect(r.stdout).toContain('jobs/orders (SQS, create): 5 resources');
    expect(r.stdout).toMatch(/aws:sqs\/queue:Queue\s+dead-letter\n\s+aws:sqs\/queue:Queue\s+queue\n/);
    expect(r.stdout).toMatch(/stack\/platform \(Platform, create\): \d+ resources/);
    expect(r.stdout).toMatch(/aws:ec2\/vpc:Vpc\s+vpc/);
    // Nothing but the parse cache: no state, no lock, no Pulumi stack.
    expect(readdirSync(path.join(dir, '.deployer'))).toEqual(['cache']);
    const { json } = await deployerJson<{ resources: Record<string, Array<{ type: string; name: string }>> }>([
      'plan',
      '-C',
      dir,
      '-e',
      'dev',
      '--resources',
    ]);
    expect(Object.keys(json.resources).sort()).toEqual(['data/files', 'jobs/audit', 'jobs/events', 'jobs/orders', 'stack/platform']);
    expect(json.resources['data/files']).toContainEqual({ type: 'aws:s3/bucket:Bucket', name: 'bucket' });
  });

  it('says why there is nothing more to show on the local target', async () => {
    const dir = testdir('examples/quickstart');
    const r = await deployer(['plan', '-C', dir, '-e', 'dev', '--resources']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Resources: the local target makes one resource per component: there is nothing more to show.');
  });
});
