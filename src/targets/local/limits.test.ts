/**
 * How a local service's cpu and memory become limits, on cgroup hierarchies laid out in a
 * directory of the test's own (their files are plain files there): the values written, the
 * command that joins them, and the fallback with its warnings where there are none.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { limitsFor } from './limits.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-limits-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** This process's cgroup in a hierarchy, as /proc/self/cgroup names it. */
function own(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

describe('cpu and memory limits of local processes', () => {
  it('nothing asked: the command runs as it is', () => {
    const l = limitsFor('deployer/x/1', {}, { cgroupRoot: path.join(root, 'none') });
    expect(l.applied).toEqual({ mechanism: 'none', warnings: [] });
    expect(l.command(['node', 'a.js'])).toEqual(['node', 'a.js']);
  });

  it('cgroup v1: the limits are written below this process’s cgroups, and the process joins them before it runs', () => {
    const v1 = path.join(root, 'v1');
    for (const c of ['memory', 'cpu']) {
      mkdirSync(path.join(v1, c, own(c)), { recursive: true });
      writeFileSync(path.join(v1, c, 'cgroup.procs'), '');
    }
    mkdirSync(path.join(v1, 'unified'), { recursive: true });
    writeFileSync(path.join(v1, 'unified', 'cgroup.controllers'), 'hugetlb\n');
    const l = limitsFor('deployer/abc-web.api/40001', { memoryMiB: 128, cpuUnits: 256 }, { cgroupRoot: v1 });
    expect(l.applied).toEqual({
      mechanism: 'cgroup-v1',
      memory: 'memory.limit_in_bytes 128 MiB (cgroup v1)',
      cpu: 'cpu.cfs_quota_us 0.25 CPU (cgroup v1)',
      warnings: [],
    });
    const memoryDir = path.join(v1, 'memory', own('memory'), 'deployer/abc-web.api/40001');
    const cpuDir = path.join(v1, 'cpu', own('cpu'), 'deployer/abc-web.api/40001');
    expect(readFileSync(path.join(memoryDir, 'memory.limit_in_bytes'), 'utf8')).toBe(String(128 * 1048576));
    expect(readFileSync(path.join(cpuDir, 'cpu.cfs_quota_us'), 'utf8')).toBe('25000');
    const command = l.command(['node', 'a.js']);
    expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(command.slice(3)).toEqual([
      'deployer-limits',
      '2',
      path.join(memoryDir, 'cgroup.procs'),
      path.join(cpuDir, 'cgroup.procs'),
      'node',
      'a.js',
    ]);
    writeFileSync(path.join(memoryDir, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(l.oomKills()).toBe(2);
  });

  it('no cgroup: memory as a process limit through prlimit, and a warning for each limit, saying why', () => {
    const l = limitsFor(
      'deployer/x/2',
      { memoryMiB: 256, cpuUnits: 512 },
      { cgroupRoot: path.join(root, 'empty'), prlimit: '/usr/bin/prlimit' },
    );
    expect(l.applied.mechanism).toBe('prlimit');
    expect(l.command(['node', 'a.js'])).toEqual(['/usr/bin/prlimit', `--data=${256 * 1048576}`, '--', 'node', 'a.js']);
    expect(l.applied.warnings).toEqual([
      'cpu 512 units not applied: no cgroup can be made (cgroup v2 is not mounted; no cgroup v1 memory hierarchy is mounted); a process limit cannot share CPU',
      'memory 256 MiB applied as a process limit (RLIMIT_DATA), not a cgroup (cgroup v2 is not mounted; no cgroup v1 memory hierarchy is mounted): an allocation over it fails instead of the kernel killing the process',
    ]);
    const none = limitsFor('deployer/x/3', { memoryMiB: 256 }, { cgroupRoot: path.join(root, 'empty'), prlimit: null });
    expect(none.applied.mechanism).toBe('none');
    expect(none.applied.warnings).toEqual([expect.stringMatching(/^memory 256 MiB not applied: .* and prlimit is not on PATH$/)]);
  });
});
