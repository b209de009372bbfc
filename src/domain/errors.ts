/**
 * The typed error catalog. Every failure the product reports on purpose is a PortcullisError with a
 * stable code; the CLI maps it to an exit code and the server (src/server/errors.ts) to an HTTP status, so callers
 * never parse messages.
 */
export const ERROR_CATALOG = {
  E_USAGE: { exitCode: 2, httpStatus: 400 },
  E_REFERENCE: { exitCode: 2, httpStatus: 400 },
  E_CONFIG: { exitCode: 2, httpStatus: 400 },
  E_UNREACHABLE: { exitCode: 2, httpStatus: 502 },
  E_AUTH: { exitCode: 2, httpStatus: 401 },
  E_FORBIDDEN: { exitCode: 2, httpStatus: 403 },
  E_NOT_FOUND: { exitCode: 2, httpStatus: 404 },
  E_REGISTRY: { exitCode: 2, httpStatus: 502 },
  /** A service the service calls (a scanner backend) refused or failed it: a fault upstream, not the caller's. */
  E_UPSTREAM: { exitCode: 2, httpStatus: 502 },
  E_UNSUPPORTED: { exitCode: 2, httpStatus: 422 },
  E_MEDIA_TYPE: { exitCode: 2, httpStatus: 422 },
  E_MANIFEST: { exitCode: 2, httpStatus: 422 },
  E_PLATFORM: { exitCode: 2, httpStatus: 422 },
  E_DIGEST_MISMATCH: { exitCode: 2, httpStatus: 422 },
  E_LAYER_CORRUPT: { exitCode: 2, httpStatus: 422 },
  E_UNSAFE_PATH: { exitCode: 2, httpStatus: 422 },
  E_SYMLINK: { exitCode: 2, httpStatus: 422 },
  E_TOO_LARGE: { exitCode: 2, httpStatus: 422 },
  E_INPUT: { exitCode: 2, httpStatus: 400 },
  E_PAYLOAD_TOO_LARGE: { exitCode: 2, httpStatus: 413 },
  E_CONTENT_TYPE: { exitCode: 2, httpStatus: 415 },
  /** Too many attempts (failed sign-ins); the answer says when to try again (Retry-After). */
  E_RATE_LIMITED: { exitCode: 2, httpStatus: 429 },
  E_DB: { exitCode: 2, httpStatus: 503 },
  E_FEED: { exitCode: 2, httpStatus: 502 },
  E_INTERNAL: { exitCode: 2, httpStatus: 500 },
  /** A scanner backend is still working on the image (zypper-docker's 202): not a failure, asked again later. */
  E_PENDING: { exitCode: 2, httpStatus: 503 },
  /** Work stopped by its caller (Ctrl-C, a lost job lease, shutdown): 128 + SIGINT, as shells report an interrupted command. */
  E_CANCELLED: { exitCode: 130, httpStatus: 503 },
} as const satisfies Record<string, { exitCode: number; httpStatus: number }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** A deliberate, typed failure. `message` is for people; `code` is for programs. */
export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortcullisError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return ERROR_CATALOG[this.code].exitCode;
  }

  get httpStatus(): number {
    return ERROR_CATALOG[this.code].httpStatus;
  }
}

/** True when `err` is a PortcullisError, optionally of one code. */
export function isPortcullisError(err: unknown, code?: ErrorCode): err is PortcullisError {
  return err instanceof PortcullisError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a PortcullisError, keeping typed errors as they are. */
export function toPortcullisError(err: unknown, fallback: ErrorCode = 'E_INTERNAL'): PortcullisError {
  if (err instanceof PortcullisError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // An AbortSignal's own errors (fetch, streams, timers): the work was stopped, not broken.
  if (err instanceof Error && err.name === 'AbortError') return new PortcullisError('E_CANCELLED', message, {}, { cause: err });
  return new PortcullisError(fallback, message, {}, { cause: err });
}
