/**
 * `deployer serve`: the REST API, webhooks, /metrics and the dashboard over the stacks given
 * (`--stack-dir`, repeatable; default the -C directory), until SIGINT or SIGTERM.
 * `deployer token create|list|revoke`: the API tokens, kept hashed in the ledger's database.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { ROLES, type Role } from '../../ledger/access.js';
import { openLedger } from '../../ledger/index.js';
import { whoAmI } from '../../lock/index.js';
import { createApiToken, tokenRefusal } from '../../server/tokens.js';
import { isLoopback, startServer } from '../../server/index.js';
import { parseDuration } from '../../config/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

interface ServeFlags {
  stackDir: string[];
  host: string;
  port: string;
  insecureLocal?: boolean;
  jwtSecretEnv?: string;
  jwksFile?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtRoleClaim?: string;
  tlsCert?: string;
  tlsKey?: string;
  bodyLimit: string;
  trustProxy: string[];
}

const collect = (v: string, all: string[]): string[] => [...all, v];

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description(
      'Serve the REST API (/api/v1, OpenAPI at /openapi.json), signed webhooks (/webhooks/github, /webhooks/<name>), Prometheus metrics (/metrics), ' +
        '/healthz, /readyz and the dashboard (/) over the given stacks, until interrupted. Requests authenticate with an API token ' +
        '(deployer token create) or a JWT; roles: viewer reads, deployer also deploys and rolls back, admin also breaks locks and manages tokens, ' +
        'auditor reads everything including the audit log, unredacted.',
    )
    .option('--stack-dir <dir>', 'a stack directory to serve (repeatable; default: the -C directory)', collect, [] as string[])
    .option('--host <address>', 'the address to listen on (default loopback only)', '127.0.0.1')
    .option('--port <port>', 'the port to listen on (0: any free one)', '7070')
    .option('--insecure-local', 'no authentication at all: every request may do everything (loopback only)')
    .option('--jwt-secret-env <VAR>', 'accept JWTs signed with HS256 by the secret in this environment variable')
    .option('--jwks-file <file>', "accept JWTs signed by a key of this JSON Web Key Set (the identity provider's public keys)")
    .option('--jwt-issuer <iss>', "require the JWT's issuer to be this")
    .option('--jwt-audience <aud>', "require the JWT's audience to include this")
    .option('--jwt-role-claim <claim>', 'the JWT claim that holds the role (default role)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--trust-proxy <address>',
      'a reverse proxy (address or CIDR range, repeatable) whose X-Forwarded-For names the client: for the failed-authentication limit and the audit log',
      collect,
      [] as string[],
    )
    .option('--body-limit <bytes>', 'largest request body accepted; larger ones are answered 413', '1048576')
    .addHelpText(
      'after',
      '\nWebhook secrets come from the environment, never from flags (which other users can see):\n' +
        '  DEPLOYER_GITHUB_WEBHOOK_SECRET     GitHub (X-Hub-Signature-256)\n' +
        '  DEPLOYER_WEBHOOK_SECRET_<NAME>     a generic JSON receiver at /webhooks/<name> (lower case)\n',
    )
    .action(async (_f, cmd: Command) => {
      const o = allOptions<ServeFlags & { logLevel: string; logFile?: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`--port ${o.port} is not a port number`);
      const bodyLimit = Number(o.bodyLimit);
      if (!Number.isInteger(bodyLimit) || bodyLimit < 1024)
        throw new InvalidInputError(`--body-limit ${o.bodyLimit}: give a number of bytes, at least 1024`);
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new InvalidInputError('--tls-cert and --tls-key go together');
      const server = await startServer({
        dirs: o.stackDir.length ? o.stackDir : [settings.dir],
        ledger: settings.ledger,
        host: o.host,
        port,
        bodyLimit,
        ...(o.trustProxy.length ? { trustProxy: o.trustProxy } : {}),
        auth: { insecureLocal: o.insecureLocal === true, ...jwtOptions(o, ctx.io.env) },
        webhooks: webhookSecrets(ctx.io.env),
        ...(o.tlsCert && o.tlsKey ? { https: { cert: readPem(o.tlsCert, '--tls-cert'), key: readPem(o.tlsKey, '--tls-key') } } : {}),
        // Request logs (pino JSON) on stderr or in --log-file, never on stdout beside --json's answer.
        logger: {
          // A server's internal errors are always logged: the default level (silent) keeps only them.
          level: o.logLevel === 'silent' ? 'error' : o.logLevel,
          redact: ['req.headers.authorization'],
          stream: o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : process.stderr,
        },
        env: ctx.io.env,
      });
      if (o.json) printJson(ctx.io, { url: server.url });
      else {
        ctx.io.stdout.write(
          `deployer serve: listening on ${server.url} (dashboard ${server.url}/, API ${server.url}/api/v1, OpenAPI ${server.url}/openapi.json)\n`,
        );
        if (!isLoopback(o.host) && !o.tlsCert)
          ctx.io.stderr.write('warning: serving beyond loopback without TLS: tokens cross the network in the clear\n');
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      ctx.io.stderr.write('deployer serve: stopping (running runs finish their components)\n');
      await server.close();
    });
}

function jwtOptions(o: ServeFlags, env: NodeJS.ProcessEnv): { jwt?: NonNullable<Parameters<typeof startServer>[0]['auth']['jwt']> } {
  if (!o.jwtSecretEnv && !o.jwksFile) return {};
  let secret: string | undefined;
  if (o.jwtSecretEnv) {
    secret = env[o.jwtSecretEnv];
    if (!secret) throw new InvalidInputError(`--jwt-secret-env ${o.jwtSecretEnv}: that environment variable is not set`);
  }
  return {
    jwt: {
      ...(secret ? { secret } : {}),
      ...(o.jwksFile ? { jwksFile: o.jwksFile } : {}),
      ...(o.jwtIssuer ? { issuer: o.jwtIssuer } : {}),
      ...(o.jwtAudience ? { audience: o.jwtAudience } : {}),
      ...(o.jwtRoleClaim ? { roleClaim: o.jwtRoleClaim } : {}),
    },
  };
}

function webhookSecrets(env: NodeJS.ProcessEnv): { github?: string; generic: Record<string, string> } {
  const generic: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^DEPLOYER_WEBHOOK_SECRET_([A-Z0-9_]+)$/.exec(k);
    if (m && v) generic[m[1]!.toLowerCase().replace(/_/g, '-')] = v;
  }
  const github = env['DEPLOYER_GITHUB_WEBHOOK_SECRET'];
  return { ...(github ? { github } : {}), generic };
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InvalidInputError(`${flag} ${file} cannot be read: ${(e as Error).message}`);
  }
}

export function registerToken(program: Command, ctx: CommandContext): void {
  const token = program.command('token').description("API tokens of `deployer serve`, kept hashed in the ledger's database");
  token
    .command('create')
    .description('Create a token and print its secret (shown this once; only its hash is kept)')
    .requiredOption('--role <role>', `what it may do: ${ROLES.join(', ')}`)
    .requiredOption('--name <name>', 'who or what it is for')
    .option('--expires <duration>', 'it expires after this long, e.g. 90d or 12h (default: never)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ role: string; name: string; expires?: string }>(cmd);
      if (!ROLES.includes(o.role as Role)) throw new InvalidInputError(`--role ${o.role} is not a role: use one of ${ROLES.join(', ')}`);
      const expiresAt = o.expires ? new Date(Date.now() + expiryMs(o.expires)).toISOString() : null;
      const settings = settingsFrom(o, ctx.io);
      const ledger = openLedger(settings.ledger);
      try {
        const created = await createApiToken(ledger.access(), { name: o.name, role: o.role as Role, createdBy: whoAmI(), expiresAt });
        if (o.json) return printJson(ctx.io, created);
        ctx.io.stdout.write(
          `Created ${created.token.id} (${created.token.role}${expiresAt ? `, expires ${expiresAt}` : ''}). Its secret, shown this once:\n${created.secret}\n`,
        );
      } finally {
        await ledger.close();
      }
    });
  token
    .command('list')
    .description('Every token, newest first (never a secret)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const ledger = openLedger(settingsFrom(o, ctx.io).ledger);
      try {
        const tokens = await ledger.access().listTokens();
        if (o.json) return printJson(ctx.io, { tokens });
        const now = new Date();
        if (!tokens.length) return void ctx.io.stdout.write('No tokens.\n');
        for (const t of tokens)
          ctx.io.stdout.write(
            `${t.id}  ${t.role.padEnd(8)}  ${t.name}  created ${t.createdAt} by ${t.createdBy}  ${tokenRefusal(t, now) ?? 'valid'}\n`,
          );
      } finally {
        await ledger.close();
      }
    });
  token
    .command('revoke <id>')
    .description('Revoke a token: it is refused from now on')
    .action(async (id: string, _f, cmd: Command) => {
      const o = allOptions(cmd);
      const ledger = openLedger(settingsFrom(o, ctx.io).ledger);
      try {
        if (!(await ledger.access().revokeToken(id, new Date().toISOString())))
          throw new InvalidInputError(`no token ${id} (see deployer token list)`);
        if (o.json) printJson(ctx.io, { revoked: id });
        else ctx.io.stdout.write(`Revoked ${id}.\n`);
      } finally {
        await ledger.close();
      }
    });
}

/** `--expires`: a duration (30m, 12h) or a number of days (90d). */
function expiryMs(text: string): number {
  const days = /^(\d+)d$/.exec(text.trim());
  return days ? Number(days[1]) * 86_400_000 : parseDuration(text, '--expires');
}
