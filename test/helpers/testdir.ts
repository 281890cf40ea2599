/** Fixture stacks copied into fresh temporary directories, with their ports made unique. */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const made: string[] = [];

/**
 * Copies `test/fixtures/<name>` (or a path under the repository, e.g. `examples/quickstart`)
 * into a new temporary directory and applies text `replace`ments to every YAML file.
 */
export function testdir(name: string, replace: Record<string, string> = {}): string {
  const source = name.includes('/') ? path.join(repoRoot, name) : path.join(repoRoot, 'test', 'fixtures', name);
  const dir = mkdtempSync(path.join(os.tmpdir(), `deployer-${path.basename(name)}-`));
  cpSync(source, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.deployer`) });
  for (const file of walk(dir)) {
    if (!/\.ya?ml$/.test(file)) continue;
    let text = readFileSync(file, 'utf8');
    for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
    writeFileSync(file, text);
  }
  made.push(dir);
  return dir;
}

/** Writes a stack directory (path -> content) into a new temporary directory, removed by removeTestdirs(). */
export function writeStackDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-stack-'));
  made.push(dir);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

export function editFile(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(file, text.split(from).join(to));
}

export function removeTestdirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * A free port for a test's service to be given, chosen below the kernel's ephemeral range
 * (32768-60999): the private ports supervisors, engines and clients get from the kernel can
 * then never take it between the moment it is chosen and the moment the service listens.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

/**
 * Files and their contents under `dir` (for "nothing was written" checks). The parse cache
 * (`.deployer/cache/`) is left out: it is derived from the YAML, not state, locks or ledger.
 */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const f of walk(dir)) {
      if (f.includes(`${path.sep}.deployer${path.sep}cache${path.sep}`)) continue;
      out[path.relative(dir, f)] = readFileSync(f).toString('base64');
    }
  } catch {
    // no directory: empty snapshot
  }
  return out;
}
