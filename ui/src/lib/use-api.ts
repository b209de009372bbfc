import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export type Loadable<T> = { state: 'loading' } | { state: 'error'; error: ApiError } | { state: 'ready'; data: T };

/**
 * Runs `load` whenever `deps` change and keeps the last answer; an answer that arrives after the
 * deps moved on is dropped (a fast typist in a filter box must not see an older page win).
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): Loadable<T> & { reload: () => void } {
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setValue((v) => (v.state === 'ready' ? v : { state: 'loading' }));
    load().then(
      (data) => current && setValue({ state: 'ready', data }),
      (err: unknown) => current && setValue({ state: 'error', error: err instanceof ApiError ? err : new ApiError(0, 'E_UI', err instanceof Error ? err.message : String(err)) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, generation]);
  return { ...value, reload: () => setGeneration((g) => g + 1) };
}
