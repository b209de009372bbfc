/**
 * The app database of the registry service, one schema over SQLite and PostgreSQL (Kysely types).
 *
 * Portable choices, so one set of queries serves both: timestamps are ISO-8601 UTC text
 * (`2026-12-07T02:30:00.000Z`, which sorts and compares as time), JSON documents are text, ids of
 * queue rows are 32-bit serials (PostgreSQL's `bigint` would come back as a string).
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Registry notifications as received, before they are processed (at-least-once; deduplicated by id). */
export interface RegistryEventTable {
  event_id: string;
  received_at: string;
  action: string;
  repository: string | null;
  digest: string | null;
  tag: string | null;
  media_type: string | null;
  /** The event object as the registry sent it (JSON). */
  payload: string;
  status: RegistryEventStatus;
  note: string | null;
  processed_at: string | null;
  /** The registry's event time, normalized to nanoseconds (`2026-11-23T15:44:40.244914441Z`); null when it sent none. */
  occurred_at: string | null;
}

/** fresh: waiting for the processor; skipped: stored but not acted on (see note); done / failed: processed. */
export type RegistryEventStatus = 'fresh' | 'done' | 'skipped' | 'failed';

export interface RepositoryTable {
  /** `namespace/name` as in the registry (`library/x` stays as the registry names it). */
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ManifestTable {
  digest: string;
  media_type: string;
  /** `index` for manifest lists and OCI indexes (their platforms are in manifest_children). */
  kind: 'image' | 'index';
  /** Compressed size: config + layers for an image, the manifest itself for an index. */
  size: number;
  config_digest: string | null;
  /** `os/arch[/variant]` of an image manifest, when its config says. */
  platform: string | null;
  created_at: string;
}

export interface ManifestChildTable {
  parent_digest: string;
  child_digest: string;
  platform: string;
}

export interface TagTable {
  repository: string;
  name: string;
  digest: string;
  pushed_at: string;
  updated_at: string;
}

/** One backend's result for one manifest. Findings are never inferred from a scan that did not happen. */
export interface ScanTable {
  manifest_digest: string;
  backend: string;
  status: 'queued' | 'scanning' | 'scanned' | 'failed' | 'unsupported';
  /** Why a scan failed or is unsupported, for people. */
  reason: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The backend's findings (JSON), when scanned. */
  report: string | null;
  /** Per-severity counts (JSON), when scanned. */
  counts: string | null;
  /** built_at of the vulnerability DB the report was matched against (embedded backend). */
  matched_db: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The stored package inventory of an image manifest: re-matched when feeds change, without pulling the image. */
export interface InventoryTable {
  manifest_digest: string;
  schema_version: number;
  /** The Inventory (JSON). */
  inventory: string;
  created_at: string;
}

/** (ecosystem, package name) -> manifests holding it: which inventories an advisory change can touch. */
export interface PackageIndexTable {
  ecosystem: string;
  name: string;
  manifest_digest: string;
}

/** Findings per severity of a tag over time, for trend charts. */
export interface ScanHistoryTable {
  id: Generated<number>;
  repository: string;
  tag: string;
  manifest_digest: string;
  at: string;
  counts: string;
}

export type JobStatus = 'ready' | 'running' | 'done' | 'failed';

/** The durable job queue (model: Rails' Solid Queue): leases, heartbeats, bounded retries, a visible failed state. */
export interface JobTable {
  id: Generated<number>;
  kind: string;
  /** The job's input (JSON). */
  payload: string;
  /** At most one ready-or-running job per key (e.g. one scan per manifest digest however many tags point at it). */
  dedupe_key: string | null;
  status: JobStatus;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  /** Not before this time (retries wait out their backoff). */
  run_at: string;
  /** A running job whose lease has passed belongs to a dead worker and is claimed again. */
  lease_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** API bearer tokens: only the hash is stored; the token is shown once, at creation. */
export interface TokenTable {
  id: string;
  name: string;
  scope: 'read' | 'scan' | 'admin';
  /** SHA-256 of the token (hex): tokens are long random strings, so a fast hash is enough. */
  hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Outgoing webhook deliveries (signed bodies, retried with backoff, kept as a delivery log). */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  url: string;
  event: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** A scan request Harbor sent to the adapter API (the pull authorization is never stored). */
export interface HarborScanRequestTable {
  /** The scan request id Harbor polls the report with (a UUID). */
  id: string;
  /** The registry Harbor asked to pull from (base URL). */
  registry_url: string;
  repository: string;
  manifest_digest: string;
  tag: string | null;
  /** The artifact's manifest media type as Harbor sent it. */
  mime_type: string;
  created_at: string;
}

/** A local user of the web UI (sign-in with name and password). */
export interface UserTable {
  id: string;
  name: string;
  /** `scrypt$N$r$p$<salt b64>$<hash b64>`: the parameters travel with the hash so they can be raised later. */
  password_hash: string;
  role: 'admin' | 'viewer';
  /** 1 = may not sign in (kept for the record), 0 = active. */
  disabled: ColumnType<number, number | undefined, number>;
  created_at: string;
}

/** A sign-in session: only the SHA-256 of the cookie value is stored. */
export interface SessionTable {
  /** SHA-256 (hex) of the session id the cookie carries. */
  id_hash: string;
  user_id: string;
  /** The synchronizer CSRF token state-changing requests of this session must send. */
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
}

/** What a scanner backend keeps per manifest between scans (Clair v4: the indexer state it was indexed at, sent as If-None-Match). */
export interface BackendIndexStateTable {
  manifest_digest: string;
  backend: string;
  state: string;
  updated_at: string;
}

/** The whole app database. */
export interface AppDatabase {
  registry_events: RegistryEventTable;
  repositories: RepositoryTable;
  manifests: ManifestTable;
  manifest_children: ManifestChildTable;
  tags: TagTable;
  scans: ScanTable;
  inventories: InventoryTable;
  package_index: PackageIndexTable;
  scan_history: ScanHistoryTable;
  jobs: JobTable;
  tokens: TokenTable;
  webhook_deliveries: WebhookDeliveryTable;
  backend_index_state: BackendIndexStateTable;
  harbor_scan_requests: HarborScanRequestTable;
  users: UserTable;
  sessions: SessionTable;
}

export type Job = Selectable<JobTable>;
export type RegistryEvent = Selectable<RegistryEventTable>;
export type Token = Selectable<TokenTable>;
export type NewJob = Insertable<JobTable>;
