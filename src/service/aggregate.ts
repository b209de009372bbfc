/**
 * One view of a manifest over every backend that scanned it. Portus stored each backend's list side
 * by side and never merged them (compatibility.md 1.4); here the findings of the embedded scanner
 * and of every external backend are merged into one list, each aggregated finding naming the
 * backends that found it and where they disagree.
 *
 * Identity of an aggregated finding: one advisory (its id or any alias another backend names it by)
 * in one package at one version.
 * - Advisories: the embedded finding carries its aliases (a DSA/DLA/GHSA id with its CVE ids), so a
 *   backend naming any of them names the same advisory. External backends give a single id each.
 * - Packages: names are compared only as far as both sides say the same thing. A backend's
 *   (name, version) is an image package when it is that package's own name and version, or, for a
 *   Debian/Ubuntu namespace, the package's source name and source version: Clair v2 names dpkg
 *   packages by their source package (the recorded answers list `zlib`, `glibc`, `shadow` where the
 *   image holds `zlib1g`, `libc6`, `passwd`). Nothing else is normalised (no case folding, no
 *   epoch or suffix stripping): two backends that name a package differently stay two findings.
 * - The embedded scanner's findings are kept one to one (its evidence, path and layer are the most
 *   precise), so an image only the embedded scanner scanned aggregates to exactly its findings.
 *
 * Shown values when backends disagree:
 * - severity: the embedded scanner's when it found the advisory, because it chose it from the most
 *   specific rating it has (the distribution's own rating for that package before any CVSS score,
 *   see `severitySource`) and every threshold and policy of Portcullis is evaluated on it. Without
 *   it, the most severe rating of the backends that found it (Unknown only when all say Unknown):
 *   an aggregate must not understate a risk that no backend of its own could judge.
 * - fixed versions: the embedded scanner's when it found it (it matched them against the package's
 *   version scheme), else every fixed version a backend gave, in backend order.
 * Every backend's own word stays in `foundBy`, and each disagreement is listed in `disagreements`.
 *
 * Status of an aggregated finding (`status`): the embedded scanner's word when it found the advisory
 * (its matched record's state: `fixed` when the vendor published a fix; `unfixed` with a vendor word
 * that says no fix will come, `will-not-fix`, Red Hat's `Will not fix` / `Out of support scope`,
 * Ubuntu's and Debian's `ignored`, `end-of-life`, is `wont-fix`, see WONT_FIX_WORDS; any other
 * unfixed word, `postponed`, `needed`, `deferred`, stays `unfixed`). Without an embedded finding
 * external backends give no state: `fixed` when some backend names a fixed version, else `unfixed`.
 *
 * A backend that did not complete (queued, scanning, failed, unsupported) is listed with its state
 * in `backends`, and the aggregate is `complete: false`: it never reads as clean because a backend
 * did not run.
 */
import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';
import type { BackendPackageFindings, SeenPackage } from '../backends/types.js';
import type { FindingEvidence, MatchEvidence, Finding } from '../domain/finding.js';
import type { SeverityRating } from '../domain/advisory.js';
import type { Inventory } from '../domain/inventory.js';
import type { InventoryPackage } from '../domain/package.js';
import { SEVERITIES, severityRank, type Severity } from '../domain/severity.js';
import type { CatalogStore, ScanRow, ScanStatus } from '../store/catalog.js';
import { EMBEDDED_BACKEND } from './backend-names.js';
import { reportFindings, storedInventory } from './stored-results.js';

/** Findings per severity. */
export type SeverityCounts = Partial<Record<Severity, number>>;

/** One backend's word on an aggregated finding. */
export interface FoundBy {
  backend: string;
  /** The advisory id as this backend names it. */
  id: string;
  /** On Portcullis's scale. */
  severity: Severity;
  /** The backend's own word (`Defcon1`, `important`; for the embedded scanner the rating it chose, `high` or a CVSS vector). */
  backendSeverity: string;
  /** Versions that fix it according to this backend ([] when it knows none). */
  fixedIn: string[];
  link?: string;
  /** The package as this backend names it (`zlib 1:1.2.13.dfsg-1`). */
  package: string;
}

/** A backend that has a result for the manifest but did not report this finding. */
export interface NotFoundBy {
  backend: string;
  /**
   * Whether it saw the package: `yes` (it listed the package, so it looked and did not find the
   * advisory), `no` (its package list does not hold it), `unknown` (it does not list what it saw).
   */
  sawPackage: 'yes' | 'no' | 'unknown';
  /** How it named the package when it saw it. */
  as?: string;
}

export type Disagreement =
  | { kind: 'severity'; shown: Severity; shownFrom: string; rule: string; values: { backend: string; severity: Severity; backendSeverity: string }[] }
  | { kind: 'fixed-version'; shown: string[]; values: { backend: string; fixedIn: string[] }[] }
  | { kind: 'not-found'; foundBy: string[]; sawPackageWithoutIt: { backend: string; as: string }[] };

/** The package of an aggregated finding: the embedded scanner's package when it found it, else the backend's naming. */
export interface AggregatedPackage {
  name: string;
  version: string;
  ecosystem?: Finding['package']['ecosystem'];
  sourceName?: string;
  sourceVersion?: string;
  purl?: string;
  path?: string;
  layer?: string;
  /** The backend's namespace of the package (`debian:12`) when no embedded finding names it. */
  namespace?: string;
  /** The layer that added it as the backend names it. */
  addedBy?: string;
}

/** An image package an aggregated finding is about (name, version and path in the stored inventory). */
export interface ImagePackageRef {
  name: string;
  version: string;
  path: string;
  layer: string;
}

/** Whether a fix exists: `fixed`, `unfixed` (none yet), `wont-fix` (the vendor says none will come); see the module comment. */
export const FINDING_STATUSES = ['fixed', 'unfixed', 'wont-fix'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/**
 * Vendor words (an unfixed record's vendorStatus, case-insensitive) that mean no fix will be
 * published: Ubuntu's `ignored` and Debian's `ignored` (no-dsa, not to be fixed), Red Hat's
 * `Will not fix` and `Out of support scope`, and `end-of-life` as the Debian DSA list writes it.
 */
const WONT_FIX_WORDS = /^(?:<?ignored>?|will[-_ ]not[-_ ]fix|won'?t[-_ ]fix|wontfix|out of support scope|<?end-of-life>?|no[-_ ]fix[-_ ]planned)$/i;

/** The status of an aggregated finding (see the module comment). */
export function findingStatus(embedded: Pick<Finding, 'state' | 'vendorStatus'> | undefined, fixedVersions: readonly string[]): FindingStatus {
  if (embedded !== undefined) {
    if (embedded.state === 'fixed') return 'fixed';
    if (embedded.vendorStatus !== undefined && WONT_FIX_WORDS.test(embedded.vendorStatus.trim())) return 'wont-fix';
    if (embedded.state === 'unfixed') return 'unfixed';
  }
  return fixedVersions.length > 0 ? 'fixed' : 'unfixed';
}

export interface AggregatedFinding {
  id: string;
  aliases: string[];
  package: AggregatedPackage;
  severity: Severity;
  /** Who the shown severity comes from and why (see the module comment). */
  severitySource: string;
  fixedVersions: string[];
  status: FindingStatus;
  namespace?: string;
  title?: string;
  description?: string;
  links: string[];
  /** The embedded scanner's ratings, feed and evidence when it found the advisory. */
  ratings?: SeverityRating[];
  feed?: Finding['feed'];
  why?: MatchEvidence;
  /** The same evidence as data (reports of schema version 2 on; absent from older stored reports). */
  evidence?: FindingEvidence;
  foundBy: FoundBy[];
  notFoundBy: NotFoundBy[];
  disagreements: Disagreement[];
  /** The image's packages (from the stored inventory) this finding is about: the embedded finding's own, or the binaries a source package name stands for; [] when the inventory holds none of them. */
  imagePackages: ImagePackageRef[];
}

/** A backend's state for the manifest. */
export interface BackendState {
  backend: string;
  status: ScanStatus;
  reason: string | null;
  finishedAt: string | null;
  /** Whether its findings are in the aggregate (its last complete report; kept while a re-scan is queued or running). */
  included: boolean;
  /** Its own findings (one per package and advisory) in the report included. */
  findings: number;
}

export interface ManifestAggregate {
  digest: string;
  /** The state the aggregate is in (see {@link aggregateStatus}). */
  status: ScanStatus;
  /** true only when every backend scanned the manifest and its report is in the aggregate. */
  complete: boolean;
  backends: BackendState[];
  counts: SeverityCounts;
  findings: AggregatedFinding[];
}

/** One backend's usable result. */
export type BackendResult =
  | { backend: string; kind: 'embedded'; findings: readonly Finding[] }
  | { backend: string; kind: 'external'; packages: readonly BackendPackageFindings[]; seenPackages?: readonly SeenPackage[] };

/**
 * The state shown for a manifest over its backends: `failed` when any failed (a result without one
 * backend is not a complete result), else `scanning`/`queued` while any is at work, else `scanned`
 * when at least one scanned (a backend that cannot read this image, `unsupported`, is listed but
 * does not hold the others' results back), `unsupported` when none can, `queued` when none ran yet.
 */
export function aggregateStatus(statuses: readonly ScanStatus[]): ScanStatus {
  if (statuses.length === 0) return 'queued';
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('scanning')) return 'scanning';
  if (statuses.includes('queued')) return 'queued';
  return statuses.includes('scanned') ? 'scanned' : 'unsupported';
}

/** Namespaces whose backends (Clair v2) name dpkg packages by source package. */
function namesSourcePackages(namespace: string | undefined): boolean {
  return namespace !== undefined && /^(debian|ubuntu):/i.test(namespace);
}

interface NamedPackage {
  name: string;
  version: string;
  namespace?: string;
}

/** Whether a backend's (name, version) is this image package, as far as both say the same thing. */
function namesImagePackage(image: Pick<InventoryPackage, 'ecosystem' | 'name' | 'version' | 'sourceName' | 'sourceVersion'>, named: NamedPackage): boolean {
  if (image.name === named.name && image.version === named.version) return true;
  return image.ecosystem === 'deb' && namesSourcePackages(named.namespace) && (image.sourceName ?? image.name) === named.name && (image.sourceVersion ?? image.version) === named.version;
}

function label(p: NamedPackage): string {
  return `${p.name} ${p.version}`;
}

function idKey(id: string): string {
  return id.toUpperCase();
}

function distinct<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

interface Working {
  ids: Set<string>;
  embedded?: Finding;
  external?: NamedPackage & { addedBy?: string };
  imagePackages: ImagePackageRef[];
  foundBy: FoundBy[];
  descriptions: string[];
  links: string[];
}

/** The rating the embedded scanner chose its severity from, in its own words. */
function embeddedWord(f: Finding): string {
  return f.ratings.find((r) => r.source === f.severitySource && r.normalized === f.severity)?.value ?? f.severity;
}

/**
 * Merges the results of every backend (see the module comment). `inventory` is the embedded
 * scanner's inventory of the image when there is one: it is how a backend's source-package name
 * finds the image's binary packages, and how the embedded scanner is known to have seen a package.
 * `states` lists every backend with a scan of the manifest, complete or not.
 */
export function aggregateFindings(digest: string, states: readonly Omit<BackendState, 'findings'>[], results: readonly BackendResult[], inventory?: Pick<Inventory, 'packages'>): ManifestAggregate {
  const ordered = [...results].sort((a, b) => (a.backend === EMBEDDED_BACKEND ? -1 : b.backend === EMBEDDED_BACKEND ? 1 : a.backend.localeCompare(b.backend)));
  const items: Working[] = [];
  const ownCounts = new Map<string, number>();
  const imageMatches = (named: NamedPackage): ImagePackageRef[] =>
    (inventory?.packages ?? []).filter((p) => namesImagePackage(p, named)).map((p) => ({ name: p.name, version: p.version, path: p.path, layer: p.layer }));

  for (const result of ordered) {
    if (result.kind === 'embedded') {
      const seen = new Set<string>();
      for (const f of result.findings) {
        const key = `${f.id}\u0000${f.package.name}\u0000${f.package.version}\u0000${f.package.path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        items.push({
          ids: new Set([f.id, ...f.aliases].map(idKey)),
          embedded: f,
          imagePackages: [{ name: f.package.name, version: f.package.version, path: f.package.path, layer: f.package.layer }],
          foundBy: [{ backend: result.backend, id: f.id, severity: f.severity, backendSeverity: embeddedWord(f), fixedIn: f.fixedVersions, ...(f.links[0] !== undefined ? { link: f.links[0] } : {}), package: label(f.package) }],
          descriptions: [],
          links: [...f.links],
        });
      }
      ownCounts.set(result.backend, seen.size);
      continue;
    }
    let own = 0;
    for (const pkg of result.packages) {
      const named: NamedPackage = { name: pkg.name, version: pkg.version, ...(pkg.namespace !== undefined ? { namespace: pkg.namespace } : {}) };
      const onImage = imageMatches(named);
      for (const v of pkg.vulnerabilities) {
        own++;
        const entry: FoundBy = { backend: result.backend, id: v.id, severity: v.severity, backendSeverity: v.backendSeverity, fixedIn: v.fixedBy !== undefined ? [v.fixedBy] : [], ...(v.link !== undefined ? { link: v.link } : {}), package: label(named) };
        const id = idKey(v.id);
        const add = (item: Working): void => {
          if (item.foundBy.some((b) => b.backend === entry.backend && idKey(b.id) === id)) return;
          item.foundBy.push(entry);
          item.ids.add(id);
          if (v.description !== undefined) item.descriptions.push(v.description);
          if (v.link !== undefined) item.links.push(v.link);
        };
        const embeddedTargets = items.filter((i) => i.embedded !== undefined && i.ids.has(id) && namesImagePackage(i.embedded.package, named));
        if (embeddedTargets.length > 0) {
          embeddedTargets.forEach(add);
          continue;
        }
        // Another backend's finding of this advisory in the same package: the same name and version, or the same image packages.
        const sameElsewhere = items.find(
          (i) => i.embedded === undefined && i.ids.has(id) && i.external !== undefined && ((i.external.name === named.name && i.external.version === named.version) || i.imagePackages.some((p) => onImage.some((q) => q.name === p.name && q.version === p.version && q.path === p.path))),
        );
        if (sameElsewhere !== undefined) {
          add(sameElsewhere);
          continue;
        }
        const item: Working = { ids: new Set([id]), external: { ...named, ...(pkg.addedBy !== undefined ? { addedBy: pkg.addedBy } : {}) }, imagePackages: onImage, foundBy: [], descriptions: [], links: [] };
        add(item);
        items.push(item);
      }
    }
    ownCounts.set(result.backend, own);
  }

  const findings = items.map((item) => finish(item, ordered, inventory));
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.package.name.localeCompare(b.package.name) || a.package.version.localeCompare(b.package.version) || (a.package.path ?? '').localeCompare(b.package.path ?? ''));
  const counts: SeverityCounts = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  const backends = states.map((s) => ({ ...s, findings: s.included ? (ownCounts.get(s.backend) ?? 0) : 0 }));
  const status = aggregateStatus(states.map((s) => s.status));
  return { digest, status, complete: states.length > 0 && states.every((s) => s.status === 'scanned' && s.included), backends, counts, findings };
}

/** Whether `backend`'s result shows it saw the package of `item`, and under which name. */
function sawPackage(result: BackendResult, item: Working, inventory: Pick<Inventory, 'packages'> | undefined): NotFoundBy {
  const backend = result.backend;
  if (result.kind === 'embedded') {
    if (inventory === undefined || item.external === undefined) return { backend, sawPackage: 'unknown' };
    const external = item.external;
    const hit = inventory.packages.find((p) => namesImagePackage(p, external));
    return hit ? { backend, sawPackage: 'yes', as: label(hit) } : { backend, sawPackage: 'no' };
  }
  const listed: readonly NamedPackage[] = result.seenPackages ?? result.packages;
  const hit = listed.find((named) => (item.embedded ? namesImagePackage(item.embedded.package, named) : item.external !== undefined && named.name === item.external.name && named.version === item.external.version) || (item.imagePackages.length > 0 && inventory?.packages.some((p) => namesImagePackage(p, named) && item.imagePackages.some((q) => q.name === p.name && q.version === p.version && q.path === p.path))));
  if (hit) return { backend, sawPackage: 'yes', as: label(hit) };
  return { backend, sawPackage: result.seenPackages !== undefined ? 'no' : 'unknown' };
}

function finish(item: Working, results: readonly BackendResult[], inventory: Pick<Inventory, 'packages'> | undefined): AggregatedFinding {
  const f = item.embedded;
  const first = item.foundBy[0];
  if (first === undefined) throw new PortcullisError('E_INTERNAL', 'aggregate: a finding without a backend that found it');
  const id = f?.id ?? first.id;
  const aliases = distinct([...(f?.aliases ?? []), ...item.foundBy.map((b) => b.id)]).filter((a) => idKey(a) !== idKey(id));

  let severity: Severity;
  let severitySource: string;
  let shownFrom: string;
  let rule: string;
  if (f !== undefined) {
    severity = f.severity;
    shownFrom = EMBEDDED_BACKEND;
    severitySource = `${EMBEDDED_BACKEND}: ${f.severitySource}`;
    rule = "the embedded scanner's rating, chosen from the most specific source it has (the distribution's rating of the package before CVSS)";
  } else {
    const rated = item.foundBy.filter((b) => b.severity !== 'Unknown');
    const top = (rated.length > 0 ? rated : item.foundBy).reduce((best, b) => (severityRank(b.severity) > severityRank(best.severity) ? b : best));
    severity = top.severity;
    shownFrom = top.backend;
    severitySource = `${top.backend}: ${top.backendSeverity || top.severity}`;
    rule = 'the most severe rating of the backends that found it (the embedded scanner did not)';
  }
  const fixedVersions = f !== undefined ? [...f.fixedVersions] : distinct(item.foundBy.flatMap((b) => b.fixedIn));

  const disagreements: Disagreement[] = [];
  if (distinct(item.foundBy.map((b) => b.severity)).length > 1) {
    disagreements.push({ kind: 'severity', shown: severity, shownFrom, rule, values: item.foundBy.map((b) => ({ backend: b.backend, severity: b.severity, backendSeverity: b.backendSeverity })) });
  }
  if (distinct(item.foundBy.map((b) => [...b.fixedIn].sort().join('\u0000'))).length > 1) {
    disagreements.push({ kind: 'fixed-version', shown: fixedVersions, values: item.foundBy.map((b) => ({ backend: b.backend, fixedIn: b.fixedIn })) });
  }
  const finders = new Set(item.foundBy.map((b) => b.backend));
  const notFoundBy = results.filter((r) => !finders.has(r.backend)).map((r) => sawPackage(r, item, inventory));
  const sawWithout = notFoundBy.filter((n): n is NotFoundBy & { as: string } => n.sawPackage === 'yes' && n.as !== undefined);
  if (sawWithout.length > 0) disagreements.push({ kind: 'not-found', foundBy: [...finders], sawPackageWithoutIt: sawWithout.map((n) => ({ backend: n.backend, as: n.as })) });

  const links = distinct(item.links);
  if (f !== undefined) {
    const { ecosystem, name, version, sourceName, sourceVersion, purl, path, layer } = f.package;
    return {
      id,
      aliases,
      package: { ecosystem, name, version, ...(sourceName !== undefined ? { sourceName } : {}), ...(sourceVersion !== undefined ? { sourceVersion } : {}), purl, path, layer },
      severity,
      severitySource,
      fixedVersions,
      status: findingStatus(f, fixedVersions),
      namespace: f.namespace,
      ...(f.title !== undefined ? { title: f.title } : {}),
      ...(f.description !== undefined ? { description: f.description } : {}),
      links,
      ratings: f.ratings,
      feed: f.feed,
      why: f.why,
      ...(f.evidence !== undefined ? { evidence: f.evidence } : {}),
      foundBy: item.foundBy,
      notFoundBy,
      disagreements,
      imagePackages: item.imagePackages,
    };
  }
  const external = item.external ?? { name: '', version: '' };
  const description = item.descriptions[0];
  return {
    id,
    aliases,
    package: { name: external.name, version: external.version, ...(external.namespace !== undefined ? { namespace: external.namespace } : {}), ...(external.addedBy !== undefined ? { addedBy: external.addedBy } : {}) },
    severity,
    severitySource,
    fixedVersions,
    status: findingStatus(undefined, fixedVersions),
    ...(external.namespace !== undefined ? { namespace: external.namespace } : {}),
    ...(description !== undefined ? { description } : {}),
    links,
    foundBy: item.foundBy,
    notFoundBy,
    disagreements,
    imagePackages: item.imagePackages,
  };
}

const severitySchema = z.enum(SEVERITIES);
/** A stored backend report, checked for what the aggregate reads (the store outlives versions). */
const backendReportSchema = z.object({
  packages: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      namespace: z.string().optional(),
      addedBy: z.string().optional(),
      vulnerabilities: z.array(
        z.object({
          id: z.string().min(1),
          severity: severitySchema,
          backendSeverity: z.string(),
          fixedBy: z.string().optional(),
          link: z.string().optional(),
          description: z.string().optional(),
          namespace: z.string().optional(),
        }),
      ),
    }),
  ),
  seenPackages: z.array(z.object({ name: z.string(), version: z.string(), namespace: z.string().optional() })).optional(),
});

/** A scan's stored report as a backend result; undefined when it has none to include or it cannot be read. */
export function storedResult(scan: ScanRow): BackendResult | undefined {
  if (scan.report === null || scan.status === 'failed' || scan.status === 'unsupported') return undefined;
  if (scan.backend === EMBEDDED_BACKEND) return { backend: scan.backend, kind: 'embedded', findings: reportFindings(scan) };
  let doc: unknown;
  try {
    doc = JSON.parse(scan.report);
  } catch {
    return undefined;
  }
  const parsed = backendReportSchema.safeParse(doc);
  if (!parsed.success) return undefined;
  const { packages, seenPackages } = parsed.data;
  return { backend: scan.backend, kind: 'external', packages, ...(seenPackages !== undefined ? { seenPackages } : {}) };
}

/** The backend states of a manifest's scans and the results the aggregate includes. */
export function storedResults(scans: readonly ScanRow[]): { states: Omit<BackendState, 'findings'>[]; results: BackendResult[] } {
  const results: BackendResult[] = [];
  const states = scans.map((s) => {
    const result = storedResult(s);
    if (result) results.push(result);
    // A scanned result whose report this version cannot read is said so, not shown as a clean one.
    const reason = s.status === 'scanned' && result === undefined ? 'its stored report cannot be read (re-scan to replace it)' : s.reason;
    return { backend: s.backend, status: s.status, reason, finishedAt: s.finishedAt, included: result !== undefined };
  });
  return { states, results };
}

/**
 * The aggregate of a manifest from the store: every backend's scan, and the stored inventory when
 * the embedded scanner made one (without it, the embedded scanner's view of the packages is unknown).
 */
export async function manifestAggregate(catalog: CatalogStore, digest: string, scans?: readonly ScanRow[]): Promise<ManifestAggregate> {
  const rows = scans ?? (await catalog.scans(digest));
  const { states, results } = storedResults(rows);
  const inventory = results.length > 1 || results.some((r) => r.kind === 'external') ? await storedInventory(catalog, digest).catch(() => undefined) : undefined;
  return aggregateFindings(digest, states, results, inventory);
}

/**
 * What a tag's history records after a result of `digest` is stored: the aggregate's counts over
 * every backend's stored result (what the API shows for the manifest from then on), so a trend does
 * not jump between backends' own counts; `own` (the result's own counts) when the aggregate cannot
 * be made (a stored report this version cannot read must not fail the scan that was just stored).
 */
export async function historyCounts(catalog: CatalogStore, digest: string, own: Record<string, number>): Promise<Record<string, number>> {
  try {
    const counts: Record<string, number> = {};
    for (const [severity, n] of Object.entries((await manifestAggregate(catalog, digest)).counts)) if (n !== undefined) counts[severity] = n;
    return counts;
  } catch {
    return own;
  }
}
