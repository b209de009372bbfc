/**
 * The vulnerability DB as a long-running process holds it: opened once, and reopened when
 * `portcullis db update|import` (or the service's own update) swaps the file atomically beside it,
 * which gives the path a new inode. Matching a job always uses the DB current when it starts.
 * The engine's advisory store port (AdvisoryDb) for a process that outlives DB updates.
 */
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { openVulnDb, type VulnDb } from '../vulndb/open.js';
import type { AdvisoryDb } from './engine.js';

/** A DB held open for one piece of work: a swap does not close it before `release`. */
export interface VulnDbLease {
  readonly db: VulnDb;
  /** Idempotent. */
  release(): void;
}

export class VulnDbHandle implements AdvisoryDb {
  private db: VulnDb | undefined;
  private identity = '';
  /** Leases per open DB; a DB swapped out while leased is closed by its last release. */
  private readonly leases = new Map<VulnDb, number>();
  private readonly retired = new Set<VulnDb>();

  constructor(readonly path: string) {}

  /**
   * The DB as the file is now; E_DB when there is none. Reopens after a swap. Matching awaits the
   * advisory store, so work that spans awaits takes a lease (`acquire`, `use`) instead: an unleased
   * DB is closed by the next swap.
   */
  current(logger?: Pick<Logger, 'info'>): VulnDb {
    const now = fileIdentity(this.path);
    if (this.db !== undefined && now === this.identity) return this.db;
    const fresh = openVulnDb(this.path);
    logger?.info({ path: this.path, builtAt: fresh.builtAt }, this.db === undefined ? 'vulnerability DB opened' : 'vulnerability DB reopened after a swap');
    if (this.db !== undefined) this.retire(this.db);
    this.db = fresh;
    this.identity = now;
    return fresh;
  }

  /** The current DB, held open until the lease is released (see current). */
  acquire(logger?: Pick<Logger, 'info'>): VulnDbLease {
    const db = this.current(logger);
    this.leases.set(db, (this.leases.get(db) ?? 0) + 1);
    let released = false;
    return {
      db,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.leases.get(db) ?? 1) - 1;
        if (left > 0) {
          this.leases.set(db, left);
          return;
        }
        this.leases.delete(db);
        if (this.retired.delete(db)) db.close();
      },
    };
  }

  /** Runs `work` with the current DB held open (see acquire). */
  async use<T>(work: (db: VulnDb) => Promise<T>, logger?: Pick<Logger, 'info'>): Promise<T> {
    const lease = this.acquire(logger);
    try {
      return await work(lease.db);
    } finally {
      lease.release();
    }
  }

  /** True when a DB file is there to open (for /readyz). */
  available(): boolean {
    return fileIdentity(this.path) !== '';
  }

  /** Closes every DB, leased or not (shutdown: the work holding leases has stopped). */
  close(): void {
    this.db?.close();
    for (const db of this.retired) db.close();
    this.retired.clear();
    this.leases.clear();
    this.db = undefined;
    this.identity = '';
  }

  private retire(db: VulnDb): void {
    if ((this.leases.get(db) ?? 0) > 0) this.retired.add(db);
    else db.close();
  }
}

function fileIdentity(path: string): string {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return '';
  }
}
