/** Scanner reports in their published formats (test/fixtures/scan-reports) read into one list of findings. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/helpers/testdir.js';
import { atLeast, detectFormat, parseReport } from './scan-reports.js';

const report = (name: string): unknown => JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/scan-reports', name), 'utf8'));

describe('scanner reports', () => {
  it('recognises SARIF 2.1.0, Trivy JSON and Grype JSON, and nothing else', () => {
    expect(detectFormat(report('trivy.sarif'))).toBe('sarif');
    expect(detectFormat(report('trivy.json'))).toBe('trivy');
    expect(detectFormat(report('grype.json'))).toBe('grype');
    expect(detectFormat({ results: [] })).toBeUndefined();
    expect(detectFormat([1, 2])).toBeUndefined();
  });

  it('reads Trivy: every vulnerability of every target, worst first, with its package and fix', () => {
    const found = parseReport(report('trivy.json'), 'trivy');
    expect(found.map((v) => `${v.severity} ${v.id} ${v.target}`)).toEqual([
      'critical CVE-2019-10744 lodash@4.17.4',
      'critical CVE-2021-44906 minimist@1.2.5',
      'high CVE-2022-24999 qs@6.7.0',
      'medium CVE-2024-29041 express@4.17.1',
    ]);
    expect(found[0]).toMatchObject({ fixedIn: '4.17.12', title: expect.stringContaining('prototype pollution') });
  });

  it('reads Grype: its capitalised severities and the first fixed version', () => {
    const found = parseReport(report('grype.json'), 'grype');
    expect(found.map((v) => [v.severity, v.id, v.target, v.fixedIn])).toEqual([
      ['critical', 'GHSA-p6mc-m468-83gw', 'lodash@4.17.4', '4.17.12'],
      ['high', 'GHSA-hrpp-h998-j3pp', 'qs@6.7.0', '6.7.3'],
    ]);
  });

  it("reads SARIF: a rule's security-severity score in GitHub's bands, else the level", () => {
    const found = parseReport(report('trivy.sarif'), 'sarif');
    expect(found.map((v) => `${v.severity} ${v.id} ${v.target}`)).toEqual([
      'critical CVE-2019-10744 package-lock.json',
      'high CVE-2022-24999 package-lock.json',
      'high DS002 Dockerfile',
    ]);
    const byLevel = parseReport(
      { version: '2.1.0', runs: [{ tool: { driver: { name: 'lint' } }, results: [{ ruleId: 'X1', level: 'note' }, { ruleId: 'X2' }] }] },
      'sarif',
    );
    expect(byLevel.map((v) => [v.id, v.severity, v.target])).toEqual([
      ['X2', 'medium', 'lint'],
      ['X1', 'low', 'lint'],
    ]);
  });

  it('orders severities: a floor counts itself and everything worse', () => {
    expect(atLeast('critical', 'high')).toBe(true);
    expect(atLeast('high', 'high')).toBe(true);
    expect(atLeast('medium', 'high')).toBe(false);
    expect(atLeast('unknown', 'low')).toBe(false);
  });
});
