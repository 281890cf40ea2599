/**
 * `POST /api/v1/deploy {ref}`: the stack as a git ref has it. The served directory must be in a
 * git repository; the ref is resolved to its commit there (no fetch: what the repository has),
 * and that commit is checked out once, as a detached worktree kept at
 * `<stack dir>/.deployer/checkouts/<commit>` — kept, because on the local target the processes
 * a deployment starts run from it. The run reads its YAML from the checkout and keeps its state,
 * locks, ledger and Pulumi data where the served directory keeps them.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { DeployerError, InvalidInputError } from '../errors.js';
import { runGit } from '../util/git.js';
import { Mutex } from '../util/mutex.js';

/** What a checkout gives a run. */
export interface CheckedOut {
  /** The full commit the ref named. */
  commit: string;
  /** The stack's directory inside the checkout. */
  sourceDir: string;
}

/** One checkout at a time per server: two runs of one commit share its worktree. */
const checkouts = new Mutex();

/** Checks out `ref` of the repository `stackDir` is in (once per commit); refuses a directory outside git or an unknown ref. */
export async function checkoutRef(servedDir: string, ref: string): Promise<CheckedOut> {
  // git names the repository by its real path: a served path through a symlink is resolved alike.
  const stackDir = realpathSync(servedDir);
  if (!/^[\w./@^~{}-]+$/.test(ref) || ref.startsWith('-')) throw new InvalidInputError(`ref ${JSON.stringify(ref)} is not a git revision`);
  const top = await runGit(stackDir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new InvalidInputError(`cannot deploy ref ${ref}: ${stackDir} is in no git repository`);
  const resolved = await runGit(top.out, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!resolved.ok)
    throw new InvalidInputError(`the repository of ${stackDir} has no commit ${ref}`, [
      'Only what it already has is deployed: push or fetch the ref there first.',
    ]);
  const commit = resolved.out;
  const worktree = path.join(stackDir, '.deployer', 'checkouts', commit);
  await checkouts.run(async () => {
    if (existsSync(worktree)) return;
    const added = await runGit(top.out, ['worktree', 'add', '--detach', worktree, commit]);
    if (!added.ok) throw new DeployerError('APPLY_FAILED', `git could not check out ${commit} into ${worktree}: ${added.err}`);
  });
  return { commit, sourceDir: path.join(worktree, path.relative(top.out, stackDir)) };
}
