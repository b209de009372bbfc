/**
 * What the service's API and UI ask of the stored results: repositories with their worst severity
 * and counts, a repository's tags grouped by digest with each manifest's scan state (platform
 * children of an index each with their own), a manifest's findings filtered and paged, the tags an
 * advisory affects, and the difference between two tags. Every count and finding is the aggregate
 * over the backends that scanned the manifest (src/service/aggregate.ts). Read-only over the catalog.
 */
import { PortcullisError } from '../domain/errors.js';
import { SEVERITIES, severityRank, type Severity } from '../domain/severity.js';
import type { CatalogStore, ScanRow, ScanStatus } from '../store/catalog.js';
import { aggregateStatus, manifestAggregate, type AggregatedFinding, type BackendState, type FindingStatus, type ManifestAggregate, type SeverityCounts } from './aggregate.js';
import type { Distro } from '../domain/distro.js';
import { diffFindings, type FindingSummary } from './rematch.js';
import { storedInventoryIfAny } from './stored-results.js';

export type { SeverityCounts } from './aggregate.js';

export interface ScanState {
  /** The state shown for the manifest over its backends (see aggregateStatus): `failed` when any backend failed, `queued` when none ran yet. */
  status: ScanStatus;
  /** The reasons of the backends not scanned, `backend: reason`, joined; null when none gave one. */
  reason: string | null;
  /** Aggregated findings per severity (one per advisory, package and version over every backend). */
  counts: SeverityCounts;
  /** Whether every backend scanned the manifest (false: some are failed, pending or unsupported; see `backends`). */
  complete: boolean;
  /** The most severe level with a finding; undefined when clean or not scanned. */
  worst?: Severity;
  /** Each backend's own state, reason, counts and when its last result was stored (null before the first). */
  backends: { backend: string; status: ScanStatus; reason: string | null; counts: SeverityCounts; finishedAt: string | null }[];
}

export interface ManifestView {
  digest: string;
  kind: 'image' | 'index';
  mediaType: string;
  size: number;
  platform?: string;
  scan: ScanState;
  /** For an index: one entry per platform manifest, each with its own scan state. */
  children?: ManifestView[];
}

export interface TagGroup {
  digest: string;
  tags: string[];
  pushedAt: string;
  /** Absent when the manifest is not (yet) recorded. */
  manifest?: ManifestView;
}

export interface RepositoryView {
  name: string;
  tagCount: number;
  lastPush: string | null;
  /** Sum of the aggregated counts over the repository's distinct image manifests (a manifest one backend failed on still counts what the others found). */
  counts: SeverityCounts;
  /** Whether every backend scanned every one of those manifests (false: see each manifest's `backends` in the tags view). */
  complete: boolean;
  worst?: Severity;
}

/** Severities from most to least severe. */
const MOST_SEVERE_FIRST: readonly Severity[] = [...SEVERITIES].reverse();

/** The most severe level present in `counts`. */
export function worstOf(counts: SeverityCounts): Severity | undefined {
  return MOST_SEVERE_FIRST.find((s) => (counts[s] ?? 0) > 0);
}

/**
 * The scan state of a manifest over its backends. The counts are the aggregate's; when at most one
 * backend has findings the aggregate is that backend's list as it is, so its stored counts are used
 * without reading any report.
 */
async function stateOf(catalog: CatalogStore, digest: string, scans: readonly ScanRow[]): Promise<ScanState> {
  const backends = scans.map((s) => ({ backend: s.backend, status: s.status, reason: s.reason, counts: (s.counts ?? {}) as SeverityCounts, finishedAt: s.finishedAt }));
  if (backends.length === 0) return { status: 'queued', reason: null, counts: {}, complete: false, backends: [] };
  const status = aggregateStatus(scans.map((s) => s.status));
  const contributing = scans.filter((s) => s.report !== null && s.status !== 'failed' && s.status !== 'unsupported');
  const withFindings = contributing.filter((s) => Object.values(s.counts ?? {}).some((n) => n > 0));
  const counts: SeverityCounts = withFindings.length > 1 ? (await manifestAggregate(catalog, digest, scans)).counts : withFindings.length === 1 ? ((withFindings[0]?.counts ?? {}) as SeverityCounts) : {};
  const reasons = scans.filter((s) => s.status !== 'scanned' && s.reason !== null).map((s) => `${s.backend}: ${s.reason ?? ''}`);
  const worst = contributing.length > 0 ? worstOf(counts) : undefined;
  return { status, reason: reasons.length > 0 ? reasons.join('; ') : null, counts, complete: scans.every((s) => s.status === 'scanned'), ...(worst ? { worst } : {}), backends };
}

/** A manifest with its scan state, and an index's children with theirs; undefined for an unknown digest. */
export async function manifestView(catalog: CatalogStore, digest: string): Promise<ManifestView | undefined> {
  const m = await catalog.manifest(digest);
  if (m === undefined) return undefined;
  const base: ManifestView = { digest, kind: m.kind, mediaType: m.mediaType, size: m.size, ...(m.platform ? { platform: m.platform } : {}), scan: await stateOf(catalog, digest, await catalog.scans(digest)) };
  if (m.kind !== 'index') return base;
  const children: ManifestView[] = [];
  for (const c of m.children ?? []) {
    // The platform is the index's word for it (the same image may be pushed alone, without one).
    const child = await manifestView(catalog, c.digest);
    children.push(child ? { ...child, platform: c.platform } : { digest: c.digest, kind: 'image', mediaType: '', size: 0, platform: c.platform, scan: await stateOf(catalog, c.digest, []) });
  }
  // An index is as bad as its worst platform.
  const counts: SeverityCounts = {};
  for (const child of children) for (const [s, n] of Object.entries(child.scan.counts)) counts[s as Severity] = (counts[s as Severity] ?? 0) + (n ?? 0);
  const statuses = children.map((c) => c.scan.status);
  const status: ScanStatus = statuses.includes('failed')
    ? 'failed'
    : statuses.includes('scanning')
      ? 'scanning'
      : statuses.includes('queued') || statuses.length === 0
        ? 'queued'
        : statuses.every((s) => s === 'unsupported')
          ? 'unsupported'
          : 'scanned';
  const worst = worstOf(counts);
  return { ...base, children, scan: { status, reason: null, counts, complete: children.length > 0 && children.every((c) => c.scan.complete), ...(worst ? { worst } : {}), backends: [] } };
}

/** Every repository with its tag count, last push, and findings per severity over its distinct image manifests. */
export async function repositoryViews(catalog: CatalogStore): Promise<RepositoryView[]> {
  const out: RepositoryView[] = [];
  for (const repo of await catalog.repositories()) {
    const counts: SeverityCounts = {};
    const seen = new Set<string>();
    let complete = true;
    for (const tag of await catalog.tags(repo.name)) {
      const view = await manifestView(catalog, tag.digest);
      for (const image of view?.kind === 'index' ? (view.children ?? []) : view ? [view] : []) {
        if (seen.has(image.digest)) continue;
        seen.add(image.digest);
        complete &&= image.scan.complete;
        for (const [s, n] of Object.entries(image.scan.counts)) counts[s as Severity] = (counts[s as Severity] ?? 0) + (n ?? 0);
      }
    }
    const worst = worstOf(counts);
    out.push({ name: repo.name, tagCount: repo.tagCount, lastPush: repo.lastPush, counts, complete, ...(worst ? { worst } : {}) });
  }
  return out;
}

/** A repository's tags grouped by digest (one group per digest, every tag named), newest push first; E_NOT_FOUND for an unknown repository. */
export async function tagGroups(catalog: CatalogStore, repository: string): Promise<TagGroup[]> {
  const tags = await catalog.tags(repository);
  if (tags.length === 0 && !(await catalog.repositories()).some((r) => r.name === repository)) throw new PortcullisError('E_NOT_FOUND', `no repository ${repository}`);
  const groups = new Map<string, TagGroup>();
  for (const t of tags) {
    const g = groups.get(t.digest);
    if (g) {
      g.tags.push(t.name);
      if (t.pushedAt > g.pushedAt) g.pushedAt = t.pushedAt;
    } else groups.set(t.digest, { digest: t.digest, tags: [t.name], pushedAt: t.pushedAt });
  }
  for (const g of groups.values()) {
    const manifest = await manifestView(catalog, g.digest);
    if (manifest !== undefined) g.manifest = manifest;
  }
  return [...groups.values()].sort((a, b) => (a.pushedAt < b.pushedAt ? 1 : a.pushedAt > b.pushedAt ? -1 : a.digest.localeCompare(b.digest)));
}

export interface FindingFilter {
  severities?: readonly Severity[];
  /** Only findings with a fixed version. */
  fixable?: boolean;
  /** Package name, exact (case-insensitive). */
  package?: string;
  /** Advisory id or alias, exact (case-insensitive). */
  id?: string;
  backend?: string;
  /** Free text: a case-insensitive substring of the id, an alias, the package name, the title or the description. */
  q?: string;
  /** Only findings with one of these statuses. */
  statuses?: readonly FindingStatus[];
}

/** The orders findings can be listed in; see FindingOrder. */
export const FINDING_SORT_KEYS = ['severity', 'id', 'package', 'version', 'fixed', 'status'] as const;
export type FindingSortKey = (typeof FINDING_SORT_KEYS)[number];
/**
 * A key and a direction. Every key ascends from the least (Unknown, Negligible ... Critical for
 * `severity`; A to Z for text), `descending` reverses the key only, and ties are always broken by
 * id, then package name, then the aggregate's own order. The default order, as every report lists
 * findings, is `severity` descending: most severe first.
 */
export interface FindingOrder {
  key: FindingSortKey;
  descending: boolean;
}

/** Status rank for sorting: most actionable first (a fix exists, then none yet, then none coming). */
const STATUS_ORDER: Record<FindingStatus, number> = { fixed: 0, unfixed: 1, 'wont-fix': 2 };

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `compare` for one sort key, ascending as FindingOrder says. */
function keyComparator(key: FindingSortKey): (a: AggregatedFinding, b: AggregatedFinding) => number {
  switch (key) {
    case 'severity':
      return (a, b) => severityRank(a.severity) - severityRank(b.severity);
    case 'id':
      return (a, b) => compareText(a.id, b.id);
    case 'package':
      return (a, b) => compareText(a.package.name, b.package.name);
    case 'version':
      return (a, b) => compareText(a.package.version, b.package.version);
    case 'fixed':
      // Findings without a fixed version sort after every one with.
      return (a, b) => (a.fixedVersions.length === 0 ? 1 : 0) - (b.fixedVersions.length === 0 ? 1 : 0) || compareText(a.fixedVersions.join(', '), b.fixedVersions.join(', '));
    case 'status':
      return (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status];
  }
}

/** The aggregate's findings filtered as `filter` says and in `order` (stable: ties by id, then package, then the aggregate's order). */
export function filterAndSortFindings(findings: readonly AggregatedFinding[], filter: FindingFilter, order?: FindingOrder): AggregatedFinding[] {
  const severities = filter.severities ? new Set(filter.severities) : undefined;
  const statuses = filter.statuses ? new Set(filter.statuses) : undefined;
  const pkg = filter.package?.toLowerCase();
  const id = filter.id?.toLowerCase();
  const text = filter.q?.toLowerCase();
  const kept = findings
    .filter((f) => (filter.backend !== undefined ? f.foundBy.some((b) => b.backend === filter.backend) : true))
    .filter((f) => (severities ? severities.has(f.severity) : true))
    .filter((f) => (filter.fixable ? f.fixedVersions.length > 0 : true))
    .filter((f) => (statuses ? statuses.has(f.status) : true))
    .filter((f) => (pkg ? f.package.name.toLowerCase() === pkg || f.foundBy.some((b) => b.package.split(' ')[0]?.toLowerCase() === pkg) : true))
    .filter((f) => (id ? [f.id, ...f.aliases].some((a) => a.toLowerCase() === id) : true))
    .filter((f) => (text ? [f.id, ...f.aliases, f.package.name, f.title ?? '', f.description ?? ''].some((t) => t.toLowerCase().includes(text)) : true));
  if (order === undefined || (order.key === 'severity' && order.descending)) return kept; // the aggregate's own order: most severe first
  const byKey = keyComparator(order.key);
  const sign = order.descending ? -1 : 1;
  const position = new Map(kept.map((f, i) => [f, i]));
  return [...kept].sort((a, b) => sign * byKey(a, b) || compareText(a.id, b.id) || compareText(a.package.name, b.package.name) || (position.get(a) ?? 0) - (position.get(b) ?? 0));
}

export interface FindingPage {
  digest: string;
  /** The backend the findings were filtered to (those it found, with every backend's provenance kept); absent for the whole aggregate. */
  backend?: string;
  /** The aggregate's state over the backends (see aggregateStatus). */
  status: ScanStatus;
  /** Whether every backend scanned the manifest; false means some did not run or failed (see `backends`), so the list may miss their findings. */
  complete: boolean;
  backends: BackendState[];
  total: number;
  offset: number;
  limit: number;
  findings: AggregatedFinding[];
}

/** The largest page the API serves. */
export const MAX_PAGE = 1000;

/**
 * A manifest's aggregated findings (every backend's last complete report merged), filtered and
 * paged, most severe first. With `backend`, only what that backend found, provenance kept.
 * E_NOT_FOUND when no backend has a result for the manifest, or the backend asked for none.
 */
export async function manifestFindings(catalog: CatalogStore, digest: string, filter: FindingFilter, page: { offset: number; limit: number }, order?: FindingOrder): Promise<FindingPage> {
  const { aggregate, kept } = await selectedFindings(catalog, digest, filter, order);
  const limit = Math.min(Math.max(1, page.limit), MAX_PAGE);
  const offset = Math.max(0, page.offset);
  return {
    digest,
    ...(filter.backend !== undefined ? { backend: filter.backend } : {}),
    status: aggregate.status,
    complete: aggregate.complete,
    backends: aggregate.backends,
    total: kept.length,
    offset,
    limit,
    findings: kept.slice(offset, offset + limit),
  };
}

/**
 * Every finding of a manifest the filter keeps, in `order`, with the aggregate they come from (for
 * exports: no paging). E_NOT_FOUND as manifestFindings.
 */
export async function selectedFindings(catalog: CatalogStore, digest: string, filter: FindingFilter, order?: FindingOrder): Promise<{ aggregate: ManifestAggregate; kept: AggregatedFinding[] }> {
  const scans = await catalog.scans(digest);
  if (scans.length === 0) throw new PortcullisError('E_NOT_FOUND', `no scan result for ${digest}`);
  if (filter.backend !== undefined && !scans.some((s) => s.backend === filter.backend)) {
    throw new PortcullisError('E_NOT_FOUND', `no ${filter.backend} result for ${digest} (backends: ${scans.map((s) => s.backend).join(', ')})`);
  }
  const aggregate = await manifestAggregate(catalog, digest, scans);
  return { aggregate, kept: filterAndSortFindings(aggregate.findings, filter, order) };
}

/** A place an advisory affects. */
export interface AdvisoryUse {
  repository: string;
  tag: string;
  digest: string;
  package: string;
  version: string;
  severity: Severity;
  /** The backends that found it there. */
  foundBy: string[];
}

/** Every tag whose image holds an aggregated finding of advisory `id` (or an alias of it), with the package and the backends that found it. */
export async function advisoryUsage(catalog: CatalogStore, id: string): Promise<AdvisoryUse[]> {
  const wanted = id.toLowerCase();
  const out: AdvisoryUse[] = [];
  for (const digest of await catalog.digestsWithReports()) {
    const scans = await catalog.scans(digest);
    // Only manifests whose stored reports name the id at all are aggregated.
    if (!scans.some((s) => s.report?.toLowerCase().includes(wanted))) continue;
    const aggregate = await manifestAggregate(catalog, digest, scans);
    const hits = aggregate.findings.filter((f) => [f.id, ...f.aliases].some((a) => a.toLowerCase() === wanted));
    if (hits.length === 0) continue;
    const tags = await tagsReaching(catalog, digest);
    for (const t of tags) for (const f of hits) out.push({ repository: t.repository, tag: t.name, digest, package: f.package.name, version: f.package.version, severity: f.severity, foundBy: f.foundBy.map((b) => b.backend) });
  }
  return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag) || a.package.localeCompare(b.package));
}

/** The tags that name `digest` directly or through an index. */
async function tagsReaching(catalog: CatalogStore, digest: string): Promise<{ repository: string; name: string }[]> {
  const direct = await catalog.tagsOfDigest(digest);
  const viaIndex = [];
  for (const parent of await catalog.parentsOf(digest)) viaIndex.push(...(await catalog.tagsOfDigest(parent)));
  return [...direct, ...viaIndex];
}

/** Two tags of a repository compared on their aggregated findings: fixed in `to`, introduced in `to`, and unchanged. */
export interface TagComparison {
  from: string;
  to: string;
  /** Findings of `from` that `to` no longer has. */
  fixed: FindingSummary[];
  /** Findings of `to` that `from` did not have. */
  introduced: FindingSummary[];
  /** How many findings of `to` `from` had too. */
  unchanged: number;
}

export async function compareTags(catalog: CatalogStore, repository: string, from: string, to: string): Promise<TagComparison> {
  const tags = new Map((await catalog.tags(repository)).map((t) => [t.name, t.digest]));
  const findingsOf = async (tag: string): Promise<AggregatedFinding[]> => {
    const digest = tags.get(tag);
    if (digest === undefined) throw new PortcullisError('E_NOT_FOUND', `no tag ${repository}:${tag}`);
    const view = await manifestView(catalog, digest);
    const images = view?.kind === 'index' ? (view.children ?? []).map((c) => c.digest) : [digest];
    const all: AggregatedFinding[] = [];
    for (const d of images) {
      const aggregate = await manifestAggregate(catalog, d);
      if (!aggregate.backends.some((b) => b.status === 'scanned' && b.included)) throw new PortcullisError('E_NOT_FOUND', `${repository}:${tag} (${d}) has no scan result to compare`);
      all.push(...aggregate.findings);
    }
    return all;
  };
  const before = await findingsOf(from);
  const after = await findingsOf(to);
  const diff = diffFindings(`${repository}:${from}..${to}`, before, after);
  return { from, to, fixed: diff.fixed, introduced: diff.introduced, unchanged: after.length - diff.introduced.length };
}

/** One point of a tag's history: its findings per severity after a scan of `digest`. */
export interface TagHistoryPoint {
  at: string;
  digest: string;
  counts: SeverityCounts;
}

export interface RepositoryHistory {
  repository: string;
  /** At every time a tag's counts changed (or a tag left): the sum over the images the tags name then (each digest once) of its latest counts. */
  points: { at: string; counts: SeverityCounts }[];
  /** Each tag's own points; `deletedAt` when the tag is gone from the repository (see repositoryHistory). */
  tags: { tag: string; deletedAt?: string; points: TagHistoryPoint[] }[];
}

/**
 * Findings per severity over time for a repository, from the stored scan history (a point per
 * finished scan of a tagged manifest, and per re-match that changed it). A repository point sums,
 * over the images its tags name at that time (a digest two tags name counts once), each one's
 * latest counts. A tag that is no longer in the repository
 * stops counting from its deletion: the time of the registry's delete event of the tag (or of the
 * digest it last named) when one was applied; without one (a tag removed by catalog sync) the
 * deletion is taken to be the next history point of the repository after the tag's own last one,
 * the first moment the history can show it gone. Each point's counts are the manifest's aggregate
 * over its backends when the point was recorded (historyCounts; points recorded before that
 * change hold the one backend's own counts). E_NOT_FOUND for a repository with neither tags nor history.
 */
export async function repositoryHistory(catalog: CatalogStore, repository: string): Promise<RepositoryHistory> {
  const rows = await catalog.history(repository);
  const present = new Set((await catalog.tags(repository)).map((t) => t.name));
  if (rows.length === 0 && present.size === 0 && !(await catalog.repositories()).some((r) => r.name === repository)) throw new PortcullisError('E_NOT_FOUND', `no repository ${repository}`);
  const byTag = new Map<string, TagHistoryPoint[]>();
  for (const r of rows) {
    const counts: SeverityCounts = {};
    for (const s of SEVERITIES) if ((r.counts[s] ?? 0) > 0) counts[s] = r.counts[s];
    const points = byTag.get(r.tag) ?? [];
    points.push({ at: r.at, digest: r.digest, counts });
    byTag.set(r.tag, points);
  }
  const times = [...new Set(rows.map((r) => r.at))].sort();
  const deletions = await catalog.deletions(repository);
  const tags: RepositoryHistory['tags'] = [];
  for (const [tag, points] of [...byTag.entries()].sort(([a], [b]) => compareText(a, b))) {
    const last = points[points.length - 1];
    if (present.has(tag) || last === undefined) {
      tags.push({ tag, points });
      continue;
    }
    const deleted = deletions.find((d) => d.at >= last.at && (d.tag === tag || d.digest === last.digest))?.at ?? times.find((t) => t > last.at);
    tags.push({ tag, ...(deleted !== undefined ? { deletedAt: deleted } : {}), points });
  }
  const allTimes = [...new Set([...times, ...tags.flatMap((t) => (t.deletedAt !== undefined ? [t.deletedAt] : []))])].sort();
  const points = allTimes.map((at) => {
    // One image counts once however many tags name it (as the repository's own counts do): per
    // digest, the newest point of the tags naming it then.
    const byDigest = new Map<string, TagHistoryPoint>();
    for (const t of tags) {
      if (t.deletedAt !== undefined && t.deletedAt <= at) continue;
      const latest = t.points.filter((p) => p.at <= at).at(-1);
      if (latest === undefined) continue;
      const seen = byDigest.get(latest.digest);
      if (seen === undefined || seen.at < latest.at) byDigest.set(latest.digest, latest);
    }
    const counts: SeverityCounts = {};
    for (const point of byDigest.values()) for (const s of SEVERITIES) if ((point.counts[s] ?? 0) > 0) counts[s] = (counts[s] ?? 0) + (point.counts[s] ?? 0);
    return { at, counts };
  });
  return { repository, points, tags };
}

/** A manifest with the tags reaching it and, when an inventory is stored, its layers and distribution. */
export interface ManifestDetail extends ManifestView {
  tags: { repository: string; tag: string }[];
  layers?: { index: number; digest: string; size: number; createdBy?: string; packageCount: number }[];
  distro?: Distro;
}

/** The detail of a manifest (see ManifestDetail); E_NOT_FOUND for an unknown digest. */
export async function manifestDetail(catalog: CatalogStore, digest: string): Promise<ManifestDetail> {
  const view = await manifestView(catalog, digest);
  if (view === undefined) throw new PortcullisError('E_NOT_FOUND', `no manifest ${digest} is known to the service`);
  const tags = (await tagsReaching(catalog, digest)).map((t) => ({ repository: t.repository, tag: t.name })).sort((a, b) => compareText(a.repository, b.repository) || compareText(a.tag, b.tag));
  const inventory = view.kind === 'index' ? undefined : await storedInventoryIfAny(catalog, digest);
  if (inventory === undefined) return { ...view, tags };
  const layers = inventory.layers.map((l) => ({ index: l.index, digest: l.digest, size: l.size, ...(l.createdBy !== undefined ? { createdBy: l.createdBy } : {}), packageCount: l.packageCount }));
  return { ...view, tags, layers, ...(inventory.distro !== undefined ? { distro: inventory.distro } : {}) };
}
