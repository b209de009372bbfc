/**
 * What the service's API and UI ask of the stored results: repositories with their worst severity
 * and counts, a repository's tags grouped by digest with each manifest's scan state (platform
 * children of an index each with their own), a manifest's findings filtered and paged, the tags an
 * advisory affects, and the difference between two tags. Every count and finding is the aggregate
 * over the backends that scanned the manifest (src/service/aggregate.ts). Read-only over the catalog.
 */
import { PortcullisError } from '../domain/errors.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { CatalogStore, ScanRow, ScanStatus } from '../store/catalog.js';
import { aggregateStatus, manifestAggregate, type AggregatedFinding, type BackendState, type SeverityCounts } from './aggregate.js';
import { diffFindings, type FindingSummary } from './rematch.js';

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
  backends: { backend: string; status: ScanStatus; reason: string | null; counts: SeverityCounts }[];
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
  manifest: ManifestView | undefined;
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
  const backends = scans.map((s) => ({ backend: s.backend, status: s.status, reason: s.reason, counts: (s.counts ?? {}) as SeverityCounts }));
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
    } else groups.set(t.digest, { digest: t.digest, tags: [t.name], pushedAt: t.pushedAt, manifest: undefined });
  }
  for (const g of groups.values()) g.manifest = await manifestView(catalog, g.digest);
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
export async function manifestFindings(catalog: CatalogStore, digest: string, filter: FindingFilter, page: { offset: number; limit: number }): Promise<FindingPage> {
  const scans = await catalog.scans(digest);
  if (scans.length === 0) throw new PortcullisError('E_NOT_FOUND', `no scan result for ${digest}`);
  if (filter.backend !== undefined && !scans.some((s) => s.backend === filter.backend)) {
    throw new PortcullisError('E_NOT_FOUND', `no ${filter.backend} result for ${digest} (backends: ${scans.map((s) => s.backend).join(', ')})`);
  }
  const aggregate = await manifestAggregate(catalog, digest, scans);
  const severities = filter.severities ? new Set(filter.severities) : undefined;
  const pkg = filter.package?.toLowerCase();
  const id = filter.id?.toLowerCase();
  const kept = aggregate.findings
    .filter((f) => (filter.backend !== undefined ? f.foundBy.some((b) => b.backend === filter.backend) : true))
    .filter((f) => (severities ? severities.has(f.severity) : true))
    .filter((f) => (filter.fixable ? f.fixedVersions.length > 0 : true))
    .filter((f) => (pkg ? f.package.name.toLowerCase() === pkg || f.foundBy.some((b) => b.package.split(' ')[0]?.toLowerCase() === pkg) : true))
    .filter((f) => (id ? [f.id, ...f.aliases].some((a) => a.toLowerCase() === id) : true));
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
export async function compareTags(catalog: CatalogStore, repository: string, from: string, to: string): Promise<{ from: string; to: string; fixed: FindingSummary[]; introduced: FindingSummary[]; unchanged: number }> {
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
