import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { InvalidVersionError, type VersionScheme } from './types.js';

/** Counts of one compareLines run. */
export interface CompareLinesResult {
  /** Lines read (each answered by one output line). */
  pairs: number;
  /** Lines answered `invalid`. */
  invalid: number;
}

/** Output lines are gathered and written in batches: one write per line would dominate the cost. */
const BATCH = 4096;

/**
 * Compares version pairs, one per line: reads `a<TAB>b` lines (further tab-separated fields, such
 * as the expected answer of a table file, are ignored; `\r\n` line ends are accepted) and writes,
 * for each line in order, `-1`, `0`, `1`, or `invalid` when either version is invalid for the scheme
 * or the line has no tab. Empty input gives no output and `{ pairs: 0, invalid: 0 }`. Respects
 * `output`'s back-pressure and leaves it open (it may be stdout). Errors other than invalid versions
 * (stream failures) reject the promise.
 */
export async function compareLines(scheme: VersionScheme, input: Readable, output: Writable): Promise<CompareLinesResult> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let pairs = 0;
  let invalid = 0;
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const chunk = `${batch.join('\n')}\n`;
    batch = [];
    if (!output.write(chunk)) await once(output, 'drain');
  };
  for await (const line of lines) {
    pairs++;
    batch.push(answer(scheme, line));
    if (batch[batch.length - 1] === 'invalid') invalid++;
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return { pairs, invalid };
}

function answer(scheme: VersionScheme, line: string): string {
  const tab = line.indexOf('\t');
  if (tab < 0) return 'invalid';
  const next = line.indexOf('\t', tab + 1);
  const a = line.slice(0, tab);
  const b = next < 0 ? line.slice(tab + 1) : line.slice(tab + 1, next);
  try {
    return String(scheme.compare(a, b));
  } catch (err) {
    if (err instanceof InvalidVersionError) return 'invalid';
    throw err;
  }
}
