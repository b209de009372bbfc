/**
 * One HTTP exchange with a scanner backend's server, with the failures every backend must report
 * the same way: no connection, no (complete) answer within the timeout, an oversized body. The
 * caller judges the status and the body; this never returns a half-read answer.
 */
import { PortcullisError } from '../domain/errors.js';

/** A backend's answer, whole. */
export interface BackendAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface BackendRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Deadline for the whole exchange, body included (a server that stalls mid-body is caught too). */
  timeoutMs: number;
  /** The job's signal: when it aborts, its reason is thrown as is (the worker decides what it means). */
  signal?: AbortSignal;
  /** Names the backend in messages (`clair`). */
  backend: string;
  /** Largest body read (default 64 MiB); a larger one is E_TOO_LARGE rather than memory spent. */
  maxBytes?: number;
}

/**
 * Sends one request. Throws E_UNREACHABLE when the server cannot be reached or does not answer in
 * time, E_TOO_LARGE for a body over `maxBytes`, and the job signal's reason when the job is aborted.
 */
export async function backendFetch(url: string, request: BackendRequest): Promise<BackendAnswer> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
  const what = `${request.method ?? 'GET'} ${url}`;
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  // A protocol with its own JSON media type (Harbor's adapters) names it in `headers`.
  if (request.json !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(url, {
      method: request.method ?? 'GET',
      headers,
      signal,
      redirect: 'manual',
      ...(request.json !== undefined ? { body: JSON.stringify(request.json) } : {}),
    });
    const text = await readCapped(res, request.maxBytes ?? 64 * 1024 * 1024, request.backend, what);
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (err instanceof PortcullisError) throw err;
    if (deadline.aborted) {
      throw new PortcullisError('E_UNREACHABLE', `${request.backend}: ${what}: no complete answer within ${seconds(request.timeoutMs)}`, { backend: request.backend, url, timeoutMs: request.timeoutMs });
    }
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new PortcullisError('E_UNREACHABLE', `${request.backend}: ${what}: cannot reach the server (${cause})`, { backend: request.backend, url }, { cause: err });
  }
}

/** The `{"Error": {"Message": ...}}` (Clair) or `{"Error": "..."}` message of an error body, else the body's start. */
export function errorMessageOf(text: string): string {
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && 'Error' in doc) {
      const error = (doc as { Error: unknown }).Error;
      if (typeof error === 'string') return error;
      if (typeof error === 'object' && error !== null && 'Message' in error && typeof (error as { Message: unknown }).Message === 'string') return (error as { Message: string }).Message;
    }
  } catch {
    // not JSON: the text itself says what went wrong
  }
  const trimmed = text.trim();
  return trimmed === '' ? '(empty body)' : trimmed.length > 300 ? `${trimmed.slice(0, 300)}...` : trimmed;
}

/** Parses a JSON body; E_INTERNAL naming the backend and the request when it is not JSON. */
export function parseJsonBody(answer: BackendAnswer, backend: string, what: string): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new PortcullisError('E_INTERNAL', `${backend}: ${what} answered ${answer.status} with a body that is not JSON: ${errorMessageOf(answer.text)}`, { backend, status: answer.status });
  }
}

async function readCapped(res: Response, maxBytes: number, backend: string, what: string): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new PortcullisError('E_TOO_LARGE', `${backend}: ${what}: answer larger than ${maxBytes} bytes`, { backend, maxBytes });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
