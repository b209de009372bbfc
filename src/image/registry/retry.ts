/** How often and how patiently to retry (defaults: 4 attempts, 200 ms base, doubling). */
export interface RetryPolicy {
  /** Total attempts including the first; 1 means no retry. */
  attempts: number;
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200 };

/** The longest Retry-After we wait for; a registry asking for an hour gets a failure instead. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Exponential backoff: base, 2·base, 4·base... for failure number 1, 2, 3... */
export function backoffDelay(policy: RetryPolicy, failure: number): number {
  return policy.baseDelayMs * 2 ** Math.max(0, failure - 1);
}

/**
 * Reads a Retry-After header (delta-seconds or an HTTP date) as milliseconds from `now`; undefined
 * when absent or unparseable. Dates in the past give 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
