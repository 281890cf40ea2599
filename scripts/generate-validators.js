// Build step (after tsc): writes the kinds' validators as code into dist/schema-validators/, so
// a run loads them instead of compiling the schemas at each start (src/discovery/schema-code.ts).
import { readSchemaSources, writeValidatorModules } from '../dist/discovery/schema-code.js';
import { generatedValidatorsDir } from '../dist/discovery/validate.js';
import { schemasDir } from '../dist/package-info.js';

const { kinds } = writeValidatorModules(readSchemaSources(schemasDir), generatedValidatorsDir);
process.stdout.write(`generated the validators of ${kinds.length} kinds into ${generatedValidatorsDir}\n`);
