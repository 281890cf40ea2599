// Runs one `up` of a local MicroService through the compiled Engine, then waits; the test kills
// it in the middle of the operation. Prints "creating" when Pulumi starts creating the resource.
// Usage: node engine-child.mjs <work dir> <port> <echo-server path> <run id>
const root = new URL('../../dist/', import.meta.url).href;
const { ensurePulumiCli, createEngine } = await import(`${root}engine/index.js`);
const { LocalTarget } = await import(`${root}targets/local/index.js`);
const { pathToFileURL } = await import('node:url');
const path = await import('node:path');

const [dir, port, server, runId] = process.argv.slice(2);
const target = new LocalTarget();
const engine = await createEngine({
  cli: await ensurePulumiCli(),
  backendUrl: pathToFileURL(path.join(dir, 'pulumi')).href,
  workRoot: path.join(dir, 'work'),
  passphrase: 'recovery',
  env: target.engineEnv(),
  runId,
});
const component = {
  id: 'app/api',
  service: 'app',
  name: 'api',
  kind: 'MicroService',
  target: 'local',
  spec: {},
  dependsOn: [],
  references: [],
  baseDir: dir,
  source: { file: path.join(dir, 'api.yaml'), display: 'api.yaml', docIndex: 0 },
  specHash: '',
};
const spec = { command: [process.execPath, server], port: Number(port), env: { VERSION: 'v1', START_DELAY: '4000' } };
await engine.up({
  stackName: 'rec.test.app.api',
  program: target.program({ ...component, spec }, spec, { stack: 'rec', environment: 'test', stackDir: dir }),
  onProgress: (p) => {
    if (p.phase === 'started' && p.op === 'create') process.stdout.write('creating\n');
  },
});
process.stdout.write('done\n');
