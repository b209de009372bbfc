/**
 * Keeps stored results current when the vulnerability DB changes, without pulling any image (the
 * registry may be down): every stored inventory whose result was matched against an older DB is
 * re-matched — except, when the new DB recorded what changed since the DB a result was matched
 * against, the inventories that hold none of the changed packages, whose results are only marked
 * current. For each re-matched manifest the findings are diffed against its previous result:
 * introduced, fixed, and severity changed.
 */
import { reportFor } from '../services/scan-service.js';
import type { CatalogStore } from '../store/catalog.js';
import type { VulnDb } from '../vulndb/index.js';
import { historyCounts } from './aggregate.js';
import { EMBEDDED_BACKEND, severityCounts } from './embedded-backend.js';
import { reportFindings, storedInventory } from './stored-results.js';

/** A finding as a change notice names it. */
export interface FindingSummary {
  id: string;
  package: string;
  version: string;
  path: string;
  severity: string;
  fixedVersions: string[];
}

/** How one manifest's findings changed with the new DB. */
export interface ManifestDiff {
  digest: string;
  introduced: FindingSummary[];
  fixed: FindingSummary[];
  severityChanged: (FindingSummary & { previousSeverity: string })[];
}

export interface RematchSummary {
  /** built_at of the DB matched against. */
  db: string;
  rematched: number;
  /** Results the DB's change record showed untouched: marked current without re-matching. */
  untouched: number;
  /** Manifests whose stored inventory could not be read (left as they were, with the reason). */
  failures: { digest: string; reason: string }[];
  /** Only the manifests whose findings changed. */
  diffs: ManifestDiff[];
}

/** Re-matches the stored results of the embedded backend that `db` may change; see the module doc. */
export async function rematchStored(catalog: CatalogStore, db: VulnDb): Promise<RematchSummary> {
  const summary: RematchSummary = { db: db.builtAt, rematched: 0, untouched: 0, failures: [], diffs: [] };
  const stale = (await catalog.scannedBy(EMBEDDED_BACKEND)).filter((s) => s.matchedDb !== db.builtAt);
  if (stale.length === 0) return summary;
  const changes = db.changes();
  const touched = changes === undefined ? undefined : new Set(await catalog.manifestsWithPackages(changes.packages.map((p) => ({ ecosystem: p.ecosystem, name: p.key }))));
  const skip: string[] = [];
  for (const scan of stale) {
    if (changes !== undefined && touched !== undefined && scan.matchedDb === changes.since && !touched.has(scan.digest)) {
      skip.push(scan.digest);
      continue;
    }
    try {
      const diff = await rematchOne(catalog, db, scan.digest);
      summary.rematched++;
      if (diff.introduced.length + diff.fixed.length + diff.severityChanged.length > 0) summary.diffs.push(diff);
    } catch (err) {
      summary.failures.push({ digest: scan.digest, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  await catalog.markMatched(EMBEDDED_BACKEND, skip, db.builtAt);
  summary.untouched = skip.length;
  return summary;
}

async function rematchOne(catalog: CatalogStore, db: VulnDb, digest: string): Promise<ManifestDiff> {
  const inventory = await storedInventory(catalog, digest);
  const previous = (await catalog.scans(digest)).find((s) => s.backend === EMBEDDED_BACKEND);
  const before = previous ? reportFindings(previous) : [];
  const { report, warnings } = await reportFor(inventory, db);
  const { inventory: _stored, ...rest } = report;
  const counts = severityCounts(report.findings);
  await catalog.finishScan(digest, EMBEDDED_BACKEND, { ...rest, warnings }, counts, db.builtAt);
  const diff = diffFindings(digest, before, report.findings);
  if (diff.introduced.length + diff.fixed.length + diff.severityChanged.length > 0) {
    const tags = await catalog.tagsOfDigest(digest);
    const aggregated = tags.length > 0 ? await historyCounts(catalog, digest, counts) : counts;
    for (const tag of tags) await catalog.recordHistory(tag.repository, tag.name, digest, aggregated);
  }
  return diff;
}

/** What a diff reads of a finding: an engine finding or an aggregated one (whose package may have no ecosystem or path). */
export interface DiffableFinding {
  id: string;
  severity: string;
  fixedVersions: string[];
  package: { ecosystem?: string; name: string; version: string; path?: string };
}

/** Introduced, fixed and re-rated findings between two results of one manifest. */
export function diffFindings<F extends DiffableFinding>(digest: string, before: readonly F[], after: readonly F[]): ManifestDiff {
  const key = (f: F): string => `${f.id}\u0000${f.package.ecosystem ?? ''}\u0000${f.package.name}\u0000${f.package.version}\u0000${f.package.path ?? ''}`;
  const old = new Map(before.map((f) => [key(f), f]));
  const now = new Map(after.map((f) => [key(f), f]));
  const diff: ManifestDiff = { digest, introduced: [], fixed: [], severityChanged: [] };
  for (const [k, f] of now) {
    const was = old.get(k);
    if (was === undefined) diff.introduced.push(summarize(f));
    else if (was.severity !== f.severity) diff.severityChanged.push({ ...summarize(f), previousSeverity: was.severity });
  }
  for (const [k, f] of old) if (!now.has(k)) diff.fixed.push(summarize(f));
  return diff;
}

function summarize(f: DiffableFinding): FindingSummary {
  return { id: f.id, package: f.package.name, version: f.package.version, path: f.package.path ?? '', severity: f.severity, fixedVersions: f.fixedVersions };
}
