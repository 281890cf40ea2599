#!/usr/bin/env node
// The `deployer` command: runs the compiled CLI in dist/ (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('deployer is not built: run `npm install` (or `npm run build`) in its directory first.\n');
  process.exit(1);
}
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2));
