/**
 * The dashboard page's behaviour: the token form, the lists (deployments, DORA metrics, stacks
 * with their locks and drift) loaded from the API together and each drawn on its own (one
 * failing shows its error, the others still show), the deploy control and its run, and a
 * refresh after every run and every half minute. main.ts starts it on the page; the tests start
 * it on a document of their own.
 */
/// <reference lib="dom" />
import { ApiError, describeError, getJson, storedToken, storeToken, type Deployment, type MetricsAnswer, type StackAnswer } from './api.js';
import { RunPanel } from './run.js';
import { fillSelect, formatTime, h, renderStacks, renderTiles, renderTimeline } from './view.js';

/** How many deployments the timeline shows. */
export const TIMELINE_LIMIT = 50;

export interface DashboardOptions {
  /** Refresh the lists this often (0: only on demand and after runs). */
  refreshEveryMs?: number;
}

/** The running page. */
export interface Dashboard {
  /** Loads and draws every list; resolves when all are drawn (or have shown their error). */
  refresh(): Promise<void>;
  /** Resolves once no load is under way (what the tests wait on). */
  idle(): Promise<void>;
  run: RunPanel;
  /** Stops the periodic refresh. */
  stop(): void;
}

function byId<T extends HTMLElement>(doc: Document, id: string): T {
  const e = doc.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** Wires the page in `doc` to the API and draws it a first time. */
export function boot(doc: Document, options: DashboardOptions = {}): Dashboard {
  const tokenInput = byId<HTMLInputElement>(doc, 'token');
  const authState = byId(doc, 'auth-state');
  const errors = byId(doc, 'errors');
  const stackSelect = byId<HTMLSelectElement>(doc, 'deploy-stack');
  const envSelect = byId<HTMLSelectElement>(doc, 'deploy-environment');
  const deployButton = byId<HTMLButtonElement>(doc, 'deploy-button');
  const scope = byId<HTMLSelectElement>(doc, 'metrics-scope');
  let stacks: StackAnswer[] = [];
  let pending: Promise<void> | undefined;
  let again = false;
  /** The server refused the token (or its absence): periodic refreshes wait for another one. */
  let refused = false;
  // Refreshes after each run (the functions it calls are defined below, before any run can end).
  const run = new RunPanel(
    { status: byId(doc, 'run-status'), components: byId(doc, 'run-components'), notes: byId(doc, 'run-notes') },
    () => {
      environmentsOfChoice();
      void refresh();
    },
  );

  const showAuth = (): void => {
    authState.textContent = storedToken() ? 'sending your token' : 'no token: trying without (insecure-local)';
  };

  /** Shows the errors of the last refresh (or of an action), or hides the box when there are none. */
  const showErrors = (list: string[]): void => {
    errors.replaceChildren(...list.map((m) => h('li', {}, [m])));
    errors.hidden = list.length === 0;
  };

  const environmentsOfChoice = (): void => {
    fillSelect(envSelect, stacks.find((s) => s.name === stackSelect.value)?.environments.map((e) => e.name) ?? []);
    deployButton.disabled = run.busy || !stackSelect.value || !envSelect.value;
  };

  /**
   * The stacks first, alone: a refused token is then one failed attempt, not three (the server
   * limits failed authentications per address), and nothing more is asked until it changes.
   * Then the deployments and the metrics together, each drawn or its error shown on its own.
   */
  const load = async (): Promise<void> => {
    const problems: string[] = [];
    try {
      stacks = (await getJson<{ stacks: StackAnswer[] }>('/api/v1/stacks')).stacks;
      refused = false;
      renderStacks(byId(doc, 'stacks-body'), stacks);
      fillSelect(
        stackSelect,
        stacks.map((s) => s.name),
      );
      environmentsOfChoice();
    } catch (e) {
      refused = e instanceof ApiError && (e.status === 401 || e.status === 429);
      if (refused) return showErrors([describeError(e)]);
      problems.push(`stacks: ${describeError(e)}`);
    }
    const metricsQuery = scope.value === 'all' ? '?environment=all' : '';
    const [deployments, metrics] = await Promise.allSettled([
      getJson<{ deployments: Deployment[] }>(`/api/v1/deployments?limit=${TIMELINE_LIMIT}`),
      getJson<MetricsAnswer>(`/api/v1/metrics${metricsQuery}`),
    ]);
    if (deployments.status === 'fulfilled') renderTimeline(byId(doc, 'timeline-body'), deployments.value.deployments);
    else problems.push(`deployments: ${describeError(deployments.reason)}`);
    if (metrics.status === 'fulfilled') {
      renderTiles(byId(doc, 'tiles'), metrics.value);
      byId(doc, 'metrics-window').textContent = `${formatTime(metrics.value.from)} to ${formatTime(metrics.value.to)}`;
    } else problems.push(`metrics: ${describeError(metrics.reason)}`);
    showErrors(problems);
    byId(doc, 'updated').textContent = `updated ${formatTime(new Date().toISOString())}`;
  };

  /** One load at a time; a refresh asked for during one runs once more after it. */
  const refresh = async (): Promise<void> => {
    if (pending) {
      again = true;
      return pending;
    }
    pending = (async () => {
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => (pending = undefined));
    return pending;
  };

  byId<HTMLFormElement>(doc, 'token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeToken(tokenInput.value.trim());
    tokenInput.value = '';
    showAuth();
    void refresh();
  });
  byId(doc, 'forget').addEventListener('click', () => {
    storeToken('');
    showAuth();
    void refresh();
  });
  byId(doc, 'refresh').addEventListener('click', () => void refresh());
  scope.addEventListener('change', () => void refresh());
  stackSelect.addEventListener('change', environmentsOfChoice);
  byId<HTMLFormElement>(doc, 'deploy-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!stackSelect.value || !envSelect.value) return;
    deployButton.disabled = true;
    void run.deploy(stackSelect.value, envSelect.value);
  });

  const timer = options.refreshEveryMs
    ? window.setInterval(() => void (refused ? undefined : refresh()), options.refreshEveryMs)
    : undefined;
  showAuth();
  void refresh();
  const idle = async (): Promise<void> => {
    while (pending) await pending;
  };
  return { refresh, idle, run, stop: () => window.clearInterval(timer) };
}
