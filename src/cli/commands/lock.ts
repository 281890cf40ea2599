/** `deployer lock status` and `deployer lock unlock --force <lockId>`. */
import type { Command } from 'commander';
import { DeployerError, InvalidInputError } from '../../errors.js';
import { loadStack } from '../../workflows/load-stack.js';
import { isExpired, openLockManager, whoAmI, stackLockKey, staleReason, type LockInfo } from '../../lock/index.js';
import { forceUnlockRecord } from '../../util/audit-log.js';
import { allOptions, auditLogFor, printJson, settingsFrom, type CommandContext, type GlobalOptions } from '../context.js';
import { confirmYes } from '../io.js';

/** The stack and environment whose locks to act on: from --stack/-e, else from the configuration. */
async function identity(o: GlobalOptions, ctx: CommandContext): Promise<{ stack: string; env: string; dir: string; lockUrl: string }> {
  const settings = settingsFrom(o, ctx.io);
  if (o.stack && settings.environment) return { stack: o.stack, env: settings.environment, dir: settings.dir, lockUrl: settings.lockUrl };
  const { desired } = await loadStack(settings);
  return { stack: desired.name, env: desired.environment, dir: settings.dir, lockUrl: settings.lockUrl };
}

function describe(l: LockInfo, now: Date): string {
  const meta = Object.entries(l.metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `${l.lockKey}`,
    `  lock id:    ${l.lockId}`,
    `  held by:    ${l.lockedBy}`,
    `  since:      ${l.lockedAt.toISOString()}`,
    `  expires:    ${l.expiresAt.toISOString()}`,
    ...(meta ? [`  metadata:   ${meta}`] : []),
    ...(staleReason(l, now) ? [`  stale:      ${staleReason(l, now)}`] : []),
  ].join('\n');
}

export function registerLock(program: Command, ctx: CommandContext): void {
  const lock = program.command('lock').description('Inspect and break the locks of a stack');
  lock
    .command('status')
    .description('Show who holds the locks of this stack and environment')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const id = await identity(o, ctx);
      const locks = await openLockManager(id.lockUrl, id.dir).list(stackLockKey(id.stack, id.env));
      const now = new Date();
      if (o.json)
        printJson(ctx.io, { locks: locks.map((l) => ({ ...l, expired: isExpired(l, now), stale: staleReason(l, now) ?? null })) });
      else
        ctx.io.stdout.write(
          locks.length ? locks.map((l) => describe(l, now)).join('\n\n') + '\n' : `No locks held on ${stackLockKey(id.stack, id.env)}.\n`,
        );
    });
  lock
    .command('unlock')
    .description('Release a lock whose holder died; needs its lock id (see `lock status`) and confirmation')
    .requiredOption('--force <lockId>', 'the id of the lock to release')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ force: string; yes?: boolean }>(cmd);
      const id = await identity(o, ctx);
      const manager = openLockManager(id.lockUrl, id.dir);
      const locks = await manager.list(stackLockKey(id.stack, id.env));
      const target = locks.find((l) => l.lockId === o.force);
      if (!target) {
        const held = locks.map((l) => `${l.lockKey} is held with lock id ${l.lockId}`);
        throw new InvalidInputError(
          `no lock with id ${o.force} on ${stackLockKey(id.stack, id.env)}: nothing was released`,
          held.length ? held : ['no lock is held'],
        );
      }
      if (!o.yes) {
        if (!ctx.io.interactive) throw new InvalidInputError('lock unlock needs --yes when it does not run in a terminal');
        ctx.io.stdout.write(describe(target, new Date()) + '\n\n');
        if (!(await confirmYes(ctx.io, 'Release this lock? A run that still holds it would then run unprotected.'))) {
          ctx.io.stdout.write('Nothing was released.\n');
          ctx.exitCode = 1;
          return;
        }
      }
      if (!(await manager.forceUnlock(target.lockKey, target.lockId))) {
        throw new DeployerError('LOCK_NOT_FOUND', `lock ${target.lockKey} changed hands meanwhile; nothing was released`);
      }
      auditLogFor(settingsFrom(o, ctx.io), ctx.io)?.write(
        forceUnlockRecord({ lock: target, user: whoAmI(), correlationId: ctx.correlationId, stack: id.stack, environment: id.env }),
      );
      if (o.json) printJson(ctx.io, { released: target });
      else ctx.io.stdout.write(`Released ${target.lockKey} (lock id ${target.lockId}, held by ${target.lockedBy}).\n`);
    });
}
