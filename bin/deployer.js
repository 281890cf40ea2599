#!/usr/bin/env node
// The `deployer` command: runs the compiled CLI (built by `npm install` / `npm run build`). The
// bundled CLI (dist/bundle/, scripts/bundle-cli.js) starts about twice as fast; it is used while
// it is at least as new as the compiled modules it was made from, so a `tsc` alone is never
// shadowed by an older bundle.
import { existsSync, statSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const bundled = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('deployer is not built: run `npm install` (or `npm run build`) in its directory first.\n');
  process.exit(1);
}
const fresh = existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs;
const { runCli } = await import((fresh ? bundled : compiled).href);
process.exitCode = await runCli(process.argv.slice(2));
