/**
 * Where deployer is installed and which versions it carries. Used to find the schemas, the
 * compiled local-target runtime (run by Pulumi's provider process, which cannot load
 * TypeScript) and the @pulumi/pulumi SDK whose version the Pulumi CLI must match.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest directory above this module with deployer's package.json. This
 * module is `src/package-info.ts`, `dist/package-info.js`, or a part of the bundled CLI under
 * `dist/bundle/` (scripts/bundle-cli.js), so its depth below the root varies.
 */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'Pulumi.yaml')) && existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..');
  }
}

const require = createRequire(import.meta.url);

function readJson(file: string): { version: string } {
  return JSON.parse(readFileSync(file, 'utf8')) as { version: string };
}

export const deployerVersion: string = readJson(path.join(packageRoot, 'package.json')).version;

/** Directory of the installed @pulumi/pulumi package (holds pulumi-resource-pulumi-nodejs). */
export const pulumiSdkDir: string = path.dirname(require.resolve('@pulumi/pulumi/package.json'));

/** The installed @pulumi/pulumi version: the Pulumi CLI is built at exactly this version. */
export const pulumiSdkVersion: string = readJson(path.join(pulumiSdkDir, 'package.json')).version;

/** The node_modules directory that holds @pulumi/pulumi (the provider process resolves it from there). */
export const nodeModulesDir: string = path.resolve(pulumiSdkDir, '..', '..');

export const schemasDir = path.join(packageRoot, 'schemas');

/** A compiled module under dist/, for code that runs outside this process. */
export function distFile(relative: string): string {
  return path.join(packageRoot, 'dist', relative);
}
