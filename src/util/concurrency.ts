import { PortcullisError } from '../domain/errors.js';

/** The typed error for work stopped by `signal` (its reason kept as the cause). */
export function cancelled(signal: AbortSignal, what: string): PortcullisError {
  const reason: unknown = signal.reason;
  if (reason instanceof PortcullisError) return reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return new PortcullisError('E_CANCELLED', `${what}: cancelled (${why})`, {}, { cause: reason });
}

/** Throws {@link cancelled} when `signal` has been aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw cancelled(signal, what);
}

export interface BoundedOptions {
  /** Stops the whole run: no item starts after it fires, and the items in flight see it through their signal. */
  signal?: AbortSignal;
  /** What the run does, for the E_CANCELLED message (`reading layers`). */
  what?: string;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the result.
 *
 * The first failure cancels the rest: no further item starts, and the items in flight are told
 * through the signal `fn` receives (an abort of `options.signal` does the same). The call settles
 * only once every started item has settled, so nothing it began is still running (or writing a
 * temp file) when it rejects; it rejects with the first failure. Hand-written because the pools on
 * npm (p-map, p-limit) either keep starting items after a failure or do not wait for the ones in
 * flight, and neither passes a signal to them.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, signal: AbortSignal) => Promise<R>, options: BoundedOptions = {}): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  const stop = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => stop.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop.signal.aborted) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, stop.signal);
      } catch (err) {
        if (failure === undefined) failure = { error: err };
        stop.abort(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  // Stopped from outside: that is the cause, whatever the items in flight threw on their way out.
  if (outer?.aborted) throw cancelled(outer, options.what ?? 'work');
  if (failure !== undefined) throw failure.error;
  return results;
}
