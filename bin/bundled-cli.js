// Loads the bundled CLI (dist/bundle/deployer.cjs, made by scripts/bundle-cli.js) with V8's code
// cache, the compiled form of the code it ran when the build warmed it up. Reading that instead
// of compiling ~1.5 MB of JavaScript is most of a short command's start-up (docs/performance.md,
// "Start-up"). Used by bin/deployer.js, and by the build to write the cache.
//
// The bundle is used only while it is at least as new as dist/cli/main.js (a `tsc` alone is
// never shadowed by an older bundle), and the cache only when its name carries the bundle's size
// and time: V8 checks the cache's V8 version and flags but not the text it was made from.
'use strict';
const { existsSync, readFileSync, statSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const root = path.resolve(__dirname, '..');
const compiledCli = path.join(root, 'dist', 'cli', 'main.js');
const bundledCli = path.join(root, 'dist', 'bundle', 'deployer.cjs');

/**
 * The bundle as the build writes it: one function expression over CommonJS's parameters and
 * `__deployerImport`, in ASCII only (`\uXXXX` for anything else, which esbuild leaves only in
 * comments). Read as latin1, its text becomes a one-byte string with no UTF-8 to decode, and V8
 * compiles the file as it is, with no copy of 1.5 MB to wrap it.
 */
function wrapBundle(code) {
  const ascii = code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `(function (exports, require, module, __filename, __dirname, __deployerImport) {${ascii}\n})`;
}

/** The bundle's dynamic imports, made from this module (scripts/bundle-cli.js routes them here). */
const importForBundle = (specifier) => import(specifier);

/**
 * The bundled CLI, or undefined when there is none or it is older than the compiled modules.
 * `script` is V8's view of it: `script.createCachedData()` makes the cache.
 */
function loadBundledCli({ useCache = true } = {}) {
  const bundle = statSync(bundledCli, { throwIfNoEntry: false });
  if (!bundle || bundle.mtimeMs < statSync(compiledCli).mtimeMs) return undefined;
  const cacheFile = `${bundledCli}.${bundle.size}-${Math.trunc(bundle.mtimeMs)}.v8cache`;
  const cachedData = useCache && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(readFileSync(bundledCli, 'latin1'), { filename: bundledCli, cachedData });
  const module = { exports: {} };
  const run = script.runInThisContext();
  run(module.exports, createRequire(bundledCli), module, bundledCli, path.dirname(bundledCli), importForBundle);
  return { runCli: module.exports.runCli, script, cacheFile };
}

module.exports = { bundledCli, compiledCli, loadBundledCli, wrapBundle };
