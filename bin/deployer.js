#!/usr/bin/env node
// The `deployer` command: runs the CLI built by `npm install` / `npm run build`, bundled with its
// code cache when that is current (bin/bundled-cli.js), else as compiled modules.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compiledCli, loadBundledCli } from './bundled-cli.js';

if (!existsSync(compiledCli)) {
  process.stderr.write('deployer is not built: run `npm install` (or `npm run build`) in its directory first.\n');
  process.exit(1);
}
const cli = loadBundledCli() ?? (await import(pathToFileURL(compiledCli).href));
process.exitCode = await cli.runCli(process.argv.slice(2));
