/**
 * The output of a local service's processes, in `app.log` of its runtime directory: every line
 * stamped with the time it was written and the process that wrote it, so that `deployer logs
 * --since 10m` can tell what is recent and replicas' lines can be told apart.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export class AppLog {
  private readonly out: WriteStream;

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'a', mode: 0o600 });
  }

  /** Copies the process's standard output and error, a line at a time, each stamped. */
  attach(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
        this.out.write(`${new Date().toISOString()} [${child.pid}] ${line}\n`),
      );
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}

/** The time a line of app.log was written, if it is stamped (lines from before stamping are not). */
export function stampOf(line: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /.exec(line);
  return m ? Date.parse(m[1]!) : undefined;
}
