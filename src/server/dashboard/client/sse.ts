/**
 * Server-sent events read from a fetch response's body. EventSource cannot send an
 * Authorization header, so the page fetches the stream itself and parses the format here, as
 * the HTML standard describes it: lines ending in LF, CR or CRLF (split anywhere across
 * chunks), `field: value` (one optional space after the colon), comments starting with `:`,
 * `data` lines joined by LF, an empty line dispatching the event.
 */
/// <reference lib="dom" />

/** One event of the stream. */
export interface SseMessage {
  /** The `event` field, or `message` when it had none. */
  event: string;
  data: string;
  id?: string;
}

/** An incremental parser: feed it text as it arrives, it returns the events completed. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  /** The stream ended: a last CR still ends its line; an event without its empty line is dropped, as the standard says. */
  end(): SseMessage[] {
    const out = this.buffer.endsWith('\r') ? this.push('\n') : [];
    this.buffer = '';
    this.event = '';
    this.data = [];
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields: nothing to do for a stream read once.
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const had = this.data.length > 0;
    const message: SseMessage = {
      event: this.event || 'message',
      data: this.data.join('\n'),
      ...(this.id !== undefined ? { id: this.id } : {}),
    };
    this.event = '';
    this.data = [];
    return had ? message : undefined;
  }
}

/**
 * Reads the event stream of `body` to its end, handing each event to `onMessage`; returning
 * false from it stops reading (and cancels the stream).
 */
export async function readSse(body: ReadableStream<Uint8Array>, onMessage: (m: SseMessage) => boolean | void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const messages = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }));
      for (const m of messages) {
        if (onMessage(m) === false) {
          await reader.cancel();
          return;
        }
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
