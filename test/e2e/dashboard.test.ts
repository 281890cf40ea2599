/**
 * The dashboard in Debian's Chromium (playwright-core), over a real listening `deployer serve`:
 * an SQLite ledger seeded through the LedgerStore API (deployments, a failure and its rollback,
 * a drift check), a token, and a copy of the buckets fixture served. The page asks for the
 * token, then shows the timeline and the DORA tiles with their bands, the lock a CI runner
 * holds and the drift found; a deployment through the page is refused with the holder's name,
 * and once the lock is released it runs through the real Pulumi engine, followed event by
 * event to "succeeded", and the timeline lists it. Every wait is on the page's state. The
 * screenshot is kept in test-results/dashboard.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/index.js';
import { DRIFT_TYPE, openLedger, type DeploymentEvent, type RollbackEvent } from '../../src/ledger/index.js';
import { openLockManager, stackLockKey, type AcquiredLock, type LockManager } from '../../src/lock/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { createApiToken } from '../../src/server/tokens.js';
import { deployer } from '../helpers/cli.js';
import { removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

const SCREENSHOT = path.join(repoRoot, 'test-results', 'dashboard.png');
const HOLDER = 'alice@ci-runner-7';

/** Debian's chromium (.ci/run installs it); the test fails, never skips, without it. */
function chromiumPath(): string {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    const found = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH either
  }
  throw new Error("the dashboard's browser test needs Debian's Chromium: apt-get install chromium (.ci/run installs it)");
}

const now = Date.now();
const daysAgo = (days: number, minutes = 0): string => new Date(now - days * 86_400_000 + minutes * 60_000).toISOString();

/** Six successes, a failure rolled back half an hour later: frequency high, lead time high, change failure rate medium, recovery elite. */
function seededDeployments(): DeploymentEvent[] {
  const d = (id: string, service: string, version: string, type: string, days: number, status: 'success' | 'failed'): DeploymentEvent => ({
    id,
    stack: 'shop',
    service,
    version,
    environment: 'prod',
    type,
    started: daysAgo(days),
    completed: daysAgo(days, 10),
    status,
    initiator: 'ci@example.com',
    // Committed two days before: a lead time of about two days, "high".
    metadata: { commit_time: daysAgo(days + 2) },
    parentId: `seed-run-${id}`,
  });
  return [
    d('seed-1', 'api', 'v1.0.0', 'rolling', 20, 'success'),
    d('seed-2', 'api', 'v1.1.0', 'canary', 15, 'success'),
    d('seed-3', 'web', 'v2.0.0', 'blue-green', 12, 'success'),
    d('seed-4', 'api', 'v1.2.0', 'canary', 8, 'failed'),
    d('seed-5', 'api', 'v1.2.1', 'rolling', 7, 'success'),
    d('seed-6', 'web', 'v2.1.0', 'big-bang', 3, 'success'),
    d('seed-7', 'api', 'v1.3.0', 'rolling', 1, 'success'),
  ];
}

const ROLLBACK: RollbackEvent = {
  id: 'seed-rollback',
  stack: 'shop',
  service: 'api',
  environment: 'prod',
  fromVersion: 'v1.2.0',
  toVersion: 'v1.1.0',
  reason: 'error rate above 5 %',
  at: daysAgo(8, 40),
  deploymentId: 'seed-4',
};

/** A reconcile cycle's record for the served stack: both buckets drifted. */
const DRIFT: DeploymentEvent = {
  id: 'seed-drift',
  stack: 'buckets',
  service: 'store',
  version: 'unknown',
  environment: 'dev',
  type: DRIFT_TYPE,
  started: daysAgo(0, -120),
  completed: daysAgo(0, -119),
  status: 'success',
  initiator: 'reconcile@ci',
  metadata: {
    operation: 'drift',
    drift: {
      cycle: 'drifted',
      components: 2,
      findings: 2,
      critical: 0,
      ignored: 0,
      report: ['store/images', 'store/logs'].map((component) => ({
        component,
        kind: 'resource',
        path: 'versioning',
        severity: 'warning',
        message: 'versioning changed',
      })),
    },
  },
  parentId: 'seed-reconcile',
  operation: 'drift',
};

let root = '';
let dir = '';
let ledgerPath = '';
let token = '';
let server: RunningServer | undefined;
let receiver: OtlpReceiver | undefined;
let browser: Browser | undefined;
let page: Page;
let locks: LockManager;
let held: AcquiredLock | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  const executablePath = chromiumPath();
  root = mkdtempSync(path.join(os.tmpdir(), 'deployer-dashboard-'));
  dir = testdir('buckets');
  ledgerPath = path.join(root, 'ledger.db');
  // The server traces its runs to an OTLP receiver, as it would to a collector.
  receiver = await startOtlpReceiver();
  const env = { ...process.env, DEPLOY_LEDGER_DB: ledgerPath, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };

  const ledger = openLedger(ledgerPath);
  try {
    await ledger.recordMany({ deployments: [...seededDeployments(), DRIFT], rollbacks: [ROLLBACK] });
    token = (await createApiToken(ledger.access(), { name: 'dashboard test', role: 'deployer', createdBy: 'test', expiresAt: null }))
      .secret;
  } finally {
    await ledger.close();
  }

  const settings = resolveSettings({ dir, environment: 'dev', stack: 'buckets' }, env);
  locks = openLockManager(settings.lockUrl, settings.dir);
  held = await locks.acquire({
    lockKey: stackLockKey('buckets', 'dev'),
    ttlMs: 3_600_000,
    lockedBy: HOLDER,
    metadata: { operation: 'apply', ci_run_id: '4711' },
  });

  server = await startServer({
    dirs: [dir],
    ledger: ledgerPath,
    host: '127.0.0.1',
    port: 0,
    auth: { insecureLocal: false },
    webhooks: {},
    env,
  });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // Generous: the whole suite runs files in parallel on two cores; waits end as soon as the page is there.
  page.setDefaultTimeout(90_000);
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  // Refused API calls are logged by the browser as failed loads; a policy violation is a bug of the page.
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
  if (held) await locks.release(held.lockKey, held.lockId);
  // What the run created (local buckets, Pulumi stacks) is destroyed as a user would.
  if (dir) await deployer(['destroy', '--yes', '-C', dir, '-e', 'dev'], { DEPLOY_LEDGER_DB: ledgerPath });
  removeTestdirs();
  if (root) rmSync(root, { recursive: true, force: true });
});

const errorsShown = (): Promise<string[]> => page.locator('#errors li').allTextContents();

describe('the dashboard in Chromium', () => {
  it('asks for a token, then shows the seeded deployments newest first and the DORA tiles with their bands', async () => {
    await page.goto(`${server!.url}/`);
    await page.locator('#errors li').first().waitFor();
    expect((await errorsShown()).join('\n')).toMatch(
      /authentication required: send Authorization: Bearer <token> \(enter an API token above/,
    );

    await page.locator('#token').fill(token);
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#timeline-body tr.deployment').nth(6).waitFor();
    await page.locator('#errors').waitFor({ state: 'hidden' });
    expect(await page.locator('#auth-state').textContent()).toBe('sending your token');

    const rows = await page
      .locator('#timeline-body tr.deployment')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)));
    // The drift check is in the ledger but is no deployment: it is not in the timeline.
    expect(rows).toEqual([
      ['shop / api', 'prod', 'v1.3.0', 'rolling', 'success'],
      ['shop / web', 'prod', 'v2.1.0', 'big-bang', 'success'],
      ['shop / api', 'prod', 'v1.2.1', 'rolling', 'success'],
      ['shop / api', 'prod', 'v1.2.0', 'canary', 'failed'],
      ['shop / web', 'prod', 'v2.0.0', 'blue-green', 'success'],
      ['shop / api', 'prod', 'v1.1.0', 'canary', 'success'],
      ['shop / api', 'prod', 'v1.0.0', 'rolling', 'success'],
    ]);
    const failed = page.locator('#timeline-body tr[data-id="seed-4"] .status');
    expect(await failed.getAttribute('class')).toBe('status status-failed');
    // Coloured by the style sheet, which the policy let the page load.
    expect(await failed.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(207, 34, 46)');

    const tiles = await page
      .locator('#tiles .tile')
      .evaluateAll((ts) =>
        ts.map((t) => [(t as HTMLElement).dataset['metric'], (t as HTMLElement).dataset['band'], t.querySelector('.value')!.textContent]),
      );
    expect(tiles.map(([metric, band]) => [metric, band])).toEqual([
      ['frequency', 'high'],
      ['lead-time', 'high'],
      ['change-failure-rate', 'medium'],
      ['mttr', 'elite'],
      ['success-rate', 'none'],
    ]);
    expect(tiles[2]![2]).toBe('14.3 %');
    expect(tiles[3]![2]).toBe('30 min');
    expect(tiles[4]![2]).toBe('85.7 %');
    expect(await page.locator('#tiles .tile[data-metric="mttr"]').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(
      'rgb(218, 251, 225)',
    );
  });

  it('shows the lock a CI runner holds and the drift found, and a deployment refused 409 names the holder', async () => {
    const env = page.locator('#stacks-body tr[data-stack="buckets"][data-environment="dev"]');
    await env.locator('.lock[data-lock="held"]').waitFor();
    // The page's token is a deployer's: who holds the lock is personal, shown as a pseudonym.
    const holder = await env.locator('.lock .holder').textContent();
    expect(holder).toMatch(/^person-[0-9a-f]{8}$/);
    expect(await env.locator('.lock').textContent()).toContain('(apply)');
    expect(await env.locator('.drift').getAttribute('data-drift')).toBe('2');
    expect(await env.locator('.drift strong').textContent()).toBe('2 drifted');

    expect(await page.locator('#deploy-stack').inputValue()).toBe('buckets');
    expect(await page.locator('#deploy-environment').inputValue()).toBe('dev');
    await page.locator('#deploy-button').click();
    await page.locator('#run-status[data-status="refused"]').waitFor();
    expect(await page.locator('#run-notes li.held').getAttribute('data-holder')).toBe(holder);
    expect(await page.locator('#run-notes').textContent()).not.toContain(HOLDER);
    expect(await page.locator('#run-notes li.held').textContent()).toContain(`lock id ${held!.lockId}`);
  });

  it('deploys through the page once the lock is free, follows the real run to "succeeded", and lists the new deployment', async () => {
    await locks.release(held!.lockKey, held!.lockId);
    held = undefined;
    await page.locator('#refresh').click();
    await page.locator('#stacks-body tr[data-stack="buckets"] .lock[data-lock="free"]').waitFor();
    await page.locator('#deploy-button:not([disabled])').waitFor();

    await page.locator('#deploy-button').click();
    await page.locator('#run-status[data-status="running"]').waitFor();
    await page.waitForFunction(
      () => ['succeeded', 'failed', 'cancelled', 'error'].includes(document.getElementById('run-status')?.dataset['status'] ?? ''),
      null,
      {
        timeout: 240_000,
      },
    );
    expect(await page.locator('#run-status').getAttribute('data-status'), (await page.locator('#run').textContent()) ?? '').toBe(
      'succeeded',
    );
    expect(await page.locator('#run-status .word').textContent()).toBe('succeeded');

    const components = await page
      .locator('#run-components li')
      .evaluateAll((lis) =>
        lis.map((li) => [
          (li as HTMLElement).dataset['component'],
          (li as HTMLElement).dataset['state'],
          (li as HTMLElement).dataset['result'],
        ]),
      );
    expect(components).toEqual([
      ['store/images', 'done', 'created'],
      ['store/logs', 'done', 'created'],
    ]);
    const notes = await page.locator('#run-notes li').allTextContents();
    expect(notes).toContain('lock acquired');
    expect(notes).toContain('summary: 2 created');

    // The lists are refreshed after the run: the new deployment heads the timeline, the lock is free again.
    const deployed = page.locator('#timeline-body tr[data-stack="buckets"][data-service="store"][data-environment="dev"]');
    await deployed.first().waitFor();
    expect(await deployed.first().getAttribute('data-status')).toBe('success');
    expect(await page.locator('#timeline-body tr.deployment').first().getAttribute('data-stack')).toBe('buckets');
    expect(await page.locator('#stacks-body tr[data-stack="buckets"] .lock').getAttribute('data-lock')).toBe('free');
    expect(await errorsShown()).toEqual([]);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);

    // The run is a trace: its span, and one child span per component deployed, flushed when the server stops.
    await server!.close();
    server = undefined;
    // The deploy refused earlier (409) is a trace too: a run span ended in error, with no component.
    const runs = receiver!.spans.filter((x) => x.name === 'deployer.run');
    expect(runs.map((x) => x.attributes['deployer.result']).sort()).toEqual(['error', 'success']);
    const run = runs.find((x) => x.attributes['deployer.result'] === 'success');
    expect(run?.attributes).toMatchObject({ 'deployer.stack': 'buckets', 'deployer.environment': 'dev', 'deployer.operation': 'apply' });
    const spans = receiver!.spans.filter((x) => x.name === 'deployer.component' && x.parentSpanId === run!.spanId);
    expect(
      spans.map((x) => [x.attributes['deployer.component'], x.attributes['deployer.service'], x.attributes['deployer.result']]).sort(),
    ).toEqual([
      ['store/images', 'store', 'created'],
      ['store/logs', 'store', 'created'],
    ]);
  }, 300_000);
});
