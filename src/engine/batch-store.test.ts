/**
 * A shared operation's objects in a file backend, whatever point a kill stopped it at: a dead
 * op is split back into every member it recorded (one whose resources it had deleted loses its
 * checkpoint), its objects are removed with the record last, and this process's live ops are
 * left alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { backendObjects } from './backend-objects.js';
import { mergeCheckpoints, type CheckpointFile } from './batch-checkpoint.js';
import { batchedCheckpoint, forgetLiveOp, recoverDeadOps, splitBack, writeOp } from './batch-store.js';

const tempDir = useTempDirs('batch-store');
const P = 'deployer';
const manifest = { time: 't', magic: 'm', version: 'v3.259.0' };

function checkpointOf(stack: string, names: string[]): CheckpointFile {
  const root = `urn:pulumi:${stack}::${P}::pulumi:pulumi:Stack::${P}-${stack}`;
  return {
    version: 3,
    checkpoint: {
      stack: `organization/${P}/${stack}`,
      latest: {
        manifest,
        resources: [
          { urn: root, type: 'pulumi:pulumi:Stack', outputs: {} },
          ...names.map((n) => ({ urn: `urn:pulumi:${stack}::${P}::pulumi-nodejs:dynamic/local:S3::${n}`, type: 'x', parent: root, id: n })),
        ],
      },
    },
  };
}

function setup() {
  const dir = tempDir();
  const backendUrl = pathToFileURL(path.join(dir, 'backend')).href;
  const objects = backendObjects(backendUrl)!;
  const store = { backendUrl, project: P, workDir: (s: string) => path.join(dir, 'work', s) };
  const file = (stack: string) => path.join(dir, 'backend', '.pulumi', 'stacks', P, `${stack}.json`);
  return { dir, objects, store, file };
}

describe('batch store', () => {
  it('a dead op is split back into every member it recorded, its objects removed, the record last', async () => {
    const { dir, objects, store, file } = setup();
    const keep = checkpointOf('s.dev.a.keep', ['keep']);
    const gone = checkpointOf('s.dev.a.gone', ['gone']);
    for (const [s, c] of [
      ['s.dev.a.keep', keep],
      ['s.dev.a.gone', gone],
    ] as const)
      await objects.write(`.pulumi/stacks/${P}/${s}.json`, JSON.stringify(c));
    const op = 'deployer-batch.999999.1';
    const members = ['s.dev.a.keep', 's.dev.a.gone', 's.dev.a.new'];
    const merged = mergeCheckpoints(
      op,
      P,
      [
        { stack: 's.dev.a.keep', checkpoint: keep },
        { stack: 's.dev.a.gone', checkpoint: gone },
        { stack: 's.dev.a.new', checkpoint: undefined },
      ],
      manifest,
    );
    await writeOp(objects, store, op, members, merged);
    // What the killed op had done: created `new`'s bucket, deleted `gone`'s.
    const latest = merged.checkpoint.latest!;
    latest.resources = latest.resources!.filter((r) => !r.urn.includes('s.dev.a.gone~'));
    latest.resources.push({
      urn: `urn:pulumi:${op}::${P}::pulumi-nodejs:dynamic/local:S3::s.dev.a.new~fresh`,
      type: 'x',
      parent: latest.resources[0]!.urn,
      id: 'fresh',
    });
    await objects.write(`.pulumi/stacks/${P}/${op}.json`, JSON.stringify(merged));
    // This process wrote it: its own other batches never take it for dead.
    await recoverDeadOps(objects, store, () => undefined);
    expect(existsSync(file(op))).toBe(true);

    // Killed: the op is no longer this process's (another process sees it as dead).
    forgetLiveOp(op);
    const notices: string[] = [];
    await recoverDeadOps(objects, store, (m) => notices.push(m));
    expect(notices).toEqual([`an interrupted run left 3 component(s) in ${op}: their checkpoints are brought up to date from it`]);
    expect(JSON.parse(readFileSync(file('s.dev.a.keep'), 'utf8'))).toEqual(keep);
    expect(existsSync(file('s.dev.a.gone'))).toBe(false); // its resources were deleted: no stack to keep
    expect(
      (JSON.parse(readFileSync(file('s.dev.a.new'), 'utf8')) as CheckpointFile).checkpoint.latest!.resources!.map((r) => r.urn),
    ).toEqual([
      `urn:pulumi:s.dev.a.new::${P}::pulumi:pulumi:Stack::${P}-s.dev.a.new`,
      `urn:pulumi:s.dev.a.new::${P}::pulumi-nodejs:dynamic/local:S3::fresh`,
    ]);
    expect(existsSync(file(op))).toBe(false);
    expect(existsSync(path.join(dir, 'backend', '.pulumi', 'deployer-batches', `${op}.json`))).toBe(false);
  });

  it('drift sees a member as the op holds it, and a finished split leaves nothing behind', async () => {
    const { dir, objects, store } = setup();
    const op = 'deployer-batch.999999.2';
    const a = checkpointOf('s.dev.b.a', ['a']);
    await writeOp(objects, store, op, ['s.dev.b.a'], mergeCheckpoints(op, P, [{ stack: 's.dev.b.a', checkpoint: a }], manifest));
    expect(await batchedCheckpoint(store.backendUrl, P, 's.dev.b.a')).toEqual(a);
    expect(await batchedCheckpoint(store.backendUrl, P, 's.dev.b.other')).toBeUndefined();
    expect([...(await splitBack(objects, store, op, ['s.dev.b.a']))]).toEqual(['s.dev.b.a']);
    expect(await batchedCheckpoint(store.backendUrl, P, 's.dev.b.a')).toBeUndefined();
    expect(existsSync(path.join(dir, 'backend', '.pulumi', 'deployer-batches', `${op}.json`))).toBe(false);
  });
});
