/**
 * The layers of docs/architecture.md, as `npm run lint` enforces them: an import from a lower
 * folder of src/ into a higher one fails lint, naming both; imports the layers allow pass.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/testdir.js';

async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers', () => {
  it('refuses an upward import, saying what the folder may import', async () => {
    expect(await lint('src/state/x.ts', "import { applyStack } from '../workflows/apply.js';\nexport const x = applyStack;\n")).toEqual([
      expect.stringContaining(
        "'../workflows/apply.js' import is restricted from being used by a pattern. src/state/ may not import src/workflows/: it may import model, util (layers in docs/architecture.md)",
      ),
    ]);
    // The machinery never reaches up into the workflows that drive it, nor into the ledger they record to.
    expect(
      await lint('src/executor/x.ts', "import { applyStack } from '../workflows/apply.js';\nexport const x = applyStack;\n"),
    ).toHaveLength(1);
    expect(
      await lint('src/executor/x.ts', "import { openLedger } from '../ledger/index.js';\nexport const x = openLedger;\n"),
    ).toHaveLength(1);
    expect(
      await lint('src/targets/local/x.ts', "import { discover } from '../../discovery/index.js';\nexport const x = discover;\n"),
    ).toHaveLength(1);
    expect(await lint('src/plan/x.ts', "export type { Settings } from '../cli/context.js';\n")).toHaveLength(1);
    // Reconciliation drives the workflows; nothing below reaches up into it.
    expect(
      await lint('src/workflows/x.ts', "import { detectDrift } from '../reconcile/drift.js';\nexport const x = detectDrift;\n"),
    ).toHaveLength(1);
    expect(
      await lint('src/reconcile/x.ts', "import { applyStack } from '../workflows/apply.js';\nexport const x = applyStack;\n"),
    ).toHaveLength(0);
  });

  it('lets a folder import what lies below it', async () => {
    expect(
      await lint(
        'src/executor/x.ts',
        "import { computePlan } from '../plan/index.js';\nimport { openStateStore } from '../state/index.js';\nexport const x = [computePlan, openStateStore];\n",
      ),
    ).toEqual([]);
    expect(await lint('src/discovery/x.ts', "import { buildGraph } from '../graph/index.js';\nexport const x = buildGraph;\n")).toEqual([]);
    expect(
      await lint(
        'src/workflows/x.ts',
        "import { execute } from '../executor/execute.js';\nimport { openLedger } from '../ledger/index.js';\nexport const x = [execute, openLedger];\n",
      ),
    ).toEqual([]);
  });
});

describe('format', () => {
  it('npm run lint checks the formatting of the code with the project settings, and refuses a line past 140 characters', async () => {
    const { check, resolveConfig, getFileInfo } = await import('prettier');
    const file = path.join(repoRoot, 'src/util/x.ts');
    const options = { ...(await resolveConfig(file)), filepath: file };
    const long = `export const greeting = [${Array.from({ length: 20 }, (_, i) => `'word${i}'`).join(', ')}];\n`;
    expect(long.length).toBeGreaterThan(140);
    expect(await check(long, options)).toBe(false);
    expect(await check('export const greeting = "hello"\n', options)).toBe(false); // double quotes, no semicolon
    expect(await check("export const greeting = 'hello';\n", options)).toBe(true);
    // Fixtures and documents are written by hand and left alone.
    expect(
      (await getFileInfo(path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'), { ignorePath: path.join(repoRoot, '.prettierignore') }))
        .ignored,
    ).toBe(true);
  });
});
