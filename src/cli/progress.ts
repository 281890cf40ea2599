/**
 * How a run's progress reaches the user: on a terminal, the finished steps scroll by as
 * timestamped lines while the running components stay in a live block at the bottom (spinner,
 * elapsed time, current Pulumi step); without a terminal (CI, pipes) the same timestamped lines
 * and nothing else; with --json, every event as one JSON object per line on stderr, with the
 * human line as its `message` (stdout keeps the final result document).
 */
import type { RunEvent, RunListener } from '../executor/events.js';
import type { CliIO } from './io.js';
import { humanRenderer } from './render.js';

export interface Progress {
  render: RunListener;
  /** A message of the command's own (e.g. "Interrupted ..."). */
  note(text: string): void;
  /** Hides the live block (before a prompt). */
  pause(): void;
  close(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function progressRenderer(io: CliIO, json: boolean, write: (text: string) => void): Progress {
  if (json) return jsonEvents(io);
  if (io.liveColumns === undefined) {
    const human = humanRenderer(write, { showPlan: true });
    return { render: human, note: write, pause: () => undefined, close: () => undefined };
  }
  return liveBlock(write, io.liveColumns);
}

/** Each event as data, with `message`: the line a person would have read for it, if any. */
function jsonEvents(io: CliIO): Progress {
  const emit = (value: Record<string, unknown>): void =>
    void io.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...value }) + '\n');
  let text = '';
  const human = humanRenderer((t) => (text += t), { showPlan: false });
  return {
    render: (e: RunEvent) => {
      text = '';
      human(e);
      const message = text.replace(/^\[ *[\d.]+s\] /gm, '').trim();
      emit({ ...(e as unknown as Record<string, unknown>), ...(message ? { message } : {}) });
    },
    note: (text) => emit({ type: 'notice', message: text.trim() }),
    pause: () => undefined,
    close: () => undefined,
  };
}

interface Running {
  action: string;
  started: number;
  step: string;
}

/** Exported for tests: the live block on a terminal `columns` wide. */
export function liveBlock(write: (text: string) => void, columns: number, tickMs = 100): Progress {
  const running = new Map<string, Running>();
  let drawn = 0;
  let frame = 0;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;

  const clear = (): void => {
    if (drawn > 0) write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = (): void => {
    if (paused || running.size === 0) return;
    const width = Math.max(...[...running.keys()].map((id) => id.length));
    const lines = [...running].map(([id, r]) => {
      const line = `${FRAMES[frame % FRAMES.length]} ${id.padEnd(width)}  ${r.action} ${((Date.now() - r.started) / 1000).toFixed(0)}s  ${r.step}`;
      // One screen line each, or the cursor arithmetic of the next redraw is wrong.
      return line.length >= columns ? `${line.slice(0, columns - 2)}…` : line;
    });
    write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const above = (text: string): void => {
    clear();
    write(text);
    draw();
  };
  const tick = (): void => {
    frame++;
    clear();
    draw();
  };
  const human = humanRenderer(above, { showPlan: true });

  const render = (e: RunEvent): void => {
    if (e.type === 'component-start' && e.action !== 'no-op') {
      running.set(e.id, { action: e.action, started: Date.now(), step: 'waiting for the engine' });
      timer ??= setInterval(tick, tickMs);
    }
    if (e.type === 'component-progress') {
      const r = running.get(e.id);
      const p = e.progress;
      if (r && p.phase === 'started') r.step = `${p.op} ${p.resourceType} ${p.resourceName}`;
      return; // shown in the live block, not as lines
    }
    if (e.type === 'component-done') running.delete(e.report.id);
    if (running.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    human(e);
  };
  return {
    render,
    note: above,
    pause: () => {
      clear();
      paused = true;
    },
    close: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}
