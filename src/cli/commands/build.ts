/** `deployer build [components...]` and `deployer sign <digest|component>`: the release stage before an apply. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { writeNewKeyPair } from '../../pipeline/index.js';
import { buildStack, signArtifact } from '../../workflows/build.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerBuild(program: Command, ctx: CommandContext): void {
  program
    .command('build [components...]')
    .description(
      'Build the artifacts of the components with spec.build (all of them, or those named as <service>/<component>) into the build cache ' +
        'in the state backend, without deploying: an unchanged input is never built again, here or on any runner sharing the backend. ' +
        'Prints each artifact digest (what `deployer sign` signs and `apply` deploys).',
    )
    .action(async (ids: string[], _f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      const results = await buildStack(settings, ids, (line) => (o.json ? ctx.io.stderr : ctx.io.stdout).write(`${line}\n`));
      const failed = results.filter((r) => r.error);
      if (o.json) printJson(ctx.io, { ok: failed.length === 0, builds: results });
      else {
        for (const r of results) {
          const took = `${(r.durationMs / 1000).toFixed(1)}s`;
          ctx.io.stdout.write(
            r.error
              ? `${r.id}  FAILED (${took}): ${r.error}\n`
              : `${r.id}  ${r.cache === 'hit' ? 'cache hit' : 'built'}  ${r.digest}  (${took})\n`,
          );
        }
        if (results.length === 0) ctx.io.stdout.write('Nothing to build: no component has spec.build.\n');
      }
      ctx.exitCode = failed.length > 0 ? 1 : 0;
    });
}

export function registerSign(program: Command, ctx: CommandContext): void {
  program
    .command('sign [artifact]')
    .description(
      'Sign an artifact with an Ed25519 key and store the signature beside it in the build cache. <artifact> is a digest (sha256:...) ' +
        'or a component (<service>/<component>) whose current build is in the cache. The signature gate verifies it against the ' +
        "Stack's spec.pipeline.trustedKeys. --new-key <file> makes a key pair instead (the public key at <file>.pub).",
    )
    .option('--key <file>', 'the private key, a PEM file')
    .option('--key-env <name>', 'an environment variable holding the private key in PEM (a secret from your CI)')
    .option('--new-key <file>', 'write a new Ed25519 key pair: the private key at <file> (mode 600), the public key at <file>.pub')
    .action(async (artifact: string | undefined, _f, cmd: Command) => {
      const o = allOptions<{ key?: string; keyEnv?: string; newKey?: string }>(cmd);
      if (o.newKey) {
        const made = await writeNewKeyPair(path.resolve(o.newKey));
        if (o.json) printJson(ctx.io, made);
        else
          ctx.io.stdout.write(
            `Wrote the private key ${made.privateFile} and the public key ${made.publicFile} (fingerprint ${made.fingerprint.slice(0, 12)}).\nTrust it: add ${made.publicFile} to spec.pipeline.trustedKeys of the Stack.\n`,
          );
        return;
      }
      if (!artifact) throw new InvalidInputError('name the artifact to sign: a digest (sha256:...) or a component (<service>/<component>)');
      if ((o.key === undefined) === (o.keyEnv === undefined))
        throw new InvalidInputError('give the signing key with exactly one of --key <file> and --key-env <name>');
      const settings = settingsFrom(o, ctx.io);
      const key = o.key !== undefined ? { file: path.resolve(o.key) } : { env: o.keyEnv! };
      const signature = await signArtifact(settings, artifact, key, (f) =>
        fs.readFile(f, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new InvalidInputError(`cannot read the key ${f}: ${err.code ?? err.message}`);
        }),
      );
      if (o.json) printJson(ctx.io, signature);
      else ctx.io.stdout.write(`Signed ${signature.digest} with key ${signature.keyFingerprint.slice(0, 12)}.\n`);
    });
}
