/**
 * Failures of the services the service itself calls (the registry it watches, a scanner backend).
 * Their 401/403 mean the service's own credentials were refused, not the API caller's: the
 * service marks such failures here and the one error table (src/server/errors.ts) answers them
 * as 502. Marking keeps the engine's typed error (code, message, the upstream status in
 * details); only the HTTP answer changes.
 */
import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';

/** Who failed and what the caller asked about. */
export interface Upstream {
  /** `registry`, or a backend's name (`clair`, `trivy`...). */
  service: string;
  /** What the caller named (`host/repo:tag`), for the answer's message. */
  subject: string;
  /**
   * True when the upstream's "not found" answers the caller's own question (the manifest they
   * named does not exist: 404 to them too); false when a 404 means the upstream lost something
   * the service relies on (502).
   */
  notFoundIsCallers: boolean;
}

const UpstreamSchema = z.object({ service: z.string(), subject: z.string(), notFoundIsCallers: z.boolean() });

/** `err` marked as a failure of `upstream`; anything that is not a PortcullisError (an app database failure) is returned as is. */
export function upstreamFailure(err: unknown, upstream: Upstream): unknown {
  if (!(err instanceof PortcullisError) || upstreamOf(err) !== undefined) return err;
  return new PortcullisError(err.code, err.message, { ...err.details, upstream }, { cause: err });
}

/** The upstream a failure was marked with, if any. */
export function upstreamOf(err: PortcullisError): Upstream | undefined {
  const parsed = UpstreamSchema.safeParse(err.details['upstream']);
  return parsed.success ? parsed.data : undefined;
}

/** The HTTP status the upstream answered with, when the failure carries one (the registry client's `details.status`). */
export function upstreamStatus(err: PortcullisError): number | undefined {
  const parsed = z.number().int().min(100).max(599).safeParse(err.details['status']);
  return parsed.success ? parsed.data : undefined;
}
