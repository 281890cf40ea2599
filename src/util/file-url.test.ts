import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileUrlToDir } from './file-url.js';

const base = path.resolve('/srv/stacks/web');

describe('fileUrlToDir', () => {
  it('resolves a relative file:// URL against the base directory', () => {
    expect(fileUrlToDir('file://.deployer', base)).toBe(path.join(base, '.deployer'));
    expect(fileUrlToDir('file://state/shared', base)).toBe(path.join(base, 'state', 'shared'));
    expect(fileUrlToDir('file://../shared-state', base)).toBe(path.resolve(base, '..', 'shared-state'));
  });

  it('decodes percent-escapes in a relative file:// URL', () => {
    expect(fileUrlToDir('file://my%20state', base)).toBe(path.join(base, 'my state'));
  });

  it('takes an absolute file:/// URL as it is', () => {
    expect(fileUrlToDir('file:///var/lib/deployer', base)).toBe(path.resolve('/var/lib/deployer'));
    expect(fileUrlToDir(pathToFileURL('/tmp/with space/x').href, base)).toBe(path.resolve('/tmp/with space/x'));
  });

  it('takes a bare path, relative to the base or absolute', () => {
    expect(fileUrlToDir('.deployer', base)).toBe(path.join(base, '.deployer'));
    expect(fileUrlToDir('/opt/state', base)).toBe(path.resolve('/opt/state'));
  });
});
