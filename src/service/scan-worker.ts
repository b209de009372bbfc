/**
 * The scan worker: claims scan jobs from the durable queue, runs each with its backend, stores the
 * result per (manifest digest, backend), and keeps its lease alive by heartbeat while it works. A
 * job whose lease is lost (the worker was too slow or was declared dead) is aborted and left to
 * the new owner. Failures follow the queue's retry policy; a scan that did not happen is stored
 * as `failed` with its reason, never as a clean result.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PortcullisError, toPortcullisError, type ErrorCode } from '../domain/errors.js';
import type { CatalogStore } from '../store/catalog.js';
import type { ClaimedJob, JobQueue } from '../store/jobs.js';
import { historyCounts } from './aggregate.js';
import { SCAN_JOB, scanJobKeyPrefix, type ScanJobPayload } from './event-processor.js';

/** What a backend produced for one manifest. */
export interface BackendScanResult {
  /** Stored as the scan's report (JSON). */
  report: unknown;
  /** Findings per severity (`{ High: 2, Low: 5 }`); {} for a clean image. */
  counts: Record<string, number>;
  /** built_at of the vulnerability DB matched against (backends that use the local DB). */
  matchedDb?: string;
}

/** Runs one backend's scan of one image manifest; throws a PortcullisError on failure. `run.jobId` is the queue's id of the job (for logs). */
export type BackendRunner = (job: ScanJobPayload, signal: AbortSignal, run?: { jobId: number }) => Promise<BackendScanResult>;

export interface ScanWorkerOptions {
  queue: JobQueue;
  catalog: CatalogStore;
  /** The job kind this worker claims (default SCAN_JOB; Harbor's scan requests have their own). */
  kind?: string;
  /** One runner per enabled backend, by name. */
  runners: ReadonlyMap<string, BackendRunner>;
  /**
   * Scans run at once per backend in this process (default 2). Per backend, so the backends of one
   * manifest (one job each) run side by side rather than queue behind each other: an external
   * backend spends its time waiting on its server, and a slow one must not hold the others back.
   */
  concurrency?: number;
  /** Heartbeat period (default 1/3 of the queue's lease, 20 s). */
  heartbeatMs?: number;
  /** Idle poll period when nothing wakes the worker (default 2 s). */
  pollMs?: number;
  workerId?: string;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /**
   * How long a backend may answer "still working" (E_PENDING) for one job before the scan fails
   * with that reason (default {@link DEFAULT_MAX_PENDING_MS}); those answers never use up attempts.
   */
  maxPendingMs?: (backend: string) => number;
  /** The time source for the pending bound (tests move it; default the clock). */
  now?: () => Date;
  /** Told of every scan that ended in this worker (for metrics). */
  onScanDone?: (info: { backend: string; outcome: 'scanned' | 'retry' | 'failed' | 'unsupported' | 'lost'; seconds: number }) => void;
}

/** How long a backend may keep saying "still working" about one image by default: half an hour. */
export const DEFAULT_MAX_PENDING_MS = 30 * 60_000;

/** Errors that a retry cannot fix: the image is not scannable as it is. */
const UNSUPPORTED: ReadonlySet<ErrorCode> = new Set(['E_UNSUPPORTED', 'E_MEDIA_TYPE', 'E_PLATFORM']);
const PERMANENT: ReadonlySet<ErrorCode> = new Set(['E_MANIFEST', 'E_NOT_FOUND', 'E_UNSAFE_PATH', 'E_SYMLINK', 'E_TOO_LARGE', 'E_LAYER_CORRUPT', 'E_DIGEST_MISMATCH', 'E_CONFIG', 'E_INPUT', 'E_USAGE', 'E_REFERENCE']);

export class ScanWorker {
  readonly workerId: string;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly inFlight = new Map<number, { backend: string; abort: AbortController; done: Promise<void> }>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: ScanWorkerOptions) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.heartbeatMs = options.heartbeatMs ?? 20_000;
    this.pollMs = options.pollMs ?? 2_000;
  }

  /** Starts claiming jobs in the background until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Wakes an idle worker at once (new jobs were queued). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming, aborts the jobs in flight (their leases lapse and another worker takes them), and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    for (const job of this.inFlight.values()) job.abort.abort(new PortcullisError('E_INTERNAL', 'worker stopping'));
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()].map((j) => j.done));
  }

  /** Runs due jobs until none is left (tests and one-shot use), each backend's side by side; returns how many ran. */
  async drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      const jobs = await this.claimFree(() => 0, 0);
      if (jobs.length === 0) return ran;
      await Promise.all(jobs.map((j) => this.run(j, new AbortController())));
      ran += jobs.length;
    }
  }

  /**
   * Claims, for each backend this worker runs, as many of its due scans as it has free slots
   * (`busy` says how many of that backend's run now). Scans of a backend this worker does not run
   * are left for a worker that does. Only the registry's scan jobs are keyed per backend
   * (scanJobKeyPrefix); a worker of another kind (Harbor's scan requests) claims from one pool of
   * `concurrency` slots (`running` in flight), as before.
   */
  private async claimFree(busy: (backend: string) => number, running: number): Promise<ClaimedJob[]> {
    const kind = this.options.kind ?? SCAN_JOB;
    if (kind !== SCAN_JOB) {
      const free = this.concurrency - running;
      return free > 0 ? this.options.queue.claim(this.workerId, { kinds: [kind], limit: free }) : [];
    }
    const claimed: ClaimedJob[] = [];
    for (const backend of this.options.runners.keys()) {
      const free = this.concurrency - busy(backend);
      if (free > 0) claimed.push(...(await this.options.queue.claim(this.workerId, { kinds: [SCAN_JOB], limit: free, keyPrefix: scanJobKeyPrefix(backend) })));
    }
    return claimed;
  }

  private busy(backend: string): number {
    let n = 0;
    for (const job of this.inFlight.values()) if (job.backend === backend) n++;
    return n;
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      let claimed: ClaimedJob[] = [];
      try {
        claimed = await this.claimFree((backend) => this.busy(backend), this.inFlight.size);
      } catch (err) {
        this.options.log?.warn({ err: toPortcullisError(err).message }, 'worker: claiming jobs failed; retrying');
      }
      for (const job of claimed) {
        const abort = new AbortController();
        const done = this.run(job, abort).finally(() => {
          this.inFlight.delete(job.id);
          this.wake();
        });
        this.inFlight.set(job.id, { backend: (job.payload as ScanJobPayload).backend, abort, done });
      }
      // Nothing new: wait for a wake-up (a job ended, new jobs were queued) or the poll period.
      if (claimed.length === 0) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /** Runs one claimed job to its end; never throws. */
  private async run(job: ClaimedJob, abort: AbortController): Promise<void> {
    const { queue, catalog } = this.options;
    const payload = job.payload as ScanJobPayload;
    const now = this.options.now ?? (() => new Date());
    const runner = this.options.runners.get(payload.backend);
    if (runner === undefined) {
      await catalog.failScan(payload.digest, payload.backend, 'failed', `backend ${payload.backend} is not enabled in this worker`);
      await queue.fail(job, `backend ${payload.backend} is not enabled`, { retryable: false });
      return;
    }
    const heartbeat = setInterval(() => {
      queue.heartbeat(job).then(
        (ours) => {
          if (!ours) abort.abort(new PortcullisError('E_INTERNAL', 'lease lost: another worker took the job over'));
        },
        () => undefined,
      );
    }, this.heartbeatMs);
    const started = performance.now();
    const done = (outcome: 'scanned' | 'retry' | 'failed' | 'unsupported' | 'lost'): void => this.options.onScanDone?.({ backend: payload.backend, outcome, seconds: (performance.now() - started) / 1000 });
    try {
      await catalog.startScan(payload.digest, payload.backend);
      const result = await runner(payload, abort.signal, { jobId: job.id });
      abort.signal.throwIfAborted();
      await catalog.finishScan(payload.digest, payload.backend, result.report, result.counts, result.matchedDb);
      const tags = await catalog.tagsOfDigest(payload.digest);
      const counts = tags.length > 0 ? await historyCounts(catalog, payload.digest, result.counts) : result.counts;
      for (const tag of tags) await catalog.recordHistory(tag.repository, tag.name, payload.digest, counts);
      await queue.complete(job);
      done('scanned');
      this.options.log?.info({ digest: payload.digest, backend: payload.backend, attempts: job.attempts }, 'worker: scan stored');
    } catch (err) {
      if (abort.signal.aborted) return; // the lease moved on, or the worker stops: the queue hands the job out again
      const error = toPortcullisError(err);
      const reason = `${error.message} [${error.code}]`;
      if (error.code === 'E_PENDING') {
        done(await this.stillWorking(job, payload, reason, now()));
        return;
      }
      const unsupported = UNSUPPORTED.has(error.code);
      const outcome = await queue.fail(job, reason, { retryable: !unsupported && !PERMANENT.has(error.code) }).catch(() => 'lost' as const);
      if (outcome === 'retry') {
        await catalog.queueScan(payload.digest, payload.backend, `attempt ${job.attempts} of ${job.maxAttempts} failed, retrying: ${reason}`);
      } else if (outcome === 'failed') await catalog.failScan(payload.digest, payload.backend, unsupported ? 'unsupported' : 'failed', reason);
      done(outcome === 'failed' && unsupported ? 'unsupported' : outcome);
      this.options.log?.warn({ digest: payload.digest, backend: payload.backend, outcome, code: error.code }, 'worker: scan failed');
    } finally {
      clearInterval(heartbeat);
    }
  }
  /**
   * A backend still at work (zypper-docker's 202) has not failed: the job goes back to the queue
   * after the backoff without using up an attempt, and the scan stays queued, until the backend has
   * been saying so for longer than its limit; then the scan fails with that reason.
   */
  private async stillWorking(job: ClaimedJob, payload: ScanJobPayload, reason: string, now: Date): Promise<'retry' | 'failed' | 'lost'> {
    const { queue, catalog } = this.options;
    const since = payload.pendingSince ?? now.toISOString();
    const waitedMs = now.getTime() - Date.parse(since);
    const limitMs = this.options.maxPendingMs?.(payload.backend) ?? DEFAULT_MAX_PENDING_MS;
    if (waitedMs > limitMs) {
      const gaveUp = `${payload.backend} was still working after ${Math.round(waitedMs / 1000)} s (limit ${Math.round(limitMs / 1000)} s): ${reason}`;
      const failed = await queue.fail(job, gaveUp, { retryable: false }).catch(() => 'lost' as const);
      if (failed !== 'failed') return 'lost';
      await catalog.failScan(payload.digest, payload.backend, 'failed', gaveUp);
      this.options.log?.warn({ digest: payload.digest, backend: payload.backend }, 'worker: backend still working past its limit; scan failed');
      return 'failed';
    }
    const outcome = await queue.postpone(job, reason, { payload: { ...payload, pendingSince: since } satisfies ScanJobPayload }).catch(() => 'lost' as const);
    if (outcome !== 'postponed') return 'lost';
    await catalog.queueScan(payload.digest, payload.backend, `still working since ${since}, asking again later: ${reason}`);
    return 'retry';
  }
}
