/**
 * How gathered members become operations: the delete order inside a group, a large group shared
 * out among operations that run at once, and what may still go after a destroy that failed.
 */
import { describe, expect, it } from 'vitest';
import { SHARE_OUT_FROM, behindStopped, ordered, shareOut, type GroupedMember } from './batch-groups.js';

type Entry = { m: GroupedMember };
const up = (stackName: string): Entry => ({ m: { kind: 'up', o: { stackName } } });
const gone = (stackName: string, after: string[] = []): Entry => ({ m: { kind: 'destroy', o: { stackName, after } } });
const names = (es: Entry[]): string[] => es.map((e) => e.m.o.stackName);
const sizes = (parts: Entry[][]): number[] => parts.map((p) => p.length);
const many = (count: number, make: (name: string) => Entry = up): Entry[] => Array.from({ length: count }, (_, i) => make(`s${i}`));

/** The bench's shape at destroy: every leaf depended on c1 and c0, c1 on c0. */
function fanIn(leaves: number): Entry[] {
  const leafNames = names(many(leaves));
  return [gone('c0', [...leafNames, 'c1']), gone('c1', leafNames), ...many(leaves, (n) => gone(n))];
}

describe('ordered', () => {
  it('puts each destroy before those it must follow, and sets apart those that follow one outside the group', () => {
    const { together, later } = ordered([gone('leaf'), gone('base', ['mid']), gone('mid', ['leaf']), gone('orphan', ['elsewhere'])]);
    expect(names(together)).toEqual(['base', 'mid', 'leaf']);
    expect(names(later)).toEqual(['orphan']);
  });
});

describe('shareOut', () => {
  it('keeps a group below SHARE_OUT_FROM whole: one operation', () => {
    expect(sizes(shareOut(many(SHARE_OUT_FROM - 1), 2).now)).toEqual([SHARE_OUT_FROM - 1]);
    expect(shareOut([], 2)).toEqual({ now: [], next: [] });
  });

  it('shares a large group of deployments out among the operations the machine runs at once, each member in exactly one', () => {
    const group = many(198);
    const { now, next } = shareOut(group, 2);
    expect(sizes(now)).toEqual([99, 99]);
    expect(now.flat()).toEqual(group);
    expect(next).toEqual([]);
    expect(sizes(shareOut(many(200), 3).now)).toEqual([67, 67, 66]);
  });

  it('shares out the destroys nothing in the group follows, and sends those that follow them next, in their order', () => {
    const { together } = ordered(fanIn(198));
    const { now, next } = shareOut(together, 2);
    expect(sizes(now)).toEqual([99, 99]);
    expect(now.flat().every((e) => e.m.o.stackName.startsWith('s'))).toBe(true);
    expect(names(next)).toEqual(['c0', 'c1']);
    // Next time round the leaves are gone from the group: c1 follows nothing left in it.
    expect(shareOut(next, 2)).toEqual({ now: [next], next: [] });
  });

  it('keeps a large group whole when one operation runs at a time, or when too few of it are free to start', () => {
    expect(sizes(shareOut(many(198), 1).now)).toEqual([198]);
    // A chain: each destroy follows the one after it; one is free.
    const chain = Array.from({ length: 100 }, (_, i) => gone(`k${i}`, i < 99 ? [`k${i + 1}`] : []));
    expect(shareOut(ordered(chain).together, 2)).toEqual({ now: [ordered(chain).together], next: [] });
  });

  it('lets deployments and free destroys share the same parts', () => {
    const group = [...many(40), ...many(40, (n) => gone(`x${n}`))];
    expect(sizes(shareOut(group, 2).now)).toEqual([40, 40]);
  });
});

describe('behindStopped', () => {
  it('holds back whoever follows a stopped destroy, directly or through another, and lets the others go', () => {
    // In delete order; 'failed' and 'ok' ran in earlier operations.
    const next = [gone('top', ['mid', 'side']), gone('mid', ['failed']), gone('side', ['ok']), gone('free', ['ok'])];
    const { go, behind } = behindStopped(next, new Set(['mid']));
    expect(names(behind)).toEqual(['top']);
    expect(names(go).sort()).toEqual(['free', 'side']);
  });

  it('holds back nothing when nothing stopped', () => {
    const next = ordered(fanIn(3)).together;
    expect(behindStopped(next, new Set())).toEqual({ go: next, behind: [] });
  });
});
