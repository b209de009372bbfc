import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client';
import type { Loadable } from '../lib/use-api';

export function Loading({ what }: { what: string }) {
  return (
    <p class="state state-loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** An API failure as a message a person can act on; the service's own words are shown as text. */
export function ErrorBox({ error, what }: { error: ApiError; what: string }) {
  const headline =
    error.status === 0
      ? 'The Portcullis service cannot be reached.'
      : error.status === 404
        ? `No ${what} here.`
        : error.status === 403
          ? `You may not see ${what}.`
          : `Could not load ${what}.`;
  return (
    <div class="state state-error" role="alert">
      <strong>{headline}</strong>
      <p>
        {error.message} {error.status > 0 ? <code>({error.code}, HTTP {error.status})</code> : null}
      </p>
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state state-empty">{children}</p>;
}

/** Renders `render(data)` once loaded, else the loading or error state. */
export function Loaded<T>({ value, what, children }: { value: Loadable<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (value.state === 'loading') return <Loading what={what} />;
  if (value.state === 'error') return <ErrorBox error={value.error} what={what} />;
  return <>{children(value.data)}</>;
}
