import { PortcullisError } from '../../domain/errors.js';

/** Network failures worth another attempt: the peer reset or timed out, or DNS failed transiently. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Every `code` on an error, its causes and aggregated errors (undici and happy-eyeballs nest them). */
export function errorCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 5) return [];
  const out: string[] = [];
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.push(code);
  out.push(...errorCodes((err as { cause?: unknown }).cause, depth + 1));
  const nested = (err as { errors?: unknown }).errors;
  if (Array.isArray(nested)) for (const e of nested) out.push(...errorCodes(e, depth + 1));
  return out;
}

/** True for transient network failures (reset, timeout, transient DNS) that a retry may cure. */
export function isRetryableNetworkError(err: unknown): boolean {
  if (err instanceof PortcullisError) return false;
  return errorCodes(err).some((c) => RETRYABLE_CODES.has(c));
}

/** True when a TLS handshake or certificate check failed (e.g. HTTPS spoken to a plain-HTTP server). */
export function isTlsError(err: unknown): boolean {
  return errorCodes(err).some((c) => c === 'EPROTO' || c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS') || c.includes('CERT') || c.includes('SELF_SIGNED'));
}

/** True when the error is the caller's abort (not a failure to report as a registry problem). */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return typeof err === 'object' && err !== null && ((err as { name?: unknown }).name === 'AbortError' || errorCodes(err).includes('ABORT_ERR'));
}

/**
 * Maps a network-level failure to E_UNREACHABLE with a message naming the host and, for TLS
 * failures, the `--insecure` way out. PortcullisErrors pass through unchanged.
 */
export function networkError(err: unknown, host: string, insecure: boolean): PortcullisError {
  if (err instanceof PortcullisError) return err;
  const codes = errorCodes(err);
  const detail = (err as Error | undefined)?.message ?? String(err);
  const code = codes[0];
  if (isTlsError(err)) {
    const hint = insecure ? '' : '; if the registry speaks plain HTTP or uses a self-signed certificate, use --insecure';
    return new PortcullisError('E_UNREACHABLE', `registry: TLS connection to ${host} failed (${code ?? detail})${hint}`, { host, code }, { cause: err });
  }
  const why =
    codes.includes('ECONNREFUSED')
      ? 'connection refused'
      : codes.includes('ENOTFOUND')
        ? 'host not found'
        : codes.some((c) => c.includes('TIMEOUT') || c === 'ETIMEDOUT')
          ? 'timed out'
          : (code ?? detail);
  return new PortcullisError('E_UNREACHABLE', `registry: cannot reach ${host}: ${why}`, { host, code }, { cause: err });
}

/** The `errors[]` of a Distribution error body, joined; '' when the body is not one. */
export function registryErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    if (!Array.isArray(parsed.errors)) return '';
    return parsed.errors
      .map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': '))
      .filter((s) => s !== '')
      .join('; ');
  } catch {
    return '';
  }
}

/**
 * Maps a final (non-retried) HTTP error status to the catalog: 401 E_AUTH, 403 E_FORBIDDEN,
 * 404 E_NOT_FOUND, anything else E_REGISTRY. `what` names the request ("manifest ns/repo:tag").
 */
export function httpStatusError(status: number, what: string, host: string, bodyText: string): PortcullisError {
  const detail = registryErrorText(bodyText) || bodyText.trim().slice(0, 200);
  const suffix = detail ? `: ${detail}` : '';
  switch (status) {
    case 401:
      return new PortcullisError('E_AUTH', `registry: ${host} refused ${what} (401 unauthorized)${suffix}`, { host, status });
    case 403:
      return new PortcullisError('E_FORBIDDEN', `registry: ${host} forbids ${what} (403)${suffix}`, { host, status });
    case 404:
      return new PortcullisError('E_NOT_FOUND', `registry: ${what} not found on ${host}${suffix}`, { host, status });
    default:
      return new PortcullisError('E_REGISTRY', `registry: ${host} answered ${status} to ${what}${suffix}`, { host, status });
  }
}
