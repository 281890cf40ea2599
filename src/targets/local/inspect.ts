/**
 * `deployer services` on the local target: what each MicroService's supervisor says it runs
 * (status.json), checked against the machine: whether the supervisor lives, each process's CPU
 * time and resident memory and the supervisor's start (Linux /proc), and a health check made now.
 */
import { promises as fs } from 'node:fs';
import type { DeployedRef, ReplicaStatus, ServiceState, ServiceStatus } from '../target.js';
import { checkOnce } from './health.js';
import { supervisorOf } from './microservice.js';
import { files, readJson, type Desired, type Status, type StoppedMark } from './protocol.js';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the kernel ships for
const PAGE_SIZE = 4096;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds used and resident bytes of a process; nothing where /proc does not tell. */
async function usageOf(pid: number): Promise<Pick<ReplicaStatus, 'cpuSeconds' | 'rssBytes'>> {
  const f = await statFields(pid);
  if (!f) return {};
  // After the name: state(0) … utime(11) stime(12) … rss(21), in pages.
  return { cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, rssBytes: Number(f[21]) * PAGE_SIZE };
}

/** When a process started, from its start time in ticks after boot. */
async function startOf(pid: number): Promise<Date | undefined> {
  const [f, uptime] = await Promise.all([statFields(pid), fs.readFile('/proc/uptime', 'utf8').catch(() => undefined)]);
  if (!f || !uptime) return undefined;
  const bootMs = Date.now() - Number(uptime.split(' ')[0]) * 1000;
  return new Date(bootMs + (Number(f[19]) / TICKS_PER_SECOND) * 1000);
}

const STATES: Record<Status['state'], ServiceState> = {
  ready: 'running',
  starting: 'starting',
  restarting: 'restarting',
  failed: 'failed',
  stopped: 'stopped',
};

/** One MicroService's status, from its runtime directory. */
export async function inspectService(ref: DeployedRef, dir: string, now = new Date()): Promise<ServiceStatus> {
  const [status, desired] = await Promise.all([readJson<Status>(files(dir).status), readJson<Desired>(files(dir).desired)]);
  const pid = await supervisorOf(dir, status);
  const port = status?.proxyPort ?? (typeof ref.outputs['port'] === 'number' ? ref.outputs['port'] : undefined);
  const base = {
    id: ref.id,
    kind: ref.kind,
    ...(typeof ref.outputs['url'] === 'string' ? { url: ref.outputs['url'] } : {}),
    ...(port ? { port } : {}),
  };
  if (pid === undefined || !status) {
    // Stopped through `deployer stop`, or its supervisor is gone behind deployer's back (killed, the machine restarted).
    const mark = await readJson<StoppedMark>(files(dir).stopped);
    const detail = mark ? `stopped by ${mark.by} at ${mark.at} (deployer start starts it)` : 'no supervisor runs for it';
    return { ...base, state: 'stopped', replicas: [], restarts: status?.restarts ?? 0, detail, ...(mark ? { stoppedBy: mark.by } : {}) };
  }
  // A failed rollout leaves the previous generation serving: the service runs.
  const serves = (status.replicas?.length ?? 0) > 0;
  const state = status.state === 'failed' && status.servingGeneration > 0 && serves ? 'running' : STATES[status.state];
  const replicas = await Promise.all(
    (status.replicas ?? []).map(async (r) => ({ ...r, ...(r.pid !== undefined ? await usageOf(r.pid) : {}) })),
  );
  const started = await startOf(pid);
  const hc = desired?.spec.healthCheck;
  const health = port && hc?.path !== undefined ? await checkOnce(port, hc.path, Math.min(hc.timeout, 1) * 1000) : undefined;
  return {
    ...base,
    state,
    generation: status.servingGeneration,
    supervisorPid: pid,
    replicas,
    restarts: status.restarts,
    ...(health ? { health: { status: health === 'healthy' ? 'healthy' : 'unhealthy', checkedAt: now.toISOString() } } : {}),
    ...(started ? { startedAt: started.toISOString(), uptimeMs: Math.max(0, now.getTime() - started.getTime()) } : {}),
    ...(status.error ? { detail: status.error } : status.phase ? { detail: status.phase } : {}),
    ...(status.limits ? { limits: status.limits } : {}),
    ...(status.oomKills ? { oomKills: status.oomKills } : {}),
    ...(status.lastExit ? { lastExit: status.lastExit } : {}),
    ...(status.breaker ? { breaker: status.breaker } : {}),
    ...(status.lastHealthCheck ? { lastHealthCheck: status.lastHealthCheck } : {}),
    ...(status.cron ? { cron: status.cron } : {}),
  };
}
