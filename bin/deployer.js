#!/usr/bin/env node
// The `deployer` command: runs the CLI built by `npm install` / `npm run build`, bundled with its
// code cache when that is current (bin/bundled-cli.js), else as compiled modules.
// CommonJS (bin/package.json): Node starts a CommonJS entry without its ES module loader, a few
// ms of every command.
'use strict';
const { existsSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const { compiledCli, loadBundledCli } = require('./bundled-cli.js');

if (!existsSync(compiledCli)) {
  process.stderr.write('deployer is not built: run `npm install` (or `npm run build`) in its directory first.\n');
  process.exit(1);
}
// A rejection here (a bug below the CLI's own handling) is printed by Node, exit code 1.
void (async () => {
  const cli = loadBundledCli() ?? (await import(pathToFileURL(compiledCli).href));
  process.exitCode = await cli.runCli(process.argv.slice(2));
})();
