// Lint configuration: typescript-eslint's recommended rules over src/, test/ and bench/, and the
// layers of docs/architecture.md: each folder of src/ imports only the folders below it, so data
// flows one way (workflows -> discovery -> graph -> plan -> executor -> engine, state, ledger)
// and an upward import fails `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What workflows/ may import: every layer that does one part of a command's work. */
const BELOW_WORKFLOWS = [
  'config',
  'discovery',
  'graph',
  'plan',
  'executor',
  'pipeline',
  'engine',
  'targets',
  'state',
  'lock',
  'ledger',
  'model',
  'util',
];

/** What reconcile/ may import: the workflows and everything below them. */
const BELOW_RECONCILE = [...BELOW_WORKFLOWS, 'workflows'];

/** What each folder of src/ may import (besides itself, errors.ts and package-info.ts). */
export const LAYERS = {
  model: [],
  util: [],
  config: ['util'],
  graph: ['model'],
  discovery: ['config', 'graph', 'model', 'util'],
  plan: ['graph', 'model'],
  state: ['model', 'util'],
  lock: ['model', 'util'],
  ledger: ['model', 'util'],
  engine: ['model', 'util'],
  targets: ['model', 'util'],
  pipeline: ['state', 'model', 'util'],
  executor: ['graph', 'plan', 'pipeline', 'engine', 'targets', 'state', 'lock', 'model', 'util'],
  workflows: BELOW_WORKFLOWS,
  reconcile: BELOW_RECONCILE,
  bootstrap: ['config', 'engine', 'state', 'lock', 'model', 'util'],
  // The server calls what the CLI calls: everything a command may reach, and the commands' loops.
  server: [...BELOW_RECONCILE, 'reconcile'],
  cli: Object.keys({
    model: 0,
    util: 0,
    config: 0,
    graph: 0,
    discovery: 0,
    plan: 0,
    state: 0,
    lock: 0,
    ledger: 0,
    engine: 0,
    targets: 0,
    executor: 0,
    pipeline: 0,
    workflows: 0,
    reconcile: 0,
    bootstrap: 0,
    server: 0,
  }),
};

const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter((f) => f !== folder && !allowed.includes(f));
  return {
    files: [`src/${folder}/**/*.ts`],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((f) => ({
            group: [`../${f}/*`, `../../${f}/*`, `../../../${f}/*`, `../${f}`, `../../${f}`],
            message: `src/${folder}/ may not import src/${f}/: it may import ${allowed.length ? allowed.join(', ') : 'no other layer'} (layers in docs/architecture.md)`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'examples/**/node_modules/**', '**/.deployer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
  {
    // The command's entry and the bundle's loader are CommonJS (bin/package.json): Node starts them without its ES module loader.
    files: ['bin/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
