/**
 * The vulnerability DB as a long-running process holds it: opened once, and reopened when
 * `portcullis db update|import` (or the service's own update) swaps the file atomically beside it,
 * which gives the path a new inode. Matching a job always uses the DB current when it starts.
 */
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { openVulnDb, type VulnDb } from '../vulndb/index.js';

export class VulnDbHandle {
  private db: VulnDb | undefined;
  private identity = '';

  constructor(readonly path: string) {}

  /** The DB as the file is now; E_DB when there is none. Reopens after a swap. */
  current(logger?: Pick<Logger, 'info'>): VulnDb {
    const now = fileIdentity(this.path);
    if (this.db !== undefined && now === this.identity) return this.db;
    const fresh = openVulnDb(this.path);
    logger?.info({ path: this.path, builtAt: fresh.builtAt }, this.db === undefined ? 'vulnerability DB opened' : 'vulnerability DB reopened after a swap');
    // Matching is synchronous (better-sqlite3), so no match is using the old handle now.
    this.db?.close();
    this.db = fresh;
    this.identity = now;
    return fresh;
  }

  /** True when a DB file is there to open (for /readyz). */
  available(): boolean {
    return fileIdentity(this.path) !== '';
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.identity = '';
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
