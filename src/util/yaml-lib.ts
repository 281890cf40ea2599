/**
 * The `yaml` library, loaded on first use (it is 70 modules, a tenth of a small `plan`'s start):
 * the stack's documents are read by js-yaml (discovery/parse-fast.ts), and `yaml` is needed only
 * for source positions, settings files and the files js-yaml reads differently.
 */
import { createRequire } from 'node:module';

type YamlLib = typeof import('yaml');
let loaded: YamlLib | undefined;

/** `yaml`, loaded synchronously the first time (its Node entry is CommonJS). */
export function yamlLib(): YamlLib {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlLib);
}
