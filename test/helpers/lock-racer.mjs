// One contender in a multi-process lock race (test/helpers/lock-race.ts), against any backend.
// Usage: node lock-racer.mjs <lock URL> <journal file> <acquisitions> <ttl ms>
// Prints "ready", waits for a line on stdin, then `acquisitions` times: acquire the key
// (retrying while it is held), append its holding interval to the journal, release it.
import { appendFileSync } from 'node:fs';

const { openLockManager } = await import(new URL('../../dist/lock/index.js', import.meta.url).href);

const [url, journal, countArg, ttlArg] = process.argv.slice(2);
const count = Number(countArg);
const ttlMs = Number(ttlArg);
const manager = openLockManager(url, process.cwd());
const key = 'stack:race:env:test';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  for (let i = 0; i < count; i++) {
    let lock;
    for (;;) {
      try {
        lock = await manager.acquire({ lockKey: key, ttlMs, lockedBy: `racer-${process.pid}`, metadata: { i: String(i) } });
        break;
      } catch (err) {
        if (err?.code !== 'LOCK_HELD') throw err;
        await sleep(Math.random() * 3);
      }
    }
    // CLOCK_MONOTONIC: comparable between processes on this machine.
    const start = process.hrtime.bigint();
    await sleep(Math.random() * 2);
    const end = process.hrtime.bigint();
    const expired = Date.now() >= lock.expiresAt.getTime();
    const released = await manager.release(key, lock.lockId);
    appendFileSync(
      journal,
      JSON.stringify({ pid: process.pid, lockId: lock.lockId, start: String(start), end: String(end), expired, released }) + '\n',
    );
  }
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  process.stdin.pause();
  run().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`lock-racer ${process.pid}: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
});
