/**
 * @vitest-environment jsdom
 *
 * The dashboard's reader of server-sent events: the format as the HTML standard gives it,
 * whichever way the stream is cut into chunks.
 */
import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseMessage } from './sse.js';

const STREAM = [
  ': a comment line',
  'event: component-start',
  'data: {"type":"component-start","id":"store/images"}',
  '',
  'event: multi',
  'data: first',
  'data:second',
  'data:  two spaces keep one',
  'id: 7',
  'retry: 1000',
  'unknown: ignored',
  '',
  'data: no event name',
  '',
  'event: nothing-to-send',
  '',
  'data',
  '',
  '',
].join('\n');

const EXPECTED: SseMessage[] = [
  { event: 'component-start', data: '{"type":"component-start","id":"store/images"}' },
  { event: 'multi', data: 'first\nsecond\n two spaces keep one', id: '7' },
  { event: 'message', data: 'no event name', id: '7' },
  { event: 'message', data: '', id: '7' },
];

function parseAll(chunks: string[]): SseMessage[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

describe('SseParser', () => {
  it('reads events, data lines, ids and comments as the standard says', () => {
    expect(parseAll([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events however the stream is cut, and with CRLF or CR line ends', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = STREAM.split('\n').join(eol);
      expect(parseAll([...text]), JSON.stringify(eol)).toEqual(EXPECTED);
      for (const at of [1, 5, 17, 40, 63]) expect(parseAll([text.slice(0, at), text.slice(at)])).toEqual(EXPECTED);
    }
  });

  it('drops an event the stream ended before its empty line, and ends a last line ended by a CR', () => {
    expect(parseAll(['data: cut short\n'])).toEqual([]);
    expect(parseAll(['data: ended\n\r'])).toEqual([{ event: 'message', data: 'ended' }]);
  });
});

function streamOf(chunks: Uint8Array[]): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

describe('readSse', () => {
  it('decodes UTF-8 split across chunks and hands over every event', async () => {
    const bytes = new TextEncoder().encode('event: note\ndata: déployé ✓\n\nevent: end\ndata: {}\n\n');
    const cut = bytes.indexOf(0xa9); // inside é
    const { stream } = streamOf([bytes.slice(0, cut), bytes.slice(cut)]);
    const seen: SseMessage[] = [];
    await readSse(stream, (m) => void seen.push(m));
    expect(seen).toEqual([
      { event: 'note', data: 'déployé ✓' },
      { event: 'end', data: '{}' },
    ]);
  });

  it('stops reading, and cancels the stream, when told to', async () => {
    const enc = new TextEncoder();
    const { stream, cancelled } = streamOf([enc.encode('data: 1\n\n'), enc.encode('data: 2\n\n'), enc.encode('data: 3\n\n')]);
    const seen: string[] = [];
    await readSse(stream, (m) => {
      seen.push(m.data);
      return m.data !== '2';
    });
    expect(seen).toEqual(['1', '2']);
    expect(cancelled()).toBe(true);
  });
});
