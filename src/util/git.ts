/**
 * What deployer asks of git: which repository a directory is in (named by its origin URL without
 * credentials, so that a laptop's hook and a CI runner's apply name the same repository, or by
 * its top-level directory when it has no origin), the commits of a revision or range with their
 * committer times, and where its hooks live (core.hooksPath honoured). No git, or no repository,
 * is `undefined`, never an error: tracking changes is optional.
 */
import path from 'node:path';

/** What a git command said: whether it succeeded, and its output and errors, trimmed. */
export interface GitResult {
  ok: boolean;
  out: string;
  err: string;
}

/** `git -C dir ...args`, never throwing on git's refusal (only if git cannot be started at all). */
export async function runGit(dir: string, args: string[]): Promise<GitResult> {
  const { execa } = await import('execa'); // loaded when first needed: 100 modules
  const r = await execa('git', ['-C', dir, ...args], { reject: false, stdin: 'ignore' });
  return { ok: r.exitCode === 0, out: r.stdout.trim(), err: r.stderr.trim() };
}

async function git(dir: string, args: string[]): Promise<string | undefined> {
  const r = await runGit(dir, args);
  return r.ok ? r.out : undefined;
}

/** `url` without a user or password (`https://u:p@host/x` is `https://host/x`). */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

export interface GitRepository {
  /** Its top-level directory. */
  top: string;
  /** Its name in the ledger: the origin URL without credentials, else `top`. */
  id: string;
}

/** The repository `dir` is in, or undefined (no git, not a repository). */
export async function gitRepository(dir: string): Promise<GitRepository | undefined> {
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!top) return undefined;
  const origin = await git(top, ['config', '--get', 'remote.origin.url']);
  return { top, id: origin ? withoutCredentials(origin) : top };
}

/** The commits of `rev` (one commit) or of a range (`a..b`), newest first, with their committer times in UTC. */
export async function gitCommits(dir: string, rev: string): Promise<Array<{ commit: string; committedAt: string }> | undefined> {
  const out = await git(dir, ['log', '--format=%H %cI', ...(rev.includes('..') ? [rev] : ['-1', rev]), '--']);
  if (out === undefined) return undefined;
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, time] = line.split(' ') as [string, string];
      return { commit, committedAt: new Date(time).toISOString() };
    });
}

/** The directory of the repository's hooks (its core.hooksPath, else .git/hooks), absolute. */
export async function gitHooksDir(dir: string): Promise<string | undefined> {
  const hooks = await git(dir, ['rev-parse', '--git-path', 'hooks']);
  return hooks === undefined ? undefined : path.resolve(dir, hooks);
}
