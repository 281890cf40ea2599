/**
 * Ports on this machine for the local target (seed 003's network manager): which program
 * listens on a port (Linux: the kernel's socket tables in /proc/net and each process's open
 * sockets), and a free port from the range `port: auto` draws from. Allocations made by this
 * process are remembered, so two components allocated at the same moment never get the same one.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';

/** Who holds a port: a process where the machine tells (a process of another user may not be visible). */
export interface PortHolder {
  pid?: number;
  command?: string;
}

/** The default range of `port: auto` (Stack `spec.local.portRange`). */
export const DEFAULT_PORT_RANGE: readonly [number, number] = [20000, 29999];

/** Ports this process handed out lately (a run allocating several at once never hands one out twice). */
const reserved = new Map<number, number>();
const RESERVED_FOR_MS = 10 * 60_000;

function isReserved(port: number): boolean {
  const at = reserved.get(port);
  if (at === undefined) return false;
  if (Date.now() - at < RESERVED_FOR_MS) return true;
  reserved.delete(port);
  return false;
}

/**
 * The listening addresses that keep the local proxy from listening on 127.0.0.1: any address,
 * and loopback itself, in IPv4 and IPv6 (dual-stack `::`, and IPv4-mapped 127.0.0.1). One on
 * another address (`192.168.1.5:8080`, `[::1]:8080`) does not.
 */
const CLASHES_WITH_LOOPBACK = new Set(['00000000', '0100007F', '00000000000000000000000000000000', '0000000000000000FFFF00000100007F']);

/** The listening TCP sockets of this machine by port, with their socket inode; undefined where /proc does not tell. */
async function listeningSockets(): Promise<Map<number, string> | undefined> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => fs.readFile(f, 'utf8').catch(() => undefined)));
  if (tables.every((t) => t === undefined)) return undefined;
  const out = new Map<number, string>();
  for (const table of tables)
    for (const line of (table ?? '').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; column 9 is the socket's inode.
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const [address, hexPort] = cols[1]!.split(':') as [string, string];
      if (!CLASHES_WITH_LOOPBACK.has(address.toUpperCase())) continue;
      const port = parseInt(hexPort, 16);
      if (!out.has(port)) out.set(port, cols[9]!);
    }
  return out;
}

/** The process that has the socket with this inode open, if this user may look. */
async function ownerOfSocket(inode: string): Promise<PortHolder> {
  const target = `socket:[${inode}]`;
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) !== target) continue;
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const command = cmdline.split('\0').filter(Boolean).join(' ');
      return { pid: Number(pid), ...(command ? { command } : {}) };
    }
  }
  return {};
}

/** Whether a listener could be opened on 127.0.0.1:port now (the fallback where /proc does not tell). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Who listens on `port`, or undefined when nothing does. */
export async function listenerOn(port: number): Promise<PortHolder | undefined> {
  const sockets = await listeningSockets();
  if (sockets === undefined) return (await canListen(port)) ? undefined : {};
  const inode = sockets.get(port);
  return inode === undefined ? undefined : ownerOfSocket(inode);
}

/** "port 8080 is in use by process 123 (node server.js)" */
export function describeHolder(port: number, holder: PortHolder): string {
  const who =
    holder.pid !== undefined ? `process ${holder.pid}${holder.command ? ` (${holder.command.slice(0, 120)})` : ''}` : 'another program';
  return `port ${port} is already in use by ${who}`;
}

/**
 * A free port of `range` (inclusive) that is not in `avoid`, starting from a random point so
 * that runs of several stacks at once seldom race for the same one. Throws when none is free.
 */
export async function allocatePort(range: readonly [number, number], avoid: ReadonlySet<number> = new Set()): Promise<number> {
  const [from, to] = range;
  const size = to - from + 1;
  const listening = (await listeningSockets()) ?? new Map<number, string>();
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = from + ((start + i) % size);
    if (avoid.has(port) || isReserved(port) || listening.has(port)) continue;
    reserved.set(port, Date.now());
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${from}-${to} for port: auto (every one is in use or taken by another component)`);
}
