import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Where streamed text goes; a promise from `write` says to wait before writing more (backpressure). */
export interface TextSink {
  write(text: string): Promise<void> | undefined;
}

/**
 * An array whose elements are made only as they are written (a CycloneDX component per package),
 * so a document of 200,000 entries never exists whole in memory.
 */
export class StreamedArray {
  constructor(readonly items: () => Iterable<unknown>) {}

  /** The whole array, for JSON.stringify (writeJson never calls this). */
  toJSON(): unknown[] {
    return [...this.items()];
  }
}

const CHUNK_CHARS = 64 * 1024;

/**
 * A TextSink over a Writable that gathers small writes into chunks of about 64 KiB and waits for
 * `drain` when the stream is full. Call `flush()` at the end.
 */
export class WritableSink implements TextSink {
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly stream: Writable) {}

  write(text: string): Promise<void> | undefined {
    this.pending.push(text);
    this.pendingChars += text.length;
    return this.pendingChars >= CHUNK_CHARS ? this.flush() : undefined;
  }

  /** Writes what is gathered, waiting for the stream to drain when it asks to. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}

/**
 * Writes `value` exactly as `JSON.stringify(value, null, 2)` would, but piece by piece: objects key
 * by key and arrays element by element down to `depth` levels (StreamedArrays at any level), each
 * deeper value stringified on its own. Memory follows the largest such value, not the document.
 */
export async function writeJson(value: unknown, sink: TextSink, depth = 2): Promise<void> {
  if (!(await writeValue(toJsonValue(value, ''), sink, depth, ''))) throw new TypeError('writeJson: the value has no JSON form');
}

/**
 * Writes one value (already through toJSON) at `indent`. Returns false, having written nothing,
 * where JSON.stringify would omit the value (undefined, a function, a symbol).
 */
async function writeValue(value: unknown, sink: TextSink, depth: number, indent: string): Promise<boolean> {
  if (value instanceof StreamedArray) {
    await writeArray(value.items(), sink, depth, indent);
    return true;
  }
  if (depth > 0 && value !== null && typeof value === 'object') {
    if (Array.isArray(value)) await writeArray(value, sink, depth, indent);
    else await writeObject(value as Record<string, unknown>, sink, depth, indent);
    return true;
  }
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined) return false;
  await sink.write(indent === '' ? text : text.replaceAll('\n', `\n${indent}`));
  return true;
}

async function writeArray(items: Iterable<unknown>, sink: TextSink, depth: number, indent: string): Promise<void> {
  const inner = `${indent}  `;
  let first = true;
  let index = 0;
  for (const item of items) {
    await sink.write(first ? `[\n${inner}` : `,\n${inner}`);
    first = false;
    // In arrays, what JSON.stringify omits in objects becomes null.
    if (!(await writeValue(toJsonValue(item, String(index)), sink, depth - 1, inner))) await sink.write('null');
    index += 1;
  }
  await sink.write(first ? '[]' : `\n${indent}]`);
}

async function writeObject(object: Record<string, unknown>, sink: TextSink, depth: number, indent: string): Promise<void> {
  const inner = `${indent}  `;
  let first = true;
  for (const [key, raw] of Object.entries(object)) {
    const value = toJsonValue(raw, key);
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    await sink.write(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `);
    first = false;
    await writeValue(value, sink, depth - 1, inner);
  }
  await sink.write(first ? '{}' : `\n${indent}}`);
}

/** What JSON.stringify serializes in place of `value` (its toJSON result, when it has one). */
function toJsonValue(value: unknown, key: string): unknown {
  if (value instanceof StreamedArray) return value;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  return value;
}
