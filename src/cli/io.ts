/** The streams a command talks through; the real process's, or a test's buffers. */
import type { Readable } from 'node:stream';

export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin?: Readable;
  /** True when a person is at the terminal (prompts allowed). */
  interactive: boolean;
  /** Columns of the terminal stdout writes to, when it is one that can redraw (live progress). */
  liveColumns?: number;
  env: NodeJS.ProcessEnv;
}

export function processIO(): CliIO {
  // `deployer ... | head`: the reader went away; stop quietly, as a command killed by SIGPIPE would.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(141);
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    ...(process.stdout.isTTY && process.env['TERM'] !== 'dumb' && !process.env['CI'] ? { liveColumns: process.stdout.columns || 100 } : {}),
    env: process.env,
  };
}

/** Asks a yes/no question; only the word "yes" agrees (as Terraform does). */
export async function confirmYes(io: CliIO, question: string): Promise<boolean> {
  if (!io.stdin) return false;
  // Loaded here: only a confirmation needs readline.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream, terminal: io.interactive });
  try {
    const answer = await rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
