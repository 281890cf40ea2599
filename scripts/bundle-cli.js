// Build step (after tsc): bundles the CLI (dist/cli/main.js and everything it imports, with the
// small pure-JS packages on the plan path) into one CommonJS file, dist/bundle/deployer.cjs, and
// warms it up to write V8's code cache beside it. Node then reads two files and compiles almost
// nothing, where it read ~130 modules, resolved their imports and compiled each: most of a short
// command's start-up (docs/performance.md, "Start-up"). bin/bundled-cli.js loads them.
//
// Packages stay outside the bundle unless listed in BUNDLED: native ones (better-sqlite3), the
// ones whose identity or files matter at run time (@pulumi/*: the engine and the programs must
// share one instance; ajv: the generated validators require its runtime), and the large ones
// only some commands load (the AWS SDK, fastify, pg, OpenTelemetry). Modules the CLI imports
// lazily stay lazy: esbuild runs a bundled module's body on its first import.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundledCli, loadBundledCli, wrapBundle } from '../bin/bundled-cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Small pure-JS packages that every plan or apply loads; bundled with their own dependencies. */
const BUNDLED = new Set(['commander', 'js-yaml', '@dagrejs/graphlib', 'croner', 'ignore', 'tinyglobby']);

const { dependencies } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const external = Object.keys(dependencies)
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

/**
 * Routes the compiled modules' dynamic imports of packages and files (execa, the AWS SDK, the
 * local target's providers) through `__deployerImport`, the loader's own `import()`: an import()
 * inside a vm.Script needs an experimental callback (and prints a warning). Imports of the CLI's
 * own modules (`./`, `../`) and of the BUNDLED packages (tinyglobby) are left for esbuild to bundle.
 */
const distDir = `${path.join(root, 'dist')}${path.sep}`;
const DYNAMIC_IMPORT = String.raw`(?<![\w$.])import\(`;
const bundledNames = [...BUNDLED].map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
const LEFT_TO_ESBUILD = String.raw`(?!\s*['"](?:\.\.?\/|(?:${bundledNames})['"/]))`;
const routeDynamicImports = {
  name: 'route-dynamic-imports',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(distDir)) return undefined;
      const text = await readFile(args.path, 'utf8');
      return {
        contents: text.replace(new RegExp(DYNAMIC_IMPORT + LEFT_TO_ESBUILD, 'g'), '__deployerImport('),
        loader: 'js',
      };
    });
  },
};

rmSync(path.dirname(bundledCli), { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
  outfile: bundledCli,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // A CommonJS file has no import.meta; the modules that ask for their own URL get the bundle's.
  define: { 'import.meta.url': '__deployerBundleUrl' },
  banner: { js: "const __deployerBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [routeDynamicImports],
  logLevel: 'warning',
});
const bundled = readFileSync(bundledCli, 'utf8');
const left = new RegExp(DYNAMIC_IMPORT).exec(bundled);
if (left) throw new Error(`the bundled CLI still has an import() the loader cannot serve, at offset ${left.index}`);
writeFileSync(bundledCli, wrapBundle(bundled));

const cli = loadBundledCli({ useCache: false });
await warmUp(cli.runCli);
writeFileSync(cli.cacheFile, cli.script.createCachedData());
const files = readdirSync(path.dirname(bundledCli)).length;
process.stdout.write(`bundled the CLI into ${path.relative(root, bundledCli)} with its code cache (${files} files)\n`);

/**
 * Runs what a short command runs, in this process, so the cache holds those functions compiled:
 * `plan` of a copy of the quick start, twice (parsed, then from the parse cache), and an `apply`
 * of an empty stack (locks, state, the executor with nothing to do; no Pulumi).
 */
async function warmUp(runCli) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-warm-up-'));
  const sink = { write: () => true };
  // The user's settings (a ledger URL, a state or lock URL) must not reach the warm-up's stacks.
  for (const name of Object.keys(process.env)) if (name.startsWith('DEPLOY')) delete process.env[name];
  const io = { stdout: sink, stderr: sink, interactive: false, env: process.env };
  try {
    const quickstart = path.join(dir, 'quickstart');
    cpSync(path.join(root, 'examples', 'quickstart'), quickstart, {
      recursive: true,
      filter: (src) => !['.deployer', 'node_modules'].includes(path.basename(src)),
    });
    const empty = path.join(dir, 'empty');
    cpSync(path.join(quickstart, 'stack.yaml'), path.join(empty, 'stack.yaml'));
    for (const argv of [
      ['plan', '-C', quickstart, '-e', 'dev'],
      ['plan', '-C', quickstart, '-e', 'dev'],
      ['apply', '--yes', '-C', empty, '-e', 'dev'],
    ]) {
      const code = await runCli(argv, io);
      if (code !== 0) throw new Error(`warming the bundled CLI up: deployer ${argv.join(' ')} exited ${code}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
