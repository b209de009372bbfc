import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import { feedFailureLines, formatAge } from '../../vulndb/describe.js';
import type { BuildSummary, DbFreshness, FeedFailure, FeedFreshness, StoredFeed, UpdateEvent, UpdateSummary } from '../../vulndb/index.js';
import { positiveInt } from '../options.js';
import { writeOutput } from '../output.js';

interface DbPathOption {
  db?: string;
}

const DB_OPTION_HELP = 'vulnerability DB file (default: $PORTCULLIS_DB, else $XDG_CACHE_HOME/portcullis/vuln.db or ~/.cache/portcullis/vuln.db)';

/** The DB code (SQLite, every feed parser) loads only when a db command runs, not for `--help`. */
const loadVulnDb = () => import('../../vulndb/index.js');

function collectRepeatable(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

function pad(cells: string[][]): string {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** The DATA AGE cell: `108d (record)`, `2h (fetched)` or `frozen since 2023-01-23`. */
function ageCell(f: FeedFreshness): string {
  if (f.status === 'frozen') return `frozen since ${f.frozenSince ?? '?'}`;
  return `${formatAge(f.ageHours)} (${f.basis === 'newest-record' ? 'record' : 'fetched'})`;
}

/**
 * The per-feed table `db status` prints (also after update/import). With `freshness` (status), a
 * DATA AGE column says how old each feed's data is and what that age is measured from.
 */
export function formatFeedTable(feeds: StoredFeed[] | BuildSummary['built'], freshness?: DbFreshness): string {
  if (feeds.length === 0) return 'no feeds';
  const header = ['FEED', 'RECORDS', 'SKIPPED', 'NEWEST RECORD', 'FETCHED', ...(freshness ? ['DATA AGE'] : []), 'SOURCE'];
  const rows = [header];
  for (const f of feeds) {
    const age = freshness?.feeds.find((a) => a.feed === f.feed);
    rows.push([f.feed, String(f.recordCount), String(f.skipped), f.newestRecord?.slice(0, 10) ?? '-', f.fetchedAt.replace(/\.\d{3}Z$/, 'Z'), ...(freshness ? [age ? ageCell(age) : '-'] : []), f.source]);
  }
  return pad(rows);
}

/** The line of `db status` that gives the DB's data age and which feed decides it. */
function dbAgeLine(freshness: DbFreshness): string {
  if (freshness.decidedBy === undefined) return 'data age: unknown (no feeds)';
  return `data age: ${formatAge(freshness.ageHours)}, that of its freshest live feed, ${freshness.decidedBy} (what --max-db-age is checked against)`;
}

function describeEvent(e: UpdateEvent): string | undefined {
  switch (e.type) {
    case 'fetch':
      return e.attempt === 1 ? `fetching ${e.feed}: ${e.url}` : undefined;
    case 'retry':
      return `retrying ${e.url} (attempt ${e.attempt + 1}): ${e.error}`;
    case 'failed':
      // The reason is left to --verbose: one line per feed, each with its error, at the end.
      return `feed ${e.feed} failed, keeping its previous data`;
    default:
      return undefined;
  }
}

/** `--verbose`: why each feed failed, one line per feed on standard error. */
function writeFailures(failed: readonly FeedFailure[]): void {
  for (const line of feedFailureLines(failed)) process.stderr.write(`feed ${line}\n`);
}

function buildReport(build: BuildSummary): string {
  const lines = [`wrote ${build.path} (${build.advisories} advisories, ${build.affectedRows} affected-package rows, ${build.enrichmentRecords} enrichment records)`];
  lines.push(formatFeedTable(build.built));
  if (build.kept.length > 0) lines.push(`kept from the previous DB: ${build.kept.join(', ')}`);
  if (build.dropped.length > 0) lines.push(`dropped (previous DB had another schema; update them): ${build.dropped.join(', ')}`);
  return lines.join('\n');
}

/**
 * `portcullis db`: maintain the local vulnerability DB.
 * - `db update [--feed ID...] [--mirror URL]`: fetch feeds (all with an upstream by default); a failed
 *   feed keeps its previous data and makes the command exit with E_FEED after writing the rest.
 * - `db import PATH...`: build from local files, folders and zips; unrecognized files are listed.
 * - `db status [--json]`: per feed source, fetch time, record count, newest record, skipped count,
 *   and the data age (see src/vulndb/freshness.ts), per feed and for the DB.
 */
export function dbCommand(): Command {
  const db = new Command('db').description('maintain the local vulnerability database');

  db.command('update')
    .description('fetch the vulnerability feeds and rebuild the database')
    .option('--feed <id>', 'update only this feed (repeatable or comma-separated; others are kept)', collectRepeatable)
    .option('--mirror <url>', 'fetch every upstream URL from this mirror base instead: <mirror>/<host>/<path> (also $PORTCULLIS_FEED_MIRROR)')
    .option('--timeout <seconds>', 'give up on a request after this long without data', '60')
    .option('--retries <n>', 'retries per URL on network errors and 5xx', '3')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress lines on standard error')
    .option('--verbose', 'say why each failed feed failed')
    .action(async (opts: DbPathOption & { feed?: string[]; mirror?: string; timeout: string; retries: string; json?: boolean; quiet?: boolean; verbose?: boolean }) => {
      const { defaultDbPath, updateFeeds } = await loadVulnDb();
      const mirror = opts.mirror ?? (process.env.PORTCULLIS_FEED_MIRROR || undefined);
      const retries = opts.retries === '0' ? 0 : positiveInt(opts.retries, '--retries', 3);
      const target = opts.db ?? defaultDbPath();
      const hint = opts.verbose ? '' : ' (--verbose lists why)';
      let summary: UpdateSummary;
      try {
        summary = await updateFeeds({
          target,
          ...(opts.feed ? { feeds: opts.feed } : {}),
          ...(mirror ? { mirror } : {}),
          timeoutMs: positiveInt(opts.timeout, '--timeout', 60) * 1000,
          retries,
          onEvent: (e) => {
            const line = opts.quiet || opts.json ? undefined : describeEvent(e);
            if (line !== undefined) process.stderr.write(`${line}\n`);
          },
        });
      } catch (err) {
        // Every feed failed: updateFeeds puts all their errors in one line; say it in three.
        if (!isPortcullisError(err, 'E_FEED') || !Array.isArray(err.details.failed) || err.details.failed.length === 0) throw err;
        const failed = err.details.failed as FeedFailure[];
        if (opts.verbose) writeFailures(failed);
        throw new PortcullisError(
          'E_FEED',
          [
            `db update: none of the ${failed.length} feeds could be fetched; ${existsSync(target) ? `${target} was left as it was` : `no database was written at ${target}`}${hint}`,
            `  online:     check the network and proxy ($HTTPS_PROXY), then rerun portcullis db update`,
            `  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL`,
          ].join('\n'),
          { failed },
        );
      }
      if (opts.json) await writeOutput(undefined, `${JSON.stringify(summary, null, 2)}\n`);
      else if (summary.build) await writeOutput(undefined, `${buildReport(summary.build)}\n`);
      if (summary.failed.length > 0) {
        if (opts.verbose) writeFailures(summary.failed);
        throw new PortcullisError('E_FEED', `db update: ${summary.failed.length} feed(s) failed and kept their previous data: ${summary.failed.map((f) => f.feed).join(', ')}${hint}`, {
          failed: summary.failed,
        });
      }
    });

  db.command('import')
    .description('build the database from local feed files, folders or zips')
    .argument('<path...>', 'files, folders or zip archives holding feed data')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--replace', 'drop the feeds this import does not provide (default: keep them)')
    .option('--json', 'print the summary as JSON')
    .action(async (paths: string[], opts: DbPathOption & { replace?: boolean; json?: boolean }) => {
      const { defaultDbPath, importFeeds } = await loadVulnDb();
      const summary = await importFeeds(paths, { target: opts.db ?? defaultDbPath(), keepOthers: !opts.replace });
      if (opts.json) {
        await writeOutput(undefined, `${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const lines = [buildReport(summary.build)];
      if (summary.unrecognized.length > 0) {
        const shown = summary.unrecognized.slice(0, 20);
        lines.push(`${summary.unrecognized.length} file(s) in no known feed format were ignored:`, ...shown.map((n) => `  ${n}`));
        if (summary.unrecognized.length > shown.length) lines.push(`  ... and ${summary.unrecognized.length - shown.length} more`);
      }
      await writeOutput(undefined, `${lines.join('\n')}\n`);
    });

  db.command('status')
    .description('show what the database holds, feed by feed')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print as JSON')
    .action(async (opts: DbPathOption & { json?: boolean }) => {
      const { assessFreshness, defaultDbPath, openVulnDb } = await loadVulnDb();
      const vulnDb = openVulnDb(opts.db ?? defaultDbPath());
      try {
        const feeds = vulnDb.feeds();
        const freshness = assessFreshness(feeds);
        if (opts.json) {
          const { dbStatus } = await import('../../vulndb/status.js');
          await writeOutput(undefined, `${JSON.stringify(dbStatus(vulnDb), null, 2)}\n`);
          return;
        }
        await writeOutput(undefined, `database ${vulnDb.path}\nbuilt at ${vulnDb.builtAt}, schema version ${vulnDb.schemaVersion}\n${dbAgeLine(freshness)}\n${formatFeedTable(feeds, freshness)}\n`);
      } finally {
        vulnDb.close();
      }
    });

  return db;
}
