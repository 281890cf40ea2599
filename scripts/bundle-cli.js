// Build step (after tsc): bundles the CLI (dist/cli/main.js and everything it imports, with the
// small pure-JS packages on the plan path) into dist/bundle/, one module per lazily loaded part.
// Node then reads a handful of files instead of ~130 and resolves no import specifiers, which is
// most of a short command's start-up (docs/performance.md, "Start-up"). bin/deployer.js runs
// the bundle when it is at least as new as dist/cli/main.js, and dist/cli/main.js otherwise.
//
// Packages stay outside the bundle unless listed in BUNDLED: native ones (better-sqlite3), the
// ones whose identity or files matter at run time (@pulumi/*: the engine and the programs must
// share one instance; ajv: the generated validators require its runtime), and the large ones
// only some commands load (the AWS SDK, fastify, pg, OpenTelemetry).
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');

/** Small pure-JS packages that every plan or apply loads; bundled with their own dependencies. */
const BUNDLED = new Set(['commander', 'js-yaml', '@dagrejs/graphlib', 'croner', 'ignore', 'tinyglobby']);

const { dependencies } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const external = Object.keys(dependencies)
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // The bundled CommonJS packages require Node's own modules; an ES module has no `require`.
  banner: { js: "import { createRequire as __deployerRequire } from 'node:module'; const require = __deployerRequire(import.meta.url);" },
  logLevel: 'warning',
});
process.stdout.write(`bundled the CLI into ${path.relative(root, outdir)}/\n`);
