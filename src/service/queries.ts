/**
 * What the service's API and UI ask of the stored results: repositories with their worst severity
 * and counts, a repository's tags grouped by digest with each manifest's scan state (platform
 * children of an index each with their own), a manifest's findings filtered and paged, the tags an
 * advisory affects, and the difference between two tags. Read-only over the catalog.
 */
import { PortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { CatalogStore, ScanRow, ScanStatus } from '../store/catalog.js';
import { EMBEDDED_BACKEND } from './embedded-backend.js';
import { diffFindings, type FindingSummary } from './rematch.js';
import { reportFindings } from './stored-results.js';

/** Findings per severity. */
export type SeverityCounts = Partial<Record<Severity, number>>;

export interface ScanState {
  /** The state shown for the manifest: the embedded backend's, else the first backend's; `queued` when none ran yet. */
  status: ScanStatus;
  reason: string | null;
  counts: SeverityCounts;
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
  /** Sum over the repository's distinct scanned image manifests. */
  counts: SeverityCounts;
  worst?: Severity;
}

/** Severities from most to least severe. */
const MOST_SEVERE_FIRST: readonly Severity[] = [...SEVERITIES].reverse();

/** The most severe level present in `counts`. */
export function worstOf(counts: SeverityCounts): Severity | undefined {
  return MOST_SEVERE_FIRST.find((s) => (counts[s] ?? 0) > 0);
}

function stateOf(scans: readonly ScanRow[]): ScanState {
  const backends = scans.map((s) => ({ backend: s.backend, status: s.status, reason: s.reason, counts: (s.counts ?? {}) as SeverityCounts }));
  const main = backends.find((b) => b.backend === EMBEDDED_BACKEND) ?? backends[0];
  if (main === undefined) return { status: 'queued', reason: null, counts: {}, backends: [] };
  const worst = main.status === 'scanned' ? worstOf(main.counts) : undefined;
  return { status: main.status, reason: main.reason, counts: main.counts, ...(worst ? { worst } : {}), backends };
}

/** A manifest with its scan state, and an index's children with theirs; undefined for an unknown digest. */
export async function manifestView(catalog: CatalogStore, digest: string): Promise<ManifestView | undefined> {
  const m = await catalog.manifest(digest);
  if (m === undefined) return undefined;
  const base: ManifestView = { digest, kind: m.kind, mediaType: m.mediaType, size: m.size, ...(m.platform ? { platform: m.platform } : {}), scan: stateOf(await catalog.scans(digest)) };
  if (m.kind !== 'index') return base;
  const children: ManifestView[] = [];
  for (const c of m.children ?? []) {
    // The platform is the index's word for it (the same image may be pushed alone, without one).
    const child = await manifestView(catalog, c.digest);
    children.push(child ? { ...child, platform: c.platform } : { digest: c.digest, kind: 'image', mediaType: '', size: 0, platform: c.platform, scan: stateOf([]) });
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
  return { ...base, children, scan: { status, reason: null, counts, ...(worst ? { worst } : {}), backends: [] } };
}

/** Every repository with its tag count, last push, and findings per severity over its distinct image manifests. */
export async function repositoryViews(catalog: CatalogStore): Promise<RepositoryView[]> {
  const out: RepositoryView[] = [];
  for (const repo of await catalog.repositories()) {
    const counts: SeverityCounts = {};
    const seen = new Set<string>();
    for (const tag of await catalog.tags(repo.name)) {
      const view = await manifestView(catalog, tag.digest);
      for (const image of view?.kind === 'index' ? (view.children ?? []) : view ? [view] : []) {
        if (seen.has(image.digest) || image.scan.status !== 'scanned') continue;
        seen.add(image.digest);
        for (const [s, n] of Object.entries(image.scan.counts)) counts[s as Severity] = (counts[s as Severity] ?? 0) + (n ?? 0);
      }
    }
    const worst = worstOf(counts);
    out.push({ name: repo.name, tagCount: repo.tagCount, lastPush: repo.lastPush, counts, ...(worst ? { worst } : {}) });
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
  backend: string;
  status: ScanStatus;
  total: number;
  offset: number;
  limit: number;
  findings: Finding[];
}

/** The largest page the API serves. */
export const MAX_PAGE = 1000;

/**
 * A manifest's stored findings (the backend's last complete report), filtered and paged, most
 * severe first. E_NOT_FOUND when the manifest has no result from that backend.
 */
export async function manifestFindings(catalog: CatalogStore, digest: string, filter: FindingFilter, page: { offset: number; limit: number }): Promise<FindingPage> {
  const backend = filter.backend ?? EMBEDDED_BACKEND;
  const scan = (await catalog.scans(digest)).find((s) => s.backend === backend);
  if (scan === undefined) throw new PortcullisError('E_NOT_FOUND', `no ${backend} result for ${digest}`);
  const all = reportFindings(scan);
  const severities = filter.severities ? new Set(filter.severities) : undefined;
  const pkg = filter.package?.toLowerCase();
  const id = filter.id?.toLowerCase();
  const kept = all
    .filter((f) => (severities ? severities.has(f.severity) : true))
    .filter((f) => (filter.fixable ? f.fixedVersions.length > 0 : true))
    .filter((f) => (pkg ? f.package.name.toLowerCase() === pkg : true))
    .filter((f) => (id ? [f.id, ...f.aliases].some((a) => a.toLowerCase() === id) : true))
    .sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.id.localeCompare(b.id) || a.package.name.localeCompare(b.package.name));
  const limit = Math.min(Math.max(1, page.limit), MAX_PAGE);
  const offset = Math.max(0, page.offset);
  return { digest, backend, status: scan.status, total: kept.length, offset, limit, findings: kept.slice(offset, offset + limit) };
}

/** Every tag whose image holds a finding of advisory `id` (or an alias of it), with the package. */
export async function advisoryUsage(catalog: CatalogStore, id: string): Promise<{ repository: string; tag: string; digest: string; package: string; version: string; severity: Severity }[]> {
  const wanted = id.toLowerCase();
  const out: { repository: string; tag: string; digest: string; package: string; version: string; severity: Severity }[] = [];
  for (const { digest } of await catalog.scannedBy(EMBEDDED_BACKEND)) {
    const scan = (await catalog.scans(digest)).find((s) => s.backend === EMBEDDED_BACKEND);
    const findings = scan ? reportFindings(scan) : [];
    const hits = findings.filter((f) => [f.id, ...f.aliases].some((a) => a.toLowerCase() === wanted));
    if (hits.length === 0) continue;
    const tags = await tagsReaching(catalog, digest);
    for (const t of tags) for (const f of hits) out.push({ repository: t.repository, tag: t.name, digest, package: f.package.name, version: f.package.version, severity: f.severity });
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

/** Two tags of a repository compared: findings fixed in `to`, introduced in `to`, and unchanged. */
export async function compareTags(catalog: CatalogStore, repository: string, from: string, to: string): Promise<{ from: string; to: string; fixed: FindingSummary[]; introduced: FindingSummary[]; unchanged: number }> {
  const tags = new Map((await catalog.tags(repository)).map((t) => [t.name, t.digest]));
  const findingsOf = async (tag: string): Promise<Finding[]> => {
    const digest = tags.get(tag);
    if (digest === undefined) throw new PortcullisError('E_NOT_FOUND', `no tag ${repository}:${tag}`);
    const view = await manifestView(catalog, digest);
    const images = view?.kind === 'index' ? (view.children ?? []).map((c) => c.digest) : [digest];
    const all: Finding[] = [];
    for (const d of images) {
      const scan = (await catalog.scans(d)).find((s) => s.backend === EMBEDDED_BACKEND);
      if (scan?.status !== 'scanned' || scan.report === null) throw new PortcullisError('E_NOT_FOUND', `${repository}:${tag} (${d}) has no scan result to compare`);
      all.push(...reportFindings(scan));
    }
    return all;
  };
  const before = await findingsOf(from);
  const after = await findingsOf(to);
  const diff = diffFindings(`${repository}:${from}..${to}`, before, after);
  return { from, to, fixed: diff.fixed, introduced: diff.introduced, unchanged: after.length - diff.introduced.length };
}
