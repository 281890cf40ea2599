import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAlive } from './process.js';

describe('isAlive', () => {
  it('says this process is alive', () => {
    expect(isAlive(process.pid)).toBe(true);
  });

  it('says a running child is alive, and dead once it has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const pid = child.pid!;
    expect(isAlive(pid)).toBe(true);
    child.stdin.end();
    await exited;
    expect(isAlive(pid)).toBe(false);
  });

  it('says a zombie (exited, not yet reaped by its parent) is dead', async () => {
    // The shell starts a short `sleep` in the background and then becomes a long `sleep`,
    // which never reaps its child: once the short one exits, it is a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      const state = (): string => {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      };
      while (state() !== 'Z') await new Promise((r) => setTimeout(r, 5));
      // The process table still has it (signal 0 succeeds), yet it does not run.
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(isAlive(pid)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
