/**
 * Schema migrations of the app database, run by Kysely's migrator at start (in order, each once,
 * recorded in `kysely_migration`). Append new migrations; never edit one that has shipped.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type StoreDialect = 'sqlite' | 'postgres';

/** The migrations for one dialect; only the auto-increment id differs between the two. */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}

function migrations(dialect: StoreDialect): Record<string, Migration> {
  // A serial id: SQLite's INTEGER PRIMARY KEY AUTOINCREMENT, PostgreSQL's serial.
  const serialId = <T extends string>(table: ReturnType<Kysely<unknown>['schema']['createTable']>, name: T) =>
    dialect === 'postgres' ? table.addColumn(name, 'serial', (c) => c.primaryKey()) : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());

  return {
    '0001_service': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('registry_events')
          .addColumn('event_id', 'text', (c) => c.primaryKey())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('repository', 'text')
          .addColumn('digest', 'text')
          .addColumn('tag', 'text')
          .addColumn('media_type', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('processed_at', 'text')
          .execute();
        await db.schema.createIndex('registry_events_status').on('registry_events').columns(['status', 'received_at']).execute();

        await db.schema
          .createTable('repositories')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('manifests')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('media_type', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('config_digest', 'text')
          .addColumn('platform', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('manifest_children')
          .addColumn('parent_digest', 'text', (c) => c.notNull())
          .addColumn('child_digest', 'text', (c) => c.notNull())
          .addColumn('platform', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('manifest_children_pk', ['parent_digest', 'child_digest'])
          .execute();

        await db.schema
          .createTable('tags')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('pushed_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('tags_pk', ['repository', 'name'])
          .execute();
        await db.schema.createIndex('tags_digest').on('tags').column('digest').execute();

        await db.schema
          .createTable('scans')
          .addColumn('manifest_digest', 'text', (c) => c.notNull())
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('queued_at', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text')
          .addColumn('finished_at', 'text')
          .addColumn('report', 'text')
          .addColumn('counts', 'text')
          .addPrimaryKeyConstraint('scans_pk', ['manifest_digest', 'backend'])
          .execute();

        await db.schema
          .createTable('inventories')
          .addColumn('manifest_digest', 'text', (c) => c.primaryKey())
          .addColumn('schema_version', 'integer', (c) => c.notNull())
          .addColumn('inventory', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('package_index')
          .addColumn('ecosystem', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('manifest_digest', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('package_index_pk', ['ecosystem', 'name', 'manifest_digest'])
          .execute();
        await db.schema.createIndex('package_index_manifest').on('package_index').column('manifest_digest').execute();

        await serialId(db.schema.createTable('scan_history'), 'id')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('tag', 'text', (c) => c.notNull())
          .addColumn('manifest_digest', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('counts', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('scan_history_repository').on('scan_history').columns(['repository', 'at']).execute();

        await serialId(db.schema.createTable('jobs'), 'id')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('dedupe_key', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('run_at', 'text', (c) => c.notNull())
          .addColumn('lease_until', 'text')
          .addColumn('locked_by', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .execute();
        // The claim query's two paths: ready jobs due by run_at, running jobs whose lease has passed.
        await db.schema.createIndex('jobs_ready').on('jobs').columns(['status', 'run_at']).execute();
        await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_until']).execute();
        // One live job per dedupe key: a second push of the same digest joins the queued scan.
        await sql`CREATE UNIQUE INDEX jobs_live_dedupe ON jobs (dedupe_key) WHERE status IN ('ready', 'running')`.execute(db);

        await db.schema
          .createTable('tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();

        await serialId(db.schema.createTable('webhook_deliveries'), 'id')
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          .addColumn('last_status', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('delivered_at', 'text')
          .execute();
        await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
      },
    },
    '0002_scan_matched_db': {
      // Which vulnerability DB (its built_at) a stored result was matched against: re-matching
      // after a DB change skips results the change cannot touch, and redoes the rest.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('scans').addColumn('matched_db', 'text').execute();
      },
    },
    '0003_registry_event_order': {
      // The registry's own event time (fixed-width text, nanoseconds): events of one envelope share
      // received_at, and a delete must be processed after the push it follows.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('registry_events').addColumn('occurred_at', 'text').execute();
        await db.schema.dropIndex('registry_events_status').execute();
        await db.schema.createIndex('registry_events_status').on('registry_events').columns(['status', 'received_at', 'occurred_at']).execute();
      },
    },
    '0004_backend_index_state': {
      // The indexer state Clair v4 last indexed a manifest at, shared by every worker and kept
      // across restarts, so an unchanged manifest is not sent to be indexed again (If-None-Match).
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('backend_index_state')
          .addColumn('manifest_digest', 'text', (c) => c.notNull())
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('backend_index_state_pk', ['manifest_digest', 'backend'])
          .execute();
      },
    },
    '0005_harbor_scan_requests': {
      // Scan requests Harbor sent to the adapter API: the id Harbor polls with, and what it asked
      // for. The result itself is the manifest's embedded scan (scans table), shared by every
      // request for the same digest; the pull authorization is never stored (see harbor-scanner.ts).
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('harbor_scan_requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('registry_url', 'text', (c) => c.notNull())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('manifest_digest', 'text', (c) => c.notNull())
          .addColumn('tag', 'text')
          .addColumn('mime_type', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0006_users_sessions': {
      // Local users of the web UI and their sign-in sessions. A password is kept as a scrypt hash
      // with its parameters (see users.ts); a session as the SHA-256 of its cookie value, so a copy
      // of the database signs nobody in. `disabled` is 0/1: the same integer on both dialects.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('csrf_token', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_seen_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
      },
    },
  };
}
