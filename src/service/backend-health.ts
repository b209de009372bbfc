/**
 * Health of the scanner backends for `/readyz` and `GET /api/v1/backends`: every enabled backend's
 * own probe (Clair v2's health port, zypper-docker's server, the dummy's fixture; later backends
 * plug in through the same ScannerBackend.health()), plus the embedded scanner (its vulnerability
 * DB opens). Each external probe is bounded by a short timeout, and the answers are cached for a
 * few seconds and shared by concurrent callers, so `/readyz` polled under load asks each backend at
 * most once per cache period whatever the request rate.
 */
import type { BackendHealth, ScannerBackend } from '../backends/types.js';
import { EMBEDDED_BACKEND } from './embedded-backend.js';

/** One scanner as the probes show it. */
export interface ScannerStatus {
  name: string;
  kind: 'embedded' | 'external';
  /** How it reaches the image (see ScannerBackend.needs); the embedded scanner reads local bytes and the vulnerability DB. */
  needs: ScannerBackend['needs'];
  ok: boolean;
  detail: string;
  /** When the probe answered (ISO time): answers are cached for `cacheMs`. */
  checkedAt: string;
}

export interface BackendHealthOptions {
  /** The embedded scanner's probe, when it is enabled. */
  embedded?: () => BackendHealth;
  /** A probe with no answer by then counts as failed (default 2 s: well inside an orchestrator's probe timeout). */
  timeoutMs?: number;
  /** How long answers are reused (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

export class BackendHealthMonitor {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { at: number; statuses: Promise<ScannerStatus[]> } | undefined;

  constructor(
    readonly scanners: readonly ScannerBackend[],
    private readonly options: BackendHealthOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Every scanner's status, embedded first then the external backends in configuration order; never throws. */
  async statuses(): Promise<ScannerStatus[]> {
    const external = this.externalStatuses();
    return [...this.embeddedStatus(), ...(await external)];
  }

  /**
   * The embedded scanner is probed on every call: opening the local vulnerability DB is cheap, and
   * a DB that `db import` just built is usable at once, as the readiness check's own DB check says.
   */
  private embeddedStatus(): ScannerStatus[] {
    const embedded = this.options.embedded;
    if (embedded === undefined) return [];
    let health: BackendHealth;
    try {
      health = embedded();
    } catch (err) {
      health = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    return [{ name: EMBEDDED_BACKEND, kind: 'embedded', needs: 'local-bytes', ...health, checkedAt: new Date(this.now()).toISOString() }];
  }

  private externalStatuses(): Promise<ScannerStatus[]> {
    const now = this.now();
    // A probe round still running is shared too: a burst of /readyz calls starts one round, not one each.
    if (this.cached !== undefined && now - this.cached.at < this.cacheMs) return this.cached.statuses;
    const statuses = Promise.all(
      this.scanners.map((scanner) => this.probe(scanner).then((health): ScannerStatus => ({ name: scanner.name, kind: 'external', needs: scanner.needs, ...health, checkedAt: new Date(this.now()).toISOString() }))),
    );
    this.cached = { at: now, statuses };
    return statuses;
  }

  /** One backend's health within the timeout, whether or not the backend honours the abort signal. */
  private async probe(scanner: ScannerBackend): Promise<BackendHealth> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<BackendHealth>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve({ ok: false, detail: `${scanner.name}: no answer to the health probe within ${this.timeoutMs} ms` });
      }, this.timeoutMs);
    });
    try {
      const answered = scanner.health(abort.signal).catch((err: unknown): BackendHealth => ({ ok: false, detail: `${scanner.name}: health probe failed: ${err instanceof Error ? err.message : String(err)}` }));
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Whether the service can scan at all. One failing backend does not make the service unready:
 * it still serves every stored result, the other backends still scan, and that backend's scans
 * are recorded as failed (or retried) with the reason, so taking the whole service out of a load
 * balancer would hide good answers to fix nothing. Only when no enabled scanner is usable is the
 * service unable to do its work.
 */
export function anyScannerUsable(statuses: readonly Pick<ScannerStatus, 'ok'>[]): boolean {
  return statuses.some((s) => s.ok);
}
