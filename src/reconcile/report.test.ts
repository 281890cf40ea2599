/** Drift findings from the three readings, their severity, the ignore rules and redaction. */
import { describe, expect, it } from 'vitest';
import {
  applyIgnoreRules,
  configurationDrift,
  differingPaths,
  ignoredBy,
  pendingDrift,
  resourceDrift,
  SECRET_SHOWN,
  severityOf,
  type ResourceReading,
} from './report.js';

const api = { id: 'web/api', kind: 'MicroService' };
const reading = (
  recorded: Record<string, unknown>,
  actual: Record<string, unknown> | undefined,
  change: ResourceReading['change'] = 'changed',
): ResourceReading => ({
  name: 'api',
  type: 'pulumi-nodejs:dynamic/local:MicroService',
  change,
  recorded,
  actual,
});
const volatile = new Set(['pid', 'generation', '__provider']);
const noSecrets = { volatile, secret: () => false };

describe('severity', () => {
  it('is critical for a deleted resource, a stateful kind and a security-relevant property; a warning otherwise', () => {
    expect(severityOf('MicroService', 'missing', '')).toBe('critical');
    expect(severityOf('S3', 'resource', 'tags.team')).toBe('critical');
    expect(severityOf('RDS', 'configuration', 'spec.instanceClass')).toBe('critical');
    expect(severityOf('MicroService', 'resource', 'publicAccess')).toBe('critical');
    expect(severityOf('Lambda', 'configuration', 'spec.encryption.enabled')).toBe('critical');
    expect(severityOf('MicroService', 'resource', 'env.GREETING')).toBe('warning');
    expect(severityOf('MicroService', 'pending', '')).toBe('warning');
  });
});

describe('resource drift', () => {
  it('names each changed property with recorded and actual, and the configuration as expected', () => {
    const recorded = { env: { A: '1', B: '2' }, port: 80, pid: 1, generation: 1 };
    const actual = { env: { A: '1', B: '3', C: 'new' }, port: 81, pid: 9, generation: 4 };
    const found = resourceDrift(api, [reading(recorded, actual)], { ...noSecrets, resolvedSpec: { env: { A: '1', B: '2' }, port: 80 } });
    expect(found).toEqual([
      expect.objectContaining({ kind: 'resource', path: 'env.B', expected: '2', recorded: '2', actual: '3', severity: 'warning' }),
      expect.objectContaining({ kind: 'resource', path: 'env.C', actual: 'new' }),
      expect.objectContaining({ kind: 'resource', path: 'port', expected: 80, recorded: 80, actual: 81 }),
    ]);
    expect(found[1]).not.toHaveProperty('recorded');
  });

  it('reports nothing when only volatile outputs moved (a restart: new pids, a new generation)', () => {
    const recorded = { env: { A: '1' }, pid: 1, generation: 1, __provider: 'x' };
    expect(resourceDrift(api, [reading(recorded, { ...recorded, pid: 2, generation: 5, __provider: 'y' })], noSecrets)).toEqual([]);
  });

  it('a gone resource is missing and critical; a stopped one is not running, critical, said once', () => {
    expect(resourceDrift(api, [reading({ a: 1 }, undefined, 'gone')], noSecrets)).toEqual([
      expect.objectContaining({
        kind: 'missing',
        path: '',
        severity: 'critical',
        message: "MicroService api is gone (deleted behind deployer's back)",
      }),
    ]);
    const down = resourceDrift(api, [reading({ running: true }, { running: false, healthy: false })], noSecrets);
    expect(down).toEqual([
      expect.objectContaining({
        kind: 'resource',
        path: 'running',
        recorded: true,
        actual: false,
        severity: 'critical',
        message: 'MicroService api is not running: its processes are gone',
      }),
    ]);
    const sick = resourceDrift(api, [reading({ running: true }, { running: true, healthy: false })], noSecrets);
    expect(sick).toEqual([
      expect.objectContaining({ path: 'healthy', actual: false, message: 'MicroService api does not answer its health check' }),
    ]);
  });

  it('a service stopped through deployer stop is no drift; its other properties still are', () => {
    const stopped = { running: false, healthy: false, stopped: 'by alice@laptop at 2026-12-07T03:00:00.000Z' };
    expect(resourceDrift(api, [reading({ running: true, port: 8080 }, { ...stopped, port: 8080 })], noSecrets)).toEqual([]);
    expect(resourceDrift(api, [reading({ running: true, port: 8080 }, { ...stopped, port: 9090 })], noSecrets)).toEqual([
      expect.objectContaining({ path: 'port', recorded: 8080, actual: 9090 }),
    ]);
  });

  it('an open circuit breaker is said once, critical, with its reason, in place of not running', () => {
    const reason = 'circuit breaker open: 3 process(es) died in a row; not restarted until 2026-12-07T03:10:00.000Z';
    const found = resourceDrift(api, [reading({ running: true }, { running: false, healthy: false, circuitBreaker: reason })], noSecrets);
    expect(found).toEqual([
      expect.objectContaining({ path: 'circuitBreaker', actual: 'open', severity: 'critical', message: `MicroService api: ${reason}` }),
    ]);
  });

  it('never shows a secret: a secretRef in the configuration, or what Pulumi masks', () => {
    const found = resourceDrift(
      api,
      [reading({ env: { TOKEN: 's3cr3t-old', PLAIN: 'a' } }, { env: { TOKEN: 's3cr3t-new', PLAIN: 'a' } })],
      {
        volatile,
        secret: (p) => p === 'env.TOKEN',
        resolvedSpec: { env: { TOKEN: 's3cr3t-old' } },
      },
    );
    expect(found).toEqual([
      expect.objectContaining({ path: 'env.TOKEN', expected: SECRET_SHOWN, recorded: SECRET_SHOWN, actual: SECRET_SHOWN }),
    ]);
    expect(JSON.stringify(found)).not.toMatch(/s3cr3t/);
    const masked = resourceDrift(api, [reading({ env: { K: '[secret]' } }, { env: { K: 'plain-now' } })], noSecrets);
    expect(JSON.stringify(masked)).not.toMatch(/plain-now/);
    // Added behind deployer's back under a secret's name: not shown either.
    const added = resourceDrift(api, [reading({ env: {} }, { env: { API_TOKEN: 'tok-123' } })], noSecrets);
    expect(added).toEqual([expect.objectContaining({ path: 'env.API_TOKEN', actual: SECRET_SHOWN })]);
  });
});

describe('configuration drift', () => {
  const action = (a: string, changes: string[] = [], reason = 'spec changed') => ({
    id: 'web/api',
    kind: 'MicroService' as const,
    action: a as 'update',
    reason,
    changes,
  });

  it('is the plan: one finding per changed spec path, expected from the YAML and recorded from the state', () => {
    const found = configurationDrift(
      action('update', ['/env/GREETING', '/replicas']),
      { env: { GREETING: 'new' }, replicas: 3 },
      { env: { GREETING: 'old' }, replicas: 2 },
    );
    expect(found).toEqual([
      expect.objectContaining({ kind: 'configuration', path: 'spec.env.GREETING', expected: 'new', recorded: 'old', severity: 'warning' }),
      expect.objectContaining({ path: 'spec.replicas', expected: 3, recorded: 2 }),
    ]);
    expect(configurationDrift(action('no-op'), {}, {})).toEqual([]);
  });

  it('a new component, a removed one, and an update without paths say what apply would do', () => {
    expect(configurationDrift(action('create', [], 'new component'), {}, undefined)[0]!.message).toMatch(
      /not deployed \(new component\): `deployer apply` creates it/,
    );
    expect(configurationDrift(action('delete', [], 'removed from configuration'), undefined, {})[0]!.message).toMatch(
      /deployed, but removed from configuration/,
    );
    expect(configurationDrift(action('update', [], 'the last apply of this component failed'), {}, {})[0]!.path).toBe('');
    // A replacement without changed paths (its kind or target changed) says so, and what apply would do.
    expect(configurationDrift(action('replace', [], 'target local -> aws (cannot change in place)'), {}, {})).toEqual([
      expect.objectContaining({
        path: '',
        action: 'replace',
        message: 'target local -> aws (cannot change in place): `deployer apply` replaces it',
      }),
    ]);
  });

  it('shows a secretRef as a secret, never its reference or value', () => {
    const [f] = configurationDrift(
      action('update', ['/env/TOKEN']),
      { env: { TOKEN: { secretRef: 'env:NEW' } } },
      { env: { TOKEN: { secretRef: 'env:OLD' } } },
    );
    expect(f).toMatchObject({ expected: SECRET_SHOWN, recorded: SECRET_SHOWN });
  });
});

describe('pending operations', () => {
  it('each is a finding of its component', () => {
    const [f] = pendingDrift(api, [{ urn: 'urn:pulumi:s::p::t::api', operation: 'updating' }]);
    expect(f).toMatchObject({ kind: 'pending', path: '', severity: 'warning' });
    expect(f!.message).toMatch(/an interrupted run left api pending \(updating\): the next `deployer apply` refreshes it first/);
  });
});

describe('ignore rules', () => {
  const f = (component: string, path: string) => ({ component, path });
  it('match components by glob and a path with everything below it', () => {
    expect(ignoredBy({ component: 'web/*' }, f('web/api', 'env.A'))).toBe(true);
    expect(ignoredBy({ component: 'web/*' }, f('webx/api', 'env.A'))).toBe(false);
    expect(ignoredBy({ component: '*/api', path: 'tags.LastModified' }, f('web/api', 'tags.LastModified'))).toBe(true);
    expect(ignoredBy({ component: '*', path: 'tags' }, f('web/api', 'tags.LastModified'))).toBe(false);
    expect(ignoredBy({ component: '*/*', path: 'tags' }, f('web/api', 'tags.LastModified'))).toBe(true);
    expect(ignoredBy({ component: 'web/api', path: 'env.*' }, f('web/api', 'env.GREETING'))).toBe(true);
    expect(ignoredBy({ component: 'web/api', path: 'env.GREETING' }, f('web/api', 'env'))).toBe(false);
    expect(ignoredBy({ component: 'web/a.i' }, f('web/api', ''))).toBe(false);
  });

  it('leave findings out and count them', () => {
    const findings = [
      { component: 'web/api', kind: 'resource' as const, path: 'env.A', severity: 'warning' as const, message: '' },
      { component: 'web/db', kind: 'missing' as const, path: '', severity: 'critical' as const, message: '' },
    ];
    expect(applyIgnoreRules(findings, [{ component: 'web/api', path: 'env' }])).toEqual({ kept: [findings[1]], ignored: 1 });
  });
});

describe('differingPaths', () => {
  it('compares objects key by key whatever their order, and arrays whole', () => {
    expect(differingPaths({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toEqual([]);
    expect(differingPaths({ c: [1, 2] }, { c: [2, 1] })).toEqual(['c']);
    expect(differingPaths({ a: 1 }, {})).toEqual(['a']);
  });
});
