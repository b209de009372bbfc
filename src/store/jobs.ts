/**
 * The durable job queue of the service, in the app database (the model is Rails' Solid Queue: no
 * second system to run). Jobs are claimed with a lease that the worker renews by heartbeat; a
 * worker that dies (kill -9, lost machine) stops renewing, its lease passes, and another worker
 * claims the job again. Failures are retried with exponential backoff up to `max_attempts`, then
 * the job stays `failed` with its reason. On PostgreSQL several worker processes claim with
 * `FOR UPDATE SKIP LOCKED`; SQLite has one writer at a time, so its claim statement is atomic as is.
 *
 * Every update of a claimed job is fenced by (id, locked_by, attempts): a worker whose lease was
 * taken over cannot complete or fail the job the new owner is running.
 */
import { sql } from 'kysely';
import type { Store } from './open-store.js';
import type { Job, JobStatus } from './schema.js';

/**
 * The predicate of the `jobs_live_dedupe` partial index, written literally: SQLite matches an
 * ON CONFLICT target to a partial index only when the two predicates are the same text, not
 * bound parameters.
 */
const LIVE_JOB_PREDICATE = sql<boolean>`status IN ('ready', 'running')`;

export interface JobQueueOptions {
  /** The time source (tests move it forward to expire leases and backoffs). */
  now?: () => Date;
  /** How long a claim lasts without a heartbeat (default 60 s). */
  leaseMs?: number;
  /** Retry backoff: base * 2^(attempt-1), capped (default 5 s .. 15 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface EnqueueRequest {
  kind: string;
  payload: unknown;
  /** At most one ready-or-running job per key; enqueueing an existing key returns that job. */
  dedupeKey?: string;
  /** Attempts before the job is left `failed` (default 5). */
  maxAttempts?: number;
  /** Not before this time (default now). */
  runAt?: Date;
}

/** A job a worker holds: its payload decoded, and the fencing facts every later update checks. */
export interface ClaimedJob {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly workerId: string;
}

export type FailOutcome = 'retry' | 'failed' | 'lost';

export class JobQueue {
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly store: Store,
    options: JobQueueOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? 60_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 5_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 15 * 60_000;
  }

  /** Adds a job, or returns the live job that already has its dedupe key (`created: false`). */
  async enqueue(request: EnqueueRequest): Promise<{ id: number; created: boolean }> {
    const now = this.now().toISOString();
    const inserted = await this.store.db
      .insertInto('jobs')
      .values({
        kind: request.kind,
        payload: JSON.stringify(request.payload ?? null),
        dedupe_key: request.dedupeKey ?? null,
        status: 'ready',
        max_attempts: request.maxAttempts ?? 5,
        run_at: (request.runAt ?? this.now()).toISOString(),
        created_at: now,
        updated_at: now,
        lease_until: null,
        locked_by: null,
        last_error: null,
        finished_at: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').where(LIVE_JOB_PREDICATE).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted !== undefined) return { id: inserted.id, created: true };
    const live = await this.store.db
      .selectFrom('jobs')
      .select('id')
      .where('dedupe_key', '=', request.dedupeKey ?? '')
      .where('status', 'in', ['ready', 'running'])
      .executeTakeFirst();
    // The live job finished between the insert and this read: try once more, it will insert.
    if (live === undefined) return this.enqueue(request);
    return { id: live.id, created: false };
  }

  /**
   * Claims up to `limit` due jobs (oldest first) for `workerId`: ready jobs whose time has come,
   * and running jobs whose lease has passed (their worker is gone). Jobs whose lease passed on
   * their last attempt are marked failed first. Returns [] when nothing is due. `keyPrefix` keeps
   * to jobs whose dedupe key starts with it (`scan:clair:`: one backend's scans).
   */
  async claim(workerId: string, options: { limit?: number; kinds?: readonly string[]; keyPrefix?: string } = {}): Promise<ClaimedJob[]> {
    await this.failExhaustedLeases();
    const now = this.now().toISOString();
    const leaseUntil = new Date(this.now().getTime() + this.leaseMs).toISOString();
    const kinds = options.kinds;
    let due = this.store.db
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'ready'), eb('run_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now), eb('attempts', '<', eb.ref('max_attempts'))]),
        ]),
      )
      .orderBy('run_at')
      .orderBy('id')
      .limit(options.limit ?? 1);
    if (kinds !== undefined && kinds.length > 0) due = due.where('kind', 'in', kinds);
    if (options.keyPrefix !== undefined) {
      const pattern = `${options.keyPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      due = due.where(sql<boolean>`dedupe_key like ${pattern} escape '\\'`);
    }
    if (this.store.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const rows = await this.store.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running' as const,
        locked_by: workerId,
        lease_until: leaseUntil,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', due)
      .returningAll()
      .execute();
    return rows
      .sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : a.id - b.id))
      .map((r) => ({ id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, attempts: r.attempts, maxAttempts: r.max_attempts, workerId }));
  }

  /** Renews the lease; false when the job is no longer this worker's (it should stop working on it). */
  async heartbeat(job: ClaimedJob): Promise<boolean> {
    const leaseUntil = new Date(this.now().getTime() + this.leaseMs).toISOString();
    const result = await this.fenced(job).set({ lease_until: leaseUntil, updated_at: this.now().toISOString() }).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Marks the job done; false when it was no longer this worker's. */
  async complete(job: ClaimedJob): Promise<boolean> {
    const now = this.now().toISOString();
    const result = await this.fenced(job).set({ status: 'done', lease_until: null, finished_at: now, updated_at: now, last_error: null }).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records a failed attempt: `retry` (ready again after the backoff) while attempts remain and the
   * error is retryable, else `failed` with the reason kept; `lost` when the job was no longer this worker's.
   */
  async fail(job: ClaimedJob, reason: string, options: { retryable?: boolean } = {}): Promise<FailOutcome> {
    const now = this.now();
    const retry = (options.retryable ?? true) && job.attempts < job.maxAttempts;
    const update = retry
      ? { status: 'ready' as const, run_at: new Date(now.getTime() + this.backoffMs(job.attempts)).toISOString(), lease_until: null, locked_by: null, last_error: reason, updated_at: now.toISOString() }
      : { status: 'failed' as const, lease_until: null, last_error: reason, finished_at: now.toISOString(), updated_at: now.toISOString() };
    const result = await this.fenced(job).set(update).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return 'lost';
    return retry ? 'retry' : 'failed';
  }

  /**
   * Puts a job whose work is not finished elsewhere (a backend answering "still working") back in
   * the queue after the backoff of its current attempt, without using up that attempt: the claim
   * that led here is given back. `payload` replaces the stored one (the caller keeps how long the job
   * has been waiting there; bounding that wait is its call). `lost` when the job was no longer this worker's.
   */
  async postpone(job: ClaimedJob, reason: string, options: { payload?: unknown } = {}): Promise<'postponed' | 'lost'> {
    const now = this.now();
    const result = await this.fenced(job)
      .set((eb) => ({
        status: 'ready' as const,
        attempts: eb('attempts', '-', 1),
        run_at: new Date(now.getTime() + this.backoffMs(job.attempts)).toISOString(),
        lease_until: null,
        locked_by: null,
        last_error: reason,
        updated_at: now.toISOString(),
        ...(options.payload !== undefined ? { payload: JSON.stringify(options.payload) } : {}),
      }))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? 'postponed' : 'lost';
  }

  /** The wait before attempt `attempts + 1`. */
  backoffMs(attempts: number): number {
    return Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  }

  /** Running jobs whose lease passed on their last allowed attempt become failed; returns how many. */
  async failExhaustedLeases(): Promise<number> {
    const now = this.now().toISOString();
    const result = await this.store.db
      .updateTable('jobs')
      .set({ status: 'failed', last_error: sql<string>`coalesce(last_error || '; ', '') || 'worker lost: lease expired on the last attempt'`, lease_until: null, finished_at: now, updated_at: now })
      .where('status', '=', 'running')
      .where('lease_until', '<', now)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** One job as stored, or undefined. */
  async get(id: number): Promise<Job | undefined> {
    return this.store.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** How many jobs are in each state (queue depth for /metrics and the API). */
  async counts(): Promise<Record<JobStatus, number>> {
    const rows = await this.store.db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const out: Record<JobStatus, number> = { ready: 0, running: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  private fenced(job: ClaimedJob) {
    return this.store.db
      .updateTable('jobs')
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      .where('locked_by', '=', job.workerId)
      .where('attempts', '=', job.attempts);
  }
}
