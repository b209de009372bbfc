/**
 * The UI's only way to the service: its public REST API, same origin, with the session cookie.
 * State-changing requests carry the session's CSRF token (X-CSRF-Token), which the API asks of
 * every cookie-authenticated POST/PUT/PATCH/DELETE. Types come from the service's OpenAPI document
 * (`npm run openapi` writes ./schema.d.ts from the running code), so a renamed field is a compile
 * error here.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** An answer that is not 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
/** Set by the session layer after sign-in or after reading the current session. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken !== undefined) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin', headers: { Accept: 'application/json' } });
api.use(csrf);

/** Listeners told when the API answers 401 (the session ended): the app goes to sign-in. */
const unauthorisedListeners = new Set<() => void>();
export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a 2xx answer; an ApiError with the service's `{error: {code, message}}` otherwise. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (err) {
    throw new ApiError(0, 'E_UNREACHABLE', `The Portcullis service did not answer (${err instanceof Error ? err.message : String(err)}).`);
  }
  const { data, error, response } = answer;
  if (response.ok) {
    if (data === undefined && response.status !== 204) throw new ApiError(response.status, 'E_EMPTY', 'The service sent an empty answer.');
    return data as T;
  }
  const { code, message } = errorBody(error);
  if (response.status === 401) for (const l of unauthorisedListeners) l();
  throw new ApiError(response.status, code ?? `HTTP_${response.status}`, message ?? `${response.status} ${response.statusText}`);
}

function errorBody(error: unknown): { code?: string; message?: string } {
  if (typeof error !== 'object' || error === null || !('error' in error)) return {};
  const inner = error.error;
  if (typeof inner !== 'object' || inner === null) return {};
  const code = 'code' in inner && typeof inner.code === 'string' ? inner.code : undefined;
  const message = 'message' in inner && typeof inner.message === 'string' ? inner.message : undefined;
  return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}
