/**
 * A run's live progress on the dashboard: `POST /api/v1/deploy`, then its event stream read as
 * it comes (fetch with a streaming reader, since EventSource cannot send the token), drawn as
 * one row per component (pending, running, then its result) under the run's status. A 409
 * says who holds the lock. Should the stream end without the run's `end` event (a proxy, a
 * restart), the run is asked for once, so the page never shows a finished run as running.
 */
/// <reference lib="dom" />
import { ApiError, describeError, getJson, send, type LockHolder, type RunView, type Started } from './api.js';
import { readSse, type SseMessage } from './sse.js';
import { formatTime, h } from './view.js';

/** What the panel needs of the page. */
export interface RunPanelElements {
  /** The run's status line (`data-status`: idle, starting, running, succeeded, failed, cancelled, refused, error). */
  status: HTMLElement;
  /** The list of components. */
  components: HTMLElement;
  /** Notes: lock, set-up, warnings, the summary. */
  notes: HTMLElement;
}

/** A run event as the stream carries it (src/executor/events.ts's RunEvent, read loosely: a newer server may send more). */
type RunEventData = { type: string } & Record<string, unknown>;

/** The deploy control's run: starts it, follows it, draws it; one at a time. */
export class RunPanel {
  private running = false;

  constructor(
    private readonly el: RunPanelElements,
    /** Called once a run has ended (or was refused), so the page refreshes its lists. */
    private readonly onEnded: () => void,
  ) {}

  /** Whether a run is being followed. */
  get busy(): boolean {
    return this.running;
  }

  /** Starts a deployment of `stack` in `environment` and follows it to its end. */
  async deploy(stack: string, environment: string): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.reset(`starting a deployment of ${stack} in ${environment}…`);
    try {
      const started = (await (await send('/api/v1/deploy', { method: 'POST', json: { stack, environment } })).json()) as Started;
      this.setStatus('running', `run ${started.run.id} of ${stack} in ${environment}`);
      await this.follow(started);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && (e.body as { holder?: LockHolder } | undefined)?.holder) {
        this.refused((e.body as { holder: LockHolder }).holder, e.message);
      } else {
        this.setStatus('error', describeError(e));
      }
    } finally {
      this.running = false;
      this.onEnded();
    }
  }

  /** Follows a started run's events until its end. */
  async follow(started: Started): Promise<void> {
    let ended: RunView | undefined;
    const response = await send(started.links.events, { stream: true });
    if (!response.body) throw new ApiError(0, 'NO_STREAM', 'the browser gave no readable stream for the run events');
    await readSse(response.body, (m) => {
      ended = this.handle(m) ?? ended;
      return ended === undefined;
    });
    // The stream ended without saying how the run ended: ask.
    ended ??= await getJson<RunView>(started.links.self);
    this.ended(ended);
  }

  /** Draws one event; the run view when it is the last one. */
  handle(m: SseMessage): RunView | undefined {
    let data: unknown;
    try {
      data = JSON.parse(m.data);
    } catch {
      this.note(`an event the page cannot read: ${m.event}`);
      return undefined;
    }
    if (m.event === 'end') return data as RunView;
    this.draw(data as RunEventData);
    return undefined;
  }

  private draw(e: RunEventData): void {
    switch (e.type) {
      case 'plan': {
        const actions = (e['plan'] as { actions: { id: string; action: string }[] }).actions;
        const changing = actions.filter((a) => a.action !== 'no-op');
        for (const a of changing) this.row(a.id, a.action).dataset['state'] = 'pending';
        this.note(`plan: ${changing.length} to change, ${actions.length - changing.length} unchanged`);
        return;
      }
      case 'component-start': {
        const row = this.row(e['id'] as string, e['action'] as string);
        row.dataset['state'] = 'running';
        this.cell(row, 'state').textContent = 'running';
        return;
      }
      case 'component-progress': {
        const p = e['progress'] as { op: string; resourceType: string; resourceName: string; phase: string };
        this.cell(this.row(e['id'] as string), 'detail').textContent = `${p.op} ${p.resourceName} (${p.resourceType}): ${p.phase}`;
        return;
      }
      case 'component-notice':
        this.cell(this.row(e['id'] as string), 'detail').textContent = e['message'] as string;
        return;
      case 'component-done': {
        const r = e['report'] as { id: string; action: string; result: string; reason?: string; durationMs?: number };
        const row = this.row(r.id, r.action);
        row.dataset['state'] = 'done';
        row.dataset['result'] = r.result;
        const state = this.cell(row, 'state');
        state.textContent = r.result;
        state.className = `state result result-${r.result}`;
        this.cell(row, 'detail').textContent = [r.reason, r.durationMs !== undefined ? `${(r.durationMs / 1000).toFixed(1)} s` : '']
          .filter(Boolean)
          .join(' · ');
        return;
      }
      case 'lock-wait':
        this.note(`waiting for the lock held by ${(e['holder'] as { lockedBy: string }).lockedBy}`);
        return;
      case 'lock-acquired':
        this.note('lock acquired');
        return;
      case 'lock-lost':
        this.note(`lock lost: ${String(e['reason'])}`);
        return;
      case 'setup':
      case 'notice':
        this.note(String(e['message']));
        return;
      case 'warnings':
        for (const w of e['warnings'] as { message?: string }[]) this.note(`warning: ${w.message ?? JSON.stringify(w)}`);
        return;
      case 'rollback-start':
        this.note(`rolling back: ${String(e['reason'])}`);
        return;
      case 'rollback-done':
        this.note(`rollback ${(e['rollback'] as { ok: boolean }).ok ? 'done' : 'incomplete'}`);
        return;
      case 'summary': {
        const counts = (e['summary'] as { counts: Record<string, number> }).counts;
        const said = Object.entries(counts).filter(([, n]) => n > 0);
        this.note(`summary: ${said.map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing to do'}`);
        return;
      }
      default:
        // An event this page does not know yet: the run goes on; nothing to draw.
        return;
    }
  }

  private ended(run: RunView): void {
    if (run.status === 'running') {
      this.setStatus('error', `lost the event stream of run ${run.id}, which is still running: refresh to see how it ends`);
      return;
    }
    const why = run.error ? `: ${run.error.message}` : run.note ? `: ${run.note}` : '';
    this.setStatus(run.status, `run ${run.id} of ${run.stack} in ${run.environment}${why}`);
  }

  private refused(holder: LockHolder, message: string): void {
    this.setStatus('refused', message);
    this.el.notes.append(
      h('li', { class: 'held', attrs: { 'data-holder': holder.lockedBy } }, [
        'the lock is held by ',
        h('strong', {}, [holder.lockedBy]),
        ` since ${formatTime(holder.lockedAt)}`,
        holder.expired ? ' (expired: its holder likely died)' : ` until ${formatTime(holder.expiresAt)}`,
        ` · lock id ${holder.lockId}`,
      ]),
    );
  }

  private reset(message: string): void {
    this.el.components.replaceChildren();
    this.el.notes.replaceChildren();
    this.setStatus('starting', message);
  }

  /** The status line: a word (`data-status`, which styles and tests key on) and what it means. */
  private setStatus(state: string, message: string): void {
    this.el.status.dataset['status'] = state;
    this.el.status.className = `run-status status-${state}`;
    this.el.status.replaceChildren(h('span', { class: 'word' }, [state]), ' ', h('span', { class: 'message' }, [message]));
  }

  private note(text: string): void {
    this.el.notes.append(h('li', {}, [text]));
  }

  private row(id: string, action?: string): HTMLElement {
    const found = [...this.el.components.children].find((c) => (c as HTMLElement).dataset['component'] === id) as HTMLElement | undefined;
    if (found) {
      if (action) this.cell(found, 'action').textContent = action;
      return found;
    }
    const row = h('li', { class: 'component', attrs: { 'data-component': id, 'data-state': 'pending' } }, [
      h('span', { class: 'id' }, [id]),
      h('span', { class: 'action' }, [action ?? '']),
      h('span', { class: 'state' }, ['pending']),
      h('span', { class: 'detail' }, []),
    ]);
    this.el.components.append(row);
    return row;
  }

  private cell(row: HTMLElement, name: string): HTMLElement {
    return row.querySelector(`.${name}`) as HTMLElement;
  }
}
