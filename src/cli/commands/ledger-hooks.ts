/**
 * Lead time from commit to deployment (seed 001 "Git hooks for automatic tracking"):
 * `ledger hook install` writes git hooks (post-commit, post-merge) that run `ledger
 * record-change`, which records the new commits with their committer times; every apply then
 * ships the pending ones (workflows/changes.ts). `ledger list-changes` shows what is pending.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError, machineFault } from '../../errors.js';
import { isPostgresUrl, isoTime, type ChangeEvent } from '../../ledger/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { packageRoot } from '../../package-info.js';
import { gitCommits, gitHooksDir, gitRepository } from '../../util/git.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { withLedger, write } from './ledger-store.js';

/** The line that marks a hook as deployer's own: one without it is never replaced without --force. */
const MARKER = '# deployer-ledger-hook';
const HOOKS = { 'post-commit': 'HEAD', 'post-merge': 'ORIG_HEAD..HEAD' } as const;

export function registerLedgerHooks(ledger: Command, ctx: CommandContext): void {
  ledger
    .command('record-change')
    .description(
      "Record commits with their committer times as changes pending deployment (the git hooks run this); the next successful apply of the stack ships them, and lead time runs from each commit to that deployment's end",
    )
    .option('--from-git <rev>', 'the commit (HEAD) or range (ORIG_HEAD..HEAD) of the repository -C is in', 'HEAD')
    .option('--commit <sha>', 'record this commit instead of asking git (with --committed-at)')
    .option('--committed-at <time>', 'its committer time, ISO 8601 with a zone')
    .option('--repo <name>', "the repository's name in the ledger (default: its origin URL without credentials, else its directory)")
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ fromGit: string; commit?: string; committedAt?: string; repo?: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const repo = o.repo ?? (await gitRepository(settings.dir))?.id;
      if (!repo) throw new InvalidInputError(`${settings.dir} is in no git repository: give --repo`, ['Nothing was recorded.']);
      const commits = o.commit
        ? [{ commit: o.commit, committedAt: isoTime('--committed-at', o.committedAt ?? '') }]
        : await gitCommits(settings.dir, o.fromGit);
      if (!commits) throw new InvalidInputError(`git cannot read ${o.fromGit} in ${settings.dir}`, ['Nothing was recorded.']);
      const recordedAt = new Date().toISOString();
      const changes: ChangeEvent[] = commits.map((c) => ({ repo, ...c, recordedAt, shippedBy: null }));
      let added = 0;
      await write(settings.ledger, async (store) => void (added = await store.recordChanges(changes)));
      if (o.json) return printJson(ctx.io, { repo, recorded: added, commits: commits.map((c) => c.commit) });
      ctx.io.stdout.write(`Recorded ${added} new change(s) of ${repo} (${commits.length} commit(s) given).\n`);
    });
  ledger
    .command('list-changes')
    .description('List the changes of the repository -C is in that no successful deployment has shipped yet, oldest first')
    .option('--repo <name>', "the repository's name in the ledger (default: the one -C is in)")
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ repo?: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const repo = o.repo ?? (await gitRepository(settings.dir))?.id;
      if (!repo) throw new InvalidInputError(`${settings.dir} is in no git repository: give --repo`);
      const pending = await withLedger(settings.ledger, [], (store) => store.pendingChanges(repo));
      if (o.json) return printJson(ctx.io, { repo, changes: pending });
      if (pending.length === 0) return void ctx.io.stdout.write(`No changes of ${repo} are pending deployment.\n`);
      for (const c of pending) ctx.io.stdout.write(`${c.committedAt}  ${c.commit}\n`);
    });
  ledger
    .command('hook')
    .description('Git hooks that record changes for lead time')
    .command('install')
    .description(
      'Install post-commit and post-merge hooks in the git repository -C is in (core.hooksPath honoured): each records the new commits with `ledger record-change`; a failure of the hook never stops git',
    )
    .option('--force', 'replace hooks that are not deployer’s own')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ force?: boolean; ledger?: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const hooks = await gitHooksDir(settings.dir);
      if (!hooks) throw new InvalidInputError(`${settings.dir} is in no git repository: nothing to install hooks in`);
      const installed: string[] = [];
      for (const name of Object.keys(HOOKS)) {
        const file = path.join(hooks, name);
        if (existsSync(file) && !readFileSync(file, 'utf8').includes(MARKER) && !o.force)
          throw new InvalidInputError(`${file} exists and is not deployer's: --force replaces it`, ['No hook was changed.']);
      }
      for (const [name, rev] of Object.entries(HOOKS)) {
        const file = path.join(hooks, name);
        await writeFileAtomic(file, hookScript(rev, path.resolve(settings.dir), settings.ledger), 0o755).catch((err: unknown) => {
          throw machineFault(err, 'cannot write the hook', file) ?? err;
        });
        installed.push(file);
      }
      if (o.json) return printJson(ctx.io, { installed });
      ctx.io.stdout.write(`Installed ${installed.join(' and ')}.\n`);
      if (isPostgresUrl(settings.ledger))
        ctx.io.stdout.write(
          'The ledger is a PostgreSQL URL: the hooks read DEPLOY_LEDGER_DB when they run (its password is not written into them).\n',
        );
    });
}

/** The hook: this node and this deployer, the stack directory, and the ledger when it is a file (a URL's password is never written). */
function hookScript(rev: string, dir: string, ledger: string): string {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const bin = path.join(packageRoot, 'bin', 'deployer.js');
  const ledgerFlag = isPostgresUrl(ledger) ? '' : ` --ledger ${quote(path.resolve(ledger))}`;
  return [
    '#!/bin/sh',
    `${MARKER}: records new commits with their times in the deployment ledger (lead time for changes).`,
    '# Installed by `deployer ledger hook install`; it never stops git.',
    `${quote(process.execPath)} ${quote(bin)} ledger record-change --from-git ${quote(rev)} -C ${quote(dir)}${ledgerFlag} >/dev/null 2>&1 || true`,
    '',
  ].join('\n');
}
