/**
 * `deployer stop` and `deployer start` on the local target (seed 003's lifecycle management):
 * stop takes a MicroService's supervisor and processes down and leaves `stopped.json` saying who
 * stopped it, so drift knows it was on purpose; its runtime directory (what it runs, its port,
 * its logs) stays. Start launches a supervisor for what was deployed and waits until it serves.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../util/process.js';
import { deployedInputs, liveSupervisor, startSupervisor, stopSupervisor } from './microservice.js';
import { files, readJson, writeJson, type CronRun, type Desired, type StoppedMark } from './protocol.js';

/** What was deployed in `dir`, or an error saying it was never deployed here. */
async function deployedSpec(dir: string, component: string): Promise<Desired> {
  const desired = await readJson<Desired>(files(dir).desired);
  if (!desired) throw new Error(`${component} has nothing deployed in ${dir}: \`deployer apply\` deploys it`);
  return desired;
}

/** Stops the component's processes on purpose; resolves to what was done. */
export async function stopService(dir: string, component: string, by: string): Promise<string> {
  await deployedSpec(dir, component);
  const pid = await liveSupervisor(dir);
  const already = await readJson<StoppedMark>(files(dir).stopped);
  if (pid === undefined && already) return `already stopped (by ${already.by} at ${already.at})`;
  // The mark first: a drift check made while it stops sees a stop, not an outage.
  await writeJson(files(dir).stopped, { by, at: new Date().toISOString() } satisfies StoppedMark);
  if (pid === undefined) return 'stopped (nothing of it was running)';
  await stopSupervisor(pid);
  return `stopped (supervisor ${pid} and its processes)`;
}

/** A run asked for that the supervisor has not started within this long is reported, not waited for. */
const RUN_PICKED_UP_MS = 15_000;

/**
 * Runs a CronJob now, outside its schedule (`deployer run`), under its own rules (limits,
 * timeout, retries, concurrency); resolves to the run's record once it has ended.
 */
export async function runJobNow(dir: string, component: string): Promise<CronRun> {
  const desired = await deployedSpec(dir, component);
  if (!desired.spec.cron) throw new Error(`${component} is not a CronJob: only a CronJob runs on demand`);
  const pid = await liveSupervisor(dir);
  if (pid === undefined)
    throw new Error(`${component} is not running (stopped, or its supervisor is gone): \`deployer start ${component}\` starts it`);
  const id = randomUUID();
  await fs.mkdir(files(dir).runNow, { recursive: true });
  await fs.writeFile(path.join(files(dir).runNow, id), '');
  process.kill(pid, 'SIGUSR1');
  const asked = Date.now();
  for (;;) {
    const run = (await readJson<CronRun[]>(files(dir).runs))?.find((r) => r.id === id);
    if (run?.finishedAt) return run;
    if (!isAlive(pid)) throw new Error(`${component}: its supervisor ended before the run did (see ${files(dir).supervisorLog})`);
    if (!run && Date.now() - asked > RUN_PICKED_UP_MS)
      throw new Error(
        `${component}: its supervisor did not start the run within ${RUN_PICKED_UP_MS / 1000} s (see ${files(dir).supervisorLog})`,
      );
    await sleep(100);
  }
}

/** Starts what was deployed again, if it is not running; resolves to what was done once it serves. */
export async function startService(dir: string, component: string): Promise<string> {
  const desired = await deployedSpec(dir, component);
  const running = await liveSupervisor(dir);
  if (running !== undefined) {
    await fs.rm(files(dir).stopped, { force: true });
    return `already running (supervisor ${running})`;
  }
  try {
    const outs = await startSupervisor(deployedInputs(desired, component, dir));
    await fs.rm(files(dir).stopped, { force: true });
    return `started: generation ${outs.generation} ${outs.url ? `serves ${outs.url}` : 'runs'}`;
  } catch (err) {
    // Not serving: it stays stopped as it was, nothing of the attempt left running.
    const pid = await liveSupervisor(dir);
    if (pid !== undefined) await stopSupervisor(pid);
    throw err;
  }
}
