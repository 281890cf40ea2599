/**
 * Hints that print a deployer command must print one that works where the user is: these build
 * the flags that point such a command at the same stack directory and backend.
 */
import path from 'node:path';

/**
 * `-C <dir>` when the stack directory is not the current one (its own settings, and a relative
 * `file://` URL, are read from it), and `<urlFlag> <url>` for any backend outside it.
 */
export function backendFlags(urlFlag: '--state-url' | '--lock-url', url: string, stackDir: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, stackDir);
  const insideStackDir = url.startsWith('file://')
    ? !url.slice('file://'.length).startsWith('/')
    : !url.includes('://') && !path.isAbsolute(url);
  return [rel === '' ? '' : `-C ${shellWord(rel)}`, insideStackDir ? '' : `${urlFlag} ${shellWord(url)}`].filter(Boolean).join(' ');
}

/** A word as a POSIX shell reads it back: quoted only when it has to be. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
