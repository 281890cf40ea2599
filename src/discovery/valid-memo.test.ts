/**
 * The documents known valid (valid-memo.ts): a stack discovered again validates none of its
 * documents and gives the same stack; an edit is validated (and refused) as ever; a refused
 * document is never remembered; a discovery that refuses the stack keeps nothing; a damaged memo
 * or one of other schemas is only a slower run.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { discover } from './index.js';
import { ValidMemo } from './valid-memo.js';
import { loadSchemas } from './validate.js';

afterAll(removeTestdirs);
afterEach(() => {
  vi.restoreAllMocks();
});

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: known\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const api = (spec: string): string => `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n${spec}`;
const stack = (apiSpec: string): string =>
  writeStackDir({ 'stack.yaml': STACK, 'services/web/service.yaml': SERVICE, 'services/web/api.yaml': api(apiSpec) });
const cacheDirOf = (dir: string): string => path.join(dir, '.deployer', 'cache');
const memos = (dir: string): string[] =>
  existsSync(cacheDirOf(dir)) ? readdirSync(cacheDirOf(dir)).filter((f) => f.startsWith('valid-')) : [];

/** Counts the validators discovery asks for (each document it validates asks for its kind's). */
function countValidations(): { count: () => number } {
  const spy = vi.spyOn(loadSchemas(), 'validatorFor');
  return { count: () => spy.mock.calls.length };
}

describe('documents known valid', () => {
  it('validates none of an unchanged stack the second time, and gives the same stack', async () => {
    const dir = stack('  port: 8080\n');
    const first = await discover({ dir, displayBase: dir });
    const validations = countValidations();
    const second = await discover({ dir, displayBase: dir });
    expect(validations.count()).toBe(0);
    expect(second).toEqual(first);
    expect(memos(dir)).toHaveLength(1);
  });

  it('validates an edited document again and refuses it, though its earlier form was known valid', async () => {
    const dir = stack('  port: 8080\n');
    await discover({ dir, displayBase: dir });
    writeFileSync(path.join(dir, 'services/web/api.yaml'), api('  port: eighty\n'));
    const validations = countValidations();
    const problems = await problemsRaised(discover({ dir, displayBase: dir }));
    expect(problems).toEqual([
      `${path.join('services', 'web', 'api.yaml')}:6:3 MicroService/api /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`,
    ]);
    // The edited component only: the Stack and the Service were known.
    expect(validations.count()).toBe(1);
  });

  it('keeps nothing when discovery refuses the stack (a literal secret may validate clean)', async () => {
    const dir = stack('  port: 8080\n  env:\n    DB_PASSWORD: hunter2hunter2\n');
    await expect(discover({ dir, displayBase: dir })).rejects.toThrow();
    expect(memos(dir)).toEqual([]);
  });

  it('never remembers a refused document, and remembers a clean one across runs of the same schemas only', async () => {
    const dir = writeStackDir({});
    const memo = await ValidMemo.load(dir, 'a'.repeat(64));
    const refuse = vi.fn(() => ['bad']);
    expect(memo.validated({ kind: 'S3' }, refuse)).toEqual(['bad']);
    expect(memo.validated({ kind: 'S3' }, refuse)).toEqual(['bad']);
    expect(refuse).toHaveBeenCalledTimes(2);
    const accept = vi.fn((): string[] => []);
    memo.validated({ kind: 'SQS' }, accept);
    await memo.save();

    const again = await ValidMemo.load(dir, 'a'.repeat(64));
    expect(again.validated({ kind: 'SQS' }, accept)).toEqual([]);
    expect(accept).toHaveBeenCalledTimes(1);
    const otherSchemas = await ValidMemo.load(dir, 'b'.repeat(64));
    otherSchemas.validated({ kind: 'SQS' }, accept);
    expect(accept).toHaveBeenCalledTimes(2);
    await otherSchemas.save();
    // The memo of the schemas before is removed: it is never read again.
    expect(readdirSync(dir).filter((f) => f.startsWith('valid-'))).toEqual([expect.stringContaining('-bbbbbbbb')]);
  });

  it('takes a damaged memo for an empty one', async () => {
    const dir = writeStackDir({});
    mkdirSync(dir, { recursive: true });
    const fingerprint = 'c'.repeat(64);
    const first = await ValidMemo.load(dir, fingerprint);
    first.validated({ kind: 'SNS' }, () => []);
    await first.save();
    const [file] = readdirSync(dir).filter((f) => f.startsWith('valid-'));
    writeFileSync(path.join(dir, file!), '{"valid": [');
    const validate = vi.fn((): string[] => []);
    (await ValidMemo.load(dir, fingerprint)).validated({ kind: 'SNS' }, validate);
    expect(validate).toHaveBeenCalledTimes(1);
  });
});
