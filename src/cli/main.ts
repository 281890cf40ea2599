/**
 * cli/: command definitions only. Each command calls one function of the layers below; this
 * file maps whatever they throw to an exit code (the only place that does) and prints it.
 */
import { randomUUID } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import { DeployerError, InternalError, machineFault } from '../errors.js';
import { deployerVersion } from '../package-info.js';
import type { CommandContext } from './context.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { processIO, type CliIO } from './io.js';
import { createLogger, LOG_LEVELS } from './logger.js';

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Each command's module, loaded only when it runs: a `plan` then loads what planning needs and
 * not the ledger, the engine or the drift loop (module loading was most of a small plan's time).
 * In `--help`'s order; a module may define several commands.
 */
const COMMAND_MODULES: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['setup'], load: async () => (await import('./commands/setup.js')).registerSetup },
  { names: ['plan', 'validate'], load: async () => (await import('./commands/plan.js')).registerPlan },
  { names: ['apply', 'destroy', 'rollback'], load: async () => (await import('./commands/apply.js')).registerApply },
  { names: ['graph'], load: async () => (await import('./commands/graph.js')).registerGraph },
  { names: ['lock'], load: async () => (await import('./commands/lock.js')).registerLock },
  { names: ['state'], load: async () => (await import('./commands/state.js')).registerState },
  { names: ['ledger'], load: async () => (await import('./commands/ledger.js')).registerLedger },
  { names: ['build'], load: async () => (await import('./commands/build.js')).registerBuild },
  { names: ['sign'], load: async () => (await import('./commands/build.js')).registerSign },
  { names: ['restart'], load: async () => (await import('./commands/restart.js')).registerRestart },
  { names: ['stop', 'start'], load: async () => (await import('./commands/lifecycle.js')).registerLifecycle },
  { names: ['run'], load: async () => (await import('./commands/lifecycle.js')).registerRun },
  { names: ['services'], load: async () => (await import('./commands/services.js')).registerServices },
  { names: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  { names: ['drift'], load: async () => (await import('./commands/drift.js')).registerDrift },
  { names: ['reconcile'], load: async () => (await import('./commands/reconcile.js')).registerReconcile },
  { names: ['bootstrap'], load: async () => (await import('./commands/bootstrap.js')).registerBootstrap },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['token'], load: async () => (await import('./commands/serve.js')).registerToken },
];

/**
 * The command `argv` names: its first word that is not a global option or an option's value;
 * undefined when there is none (the help then lists every command).
 */
export function commandNamed(program: Command, argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return argv[i + 1];
    if (!word.startsWith('-') || word === '-') return word;
    const flag = word.startsWith('--') ? word.split('=')[0]! : word.slice(0, 2);
    const option = program.options.find((o) => o.long === flag || o.short === flag);
    // A value in the same word (--dir=x, -Cx) or none taken: the next word is not this option's.
    const inline = word.startsWith('--') ? word.includes('=') : word.length > 2;
    if (option && (option.required || option.optional) && !inline) i++;
  }
  return undefined;
}

/** Registers the module of the command `argv` runs, or every command when it names none known. */
async function registerCommands(program: Command, ctx: CommandContext, argv: string[]): Promise<void> {
  const name = commandNamed(program, argv);
  const only = COMMAND_MODULES.find((m) => name !== undefined && m.names.includes(name));
  for (const m of only ? [only] : COMMAND_MODULES) (await m.load())(program, ctx);
  for (const c of program.commands) {
    c.exitOverride().configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) });
    for (const sub of c.commands)
      sub.exitOverride().configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) });
  }
}

const DESCRIPTION = 'Deploy a stack of services described in YAML, through the Pulumi engine.';

const LAYOUT_HELP = `Stack directory layout:
  stack.yaml                      kind: Stack (name, environments, target, lock level)
  services/<svc>/service.yaml     kind: Service
  services/<svc>/<component>.yaml kind: MicroService, S3, ...
  environments/<env>/**.yaml      overlays of the documents above for one environment
  .deployer/                      state, locks, Pulumi checkpoints and the ledger (defaults)`;

function buildProgram(ctx: CommandContext): Command {
  const program = new Command('deployer')
    .description(DESCRIPTION)
    .option('-C, --dir <dir>', 'the stack directory (default: the current directory)')
    .option('-e, --environment <env>', "the environment to act on (one of the Stack's spec.environments)")
    .option('--stack <name>', 'the stack name; refuses to act when the directory holds another stack')
    .option('--json', 'print machine-readable JSON on stdout (progress goes to stderr)')
    .option('--state-url <url>', 'state backend (env DEPLOYER_STATE_URL; default file://.deployer)')
    .option('--lock-url <url>', 'lock backend (env DEPLOYER_LOCK_URL; default file://.deployer)')
    .option('--ledger <location>', 'ledger: an SQLite file or a postgres:// URL (env DEPLOY_LEDGER_DB; default .deployer/ledger.db)')
    .option(
      '--var <name=value>',
      "set a variable ${var.name} (repeatable; over --var-file and the Stack's variables)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--var-file <file>',
      'read variables from a YAML or JSON file (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .addOption(
      new Option('--log-level <level>', "structured JSON logs (with the run's correlation id) on stderr from this level")
        .choices([...LOG_LEVELS])
        .env('DEPLOYER_LOG_LEVEL')
        .default('silent'),
    )
    .option('--log-file <file>', 'write the structured logs to this file instead of stderr')
    .option(
      '--region <name>',
      'of a Stack that lists regions, work on this one alone (plan, apply and destroy take every region otherwise; other commands the first listed)',
    )
    .option(
      '--audit-log <file>',
      'append the audit trail (one JSON record per deployment action, docs/audit.md) to this file, or - for stdout (also DEPLOYER_AUDIT_LOG, auditLog in deployer.config.yaml)',
    )
    .addHelpText(
      'after',
      `\n  deployer --version              print the version\n\n${LAYOUT_HELP}\n\n${EXIT_CODES_HELP}\n\nQuick start:\n  deployer apply -C examples/quickstart -e dev --yes\n`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) });
  return program;
}

/** Runs one deployer command; returns its exit code. Never throws. */
export async function runCli(argv: string[], io: CliIO = processIO()): Promise<number> {
  const correlationId = randomUUID();
  const ctx: CommandContext = { io, exitCode: EXIT.ok, correlationId, log: createLogger(io, 'silent', undefined, correlationId) };
  const program = buildProgram(ctx);
  try {
    await registerCommands(program, ctx, argv);
    program.hook('preAction', (_this, action) => {
      const o = action.optsWithGlobals() as { logLevel: string; logFile?: string };
      ctx.log = createLogger(io, o.logLevel, o.logFile, correlationId);
      ctx.log.info({ argv }, 'command started');
    });
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.invalid;
    }
    // `deployer --version` alone prints the version. Not a commander version option: that would be
    // taken from every command, and `ledger record-deployment --version` is the version deployed.
    if (argv.length === 1 && argv[0] === '--version') {
      io.stdout.write(`${deployerVersion}\n`);
      return EXIT.ok;
    }
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof DeployerError) ctx.log.error({ code: err.code, err: err.message }, 'command failed');
    return report(err, io, argv.includes('--json'));
  }
}

function report(err: unknown, io: CliIO, json: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here too.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.invalid;
  }
  // A full disk or a permission refused is the machine, whichever layer met it; anything else unexpected is a bug.
  const e =
    err instanceof DeployerError
      ? err
      : (machineFault(err, 'the command failed') ?? new InternalError(err instanceof Error ? err.message : String(err), err));
  if (json) io.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
  io.stderr.write(`Error: ${e.message}\n${e.details.map((d) => `  ${d}\n`).join('')}`);
  if (e.code === 'INTERNAL' && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return exitCodeFor(e.code);
}
