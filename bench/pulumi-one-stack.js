#!/usr/bin/env node
// The Pulumi anchor of bench/engine-cost.js: one stack of n dynamic resources on the DAG of
// that bench, each making a directory, through the Automation API (an inline program, a file
// backend, the passphrase secrets provider: what deployer uses). One operation per process, as
// a user runs `pulumi up`. Usage: pulumi-one-stack.js up|preview|up-changed|destroy <dir> <n> <v>
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { dependenciesOf } from './engine-cost.js';

const [op, dir, count, version] = process.argv.slice(2);
const n = Number(count);

const provider = {
  async create(inputs) {
    const fs = await import('node:fs');
    fs.mkdirSync(inputs.path, { recursive: true });
    return { id: inputs.path, outs: inputs };
  },
  async update(id, olds, news) {
    return { outs: news };
  },
  async delete(id) {
    const fs = await import('node:fs');
    fs.rmSync(id, { recursive: true, force: true });
  },
};

class Dir extends pulumi.dynamic.Resource {
  constructor(name, props, opts) {
    super(provider, name, props, opts);
  }
}

const program = async () => {
  const made = [];
  for (let i = 0; i < n; i++) {
    const team = op === 'up-changed' && i === Math.floor(n / 2) ? 'changed' : 'bench';
    const deps = dependenciesOf(i).map((d) => made[d]);
    made.push(new Dir(`c${i}`, { path: path.join(dir, 'dirs', `c${i}`), team, version }, { dependsOn: deps }));
  }
  return {};
};

mkdirSync(path.join(dir, 'state'), { recursive: true });
mkdirSync(path.join(dir, 'work'), { recursive: true });
const stack = await LocalWorkspace.createOrSelectStack(
  { projectName: 'anchor', stackName: 'dev', program },
  {
    workDir: path.join(dir, 'work'),
    projectSettings: { name: 'anchor', runtime: 'nodejs', backend: { url: pathToFileURL(path.join(dir, 'state')).href } },
    secretsProvider: 'passphrase',
    envVars: { PULUMI_CONFIG_PASSPHRASE: 'bench', PULUMI_SKIP_UPDATE_CHECK: 'true' },
  },
);
if (op === 'preview') await stack.preview({ color: 'never' });
else if (op === 'destroy') await stack.destroy({ color: 'never' });
else await stack.up({ color: 'never' });
