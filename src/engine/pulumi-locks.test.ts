/** Checkpoints and locks of Pulumi's DIY backend after a killed run, on disk and in S3 (s3rver). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_CREDENTIALS, startS3, type S3Emulator } from '../../test/helpers/emulators.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { openStateStore } from '../state/index.js';
import { backendObjects } from './backend-objects.js';
import { clearPulumiLocks, repairCheckpoint } from './pulumi-locks.js';

const tempDir = useTempDirs('pulumi-backend');
const GOOD = JSON.stringify({ version: 3, checkpoint: { stack: 'p.s' } });
let s3: S3Emulator;

beforeAll(async () => {
  Object.assign(process.env, EMULATOR_CREDENTIALS);
  s3 = await startS3();
});
afterAll(() => s3.close());

async function backends(): Promise<Array<[string, string]>> {
  const dir = tempDir();
  const s3Url = openStateStore(await s3.stateUrl('pulumi-backend', `t${Date.now()}`), dir).pulumiBackend('stack', 'env');
  return [
    ['file', pathToFileURL(dir).href],
    ['s3', s3Url],
  ];
}

describe('repairCheckpoint', () => {
  it('puts back the backup of a checkpoint a killed run cut short; leaves an intact one alone', async () => {
    for (const [name, url] of await backends()) {
      const objects = backendObjects(url)!;
      const rel = '.pulumi/stacks/deployer/a.b.c.d.json';
      expect(await repairCheckpoint(url, 'deployer', 'a.b.c.d'), name).toEqual({ state: 'absent' });
      if (name === 'file') mkdirSync(path.dirname(objects.where(rel)), { recursive: true });
      await objects.write(rel, GOOD);
      expect(await repairCheckpoint(url, 'deployer', 'a.b.c.d'), name).toEqual({ state: 'intact' });
      await objects.write(rel, GOOD.slice(0, 10));
      await objects.write(`${rel}.bak`, GOOD);
      expect(await repairCheckpoint(url, 'deployer', 'a.b.c.d'), name).toEqual({ state: 'restored', from: objects.where(`${rel}.bak`) });
      expect(await objects.read(rel), name).toBe(GOOD);
      // An empty checkpoint (a full disk) and a useless backup: the newest history checkpoint that parses.
      const history = '.pulumi/history/deployer/a.b.c.d';
      if (name === 'file') mkdirSync(objects.where(history), { recursive: true });
      const older = JSON.stringify({ version: 3, checkpoint: { stack: 'older' } });
      await objects.write(`${history}/a.b.c.d-1796163254723311213.checkpoint.json`, older);
      await objects.write(`${history}/a.b.c.d-1796163269081904120.checkpoint.json`, GOOD);
      await objects.write(`${history}/a.b.c.d-1796163269081904120.history.json`, '{}');
      await objects.write(rel, '');
      await objects.write(`${rel}.bak`, '{');
      expect(await repairCheckpoint(url, 'deployer', 'a.b.c.d'), name).toEqual({
        state: 'restored',
        from: objects.where(`${history}/a.b.c.d-1796163269081904120.checkpoint.json`),
      });
      expect(await objects.read(rel), name).toBe(GOOD);
      await objects.write(rel, '');
      await objects.write(`${history}/a.b.c.d-1796163269081904120.checkpoint.json`, '{"ver');
      await objects.write(`${history}/a.b.c.d-1796163254723311213.checkpoint.json`, '');
      await expect(repairCheckpoint(url, 'deployer', 'a.b.c.d'), name).rejects.toThrow(
        /the Pulumi checkpoint of a.b.c.d is damaged .* and no earlier copy of it is usable/,
      );
    }
  });
});

describe('clearPulumiLocks', () => {
  it('removes the lock of a dead pulumi on this host, on disk and in S3', async () => {
    for (const [name, url] of await backends()) {
      const objects = backendObjects(url)!;
      const rel = '.pulumi/locks/organization/deployer/a.b.c.d/1234.json';
      if (name === 'file') mkdirSync(path.dirname(objects.where(rel)), { recursive: true });
      const hostname = (await import('node:os')).hostname();
      await objects.write(rel, JSON.stringify({ pid: 2 ** 22 + 1, hostname, timestamp: 'then' }));
      const removed: string[] = [];
      expect(await clearPulumiLocks(url, 'deployer', 'a.b.c.d', { onRemoved: (l) => removed.push(l.location) }), name).toBe(1);
      expect(removed).toEqual([rel]);
      expect(await objects.list('.pulumi/locks/organization/deployer/a.b.c.d', '.json'), name).toEqual([]);
    }
    // The file backend writes whole files only.
    const dir = tempDir();
    const file = backendObjects(pathToFileURL(dir).href)!;
    await file.write('x.json', GOOD);
    expect(readFileSync(path.join(dir, 'x.json'), 'utf8')).toBe(GOOD);
    mkdirSync(path.join(dir, 'd'));
    writeFileSync(path.join(dir, 'd', 'y.txt'), '');
    await file.write('d/z.json', GOOD);
    expect(await file.list('d', '.json')).toEqual(['d/z.json']);
  });
});
