/**
 * `plan` and `apply` discover the stack once: the stack loaded to ask its regions is the one
 * the workflow plans and applies (a second discovery was a tenth of a small stack's no-op plan).
 * A stack that lists regions is still loaded again for each region it runs.
 */
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deployer } from '../../test/helpers/cli.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';

const discoveries = vi.hoisted(() => ({ count: 0 }));
vi.mock('../discovery/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../discovery/index.js')>();
  return {
    ...actual,
    discoverStack: (...args: Parameters<typeof actual.discoverStack>) => {
      discoveries.count++;
      return actual.discoverStack(...args);
    },
  };
});

afterAll(removeTestdirs);
beforeEach(() => {
  discoveries.count = 0;
});

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: once\nspec:\n  environments: [dev]\n  target: local\n';

describe('one discovery per command', () => {
  it('plan, then apply (nothing to change) of a stack: each discovers it once', async () => {
    const dir = writeStackDir({ 'stack.yaml': STACK });
    const plan = await deployer(['plan', '-C', dir, '-e', 'dev']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: 0 to create');
    expect(discoveries.count).toBe(1);

    discoveries.count = 0;
    const apply = await deployer(['apply', '--yes', '-C', dir, '-e', 'dev']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(discoveries.count).toBe(1);
  });

  it('plan of a stack in two regions: once to find them, then once per region', async () => {
    const dir = writeStackDir({ 'stack.yaml': STACK.replace('  target: local\n', '  target: aws\n  regions: [eu-west-1, us-east-1]\n') });
    const plan = await deployer(['plan', '-C', dir, '-e', 'dev']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(discoveries.count).toBe(3);
  });
});
