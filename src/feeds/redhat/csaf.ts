import { PackageURL } from 'packageurl-js';
import * as z from 'zod';
import type { Advisory, AffectedPackage, SeverityRating } from '../../domain/advisory.js';
import { severityRank } from '../../domain/severity.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { cvssVersionOf, severityFromScore } from '../severity.js';
import { type RpmComponent, evrString, parseNevraId, redhatImpactSeverity, rhelNamespaceFromCpe, rpmAffected } from './platform.js';

/**
 * Names Red Hat's current CSAF VEX archive (`csaf_vex_<date>.tar.zst`, one document per CVE, relative
 * to this URL); `changes.csv` and `deletions.csv` beside it list later updates.
 */
export const REDHAT_CSAF_VEX_ARCHIVE_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt';
export const REDHAT_CSAF_VEX_BASE_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';
/** Red Hat's CSAF security advisories (one document per RHSA). */
export const REDHAT_CSAF_ADVISORIES_BASE_URL = 'https://security.access.redhat.com/data/csaf/v2/advisories/';

// CSAF 2.0, only the parts used here; everything else passes through unchecked.
const helperSchema = z.object({ cpe: z.string().optional(), purl: z.string().optional() });
const productSchema = z.object({
  product_id: z.string(),
  name: z.string().optional(),
  product_identification_helper: helperSchema.optional(),
});
interface Branch {
  category?: string | undefined;
  name?: string | undefined;
  product?: z.infer<typeof productSchema> | undefined;
  branches?: Branch[] | undefined;
}
const branchSchema: z.ZodType<Branch> = z.lazy(() =>
  z.object({
    category: z.string().optional(),
    name: z.string().optional(),
    product: productSchema.optional(),
    branches: z.array(branchSchema).optional(),
  }),
);
const noteSchema = z.object({ category: z.string(), text: z.string(), title: z.string().optional() });
const referenceSchema = z.object({ url: z.string(), category: z.string().optional() });
const cvssSchema = z.object({ vectorString: z.string(), baseScore: z.number(), version: z.string().optional() });
const vulnerabilitySchema = z.object({
  cve: z.string().optional(),
  title: z.string().optional(),
  notes: z.array(noteSchema).optional(),
  release_date: z.string().optional(),
  product_status: z.record(z.string(), z.array(z.string())).optional(),
  remediations: z
    .array(z.object({ category: z.string(), details: z.string().optional(), product_ids: z.array(z.string()).optional() }))
    .optional(),
  threats: z.array(z.object({ category: z.string(), details: z.string(), product_ids: z.array(z.string()).optional() })).optional(),
  scores: z
    .array(z.object({ cvss_v3: cvssSchema.optional(), cvss_v2: cvssSchema.optional(), products: z.array(z.string()).optional() }))
    .optional(),
  references: z.array(referenceSchema).optional(),
});
const csafSchema = z.object({
  document: z.object({
    category: z.string(),
    csaf_version: z.string(),
    title: z.string().optional(),
    aggregate_severity: z.object({ text: z.string() }).optional(),
    notes: z.array(noteSchema).optional(),
    references: z.array(referenceSchema).optional(),
    tracking: z.object({
      id: z.string().min(1),
      status: z.string().optional(),
      initial_release_date: z.string().optional(),
      current_release_date: z.string().optional(),
    }),
  }),
  product_tree: z
    .object({
      branches: z.array(branchSchema).optional(),
      relationships: z
        .array(z.object({ product_reference: z.string(), relates_to_product_reference: z.string(), full_product_name: z.object({ product_id: z.string() }) }))
        .optional(),
    })
    .optional(),
  vulnerabilities: z.array(vulnerabilitySchema).optional(),
});
type Csaf = z.infer<typeof csafSchema>;
type Vulnerability = z.infer<typeof vulnerabilitySchema>;

/** What one full product id (`AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.x86_64`) stands for. */
interface Resolved {
  namespace: string;
  component: RpmComponent;
  /** Minor release of the platform product (`AppStream-9.3.0.Z.MAIN` -> 3), -1 when the id has none. */
  minor: number;
}

interface Group {
  affected: AffectedPackage;
  arches: Set<string>;
  ids: string[];
  minor: number;
  /** EVR of the build the statement names, when versioned. */
  evr?: string;
}

/**
 * Parses Red Hat CSAF documents, both kinds in one feed (`redhat-csaf`):
 * - a CSAF VEX document (category `csaf_vex`, one per CVE) gives one Advisory per vulnerability, id =
 *   the CVE;
 * - a CSAF security advisory (`csaf_security_advisory`) gives one Advisory per document, id = the RHSA,
 *   aliases = its CVEs.
 * Product ids resolve through `product_tree.relationships` to a platform (whose CPE gives the namespace,
 * see rhelNamespaceFromCpe; layered products are left out) and a component (purl, else the NEVRA in the
 * product id). How statuses map, and why nameKind differs:
 * - `fixed`: Red Hat lists every binary rpm of the fixed build (plus its `.src`), so each binary name
 *   becomes a `binary` AffectedPackage fixed at the build's EVR, with the arches it was built for; the
 *   `.src` entry is used (as `source`) only when no binary of that build is listed. When one namespace
 *   gets several fixed builds of a package from platforms of different minor releases of the main
 *   stream (a 9.2 erratum and a 9.3 one, both `rhel:9`), only the newest minor's is kept: the main
 *   stream follows its newest minor, and the older build is below that fix.
 * - `known_affected` / `under_investigation`: Red Hat names unfixed components by source package, so
 *   these are `source` entries (`.src` suffix dropped), state unfixed, vendorStatus = the
 *   `none_available`/`no_fix_planned` remediation's details (`Will not fix`, `Out of support scope`,
 *   `Fix deferred`, `Affected`), else `Affected` / `Under investigation`.
 * - `known_not_affected`: not_affected, `source` for `.src`/arch=src components, `binary` otherwise.
 * Package severity = the highest impact threat for its product ids, else the document's aggregate
 * severity; modules come from the purl's `rpmmod` (`ruby:2.7`). A document that fails validation is
 * skipped and counted (one per file); product ids that do not resolve are left out, so a document about
 * layered products only gives advisories with no affected packages. A VEX document without
 * vulnerabilities gives no advisory; a `deleted` document gives withdrawn advisories.
 */
export function parseRedhatCsaf(files: FeedFile[]): AdvisoryParseResult {
  const advisories: Advisory[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    let doc: Csaf;
    try {
      const parsed = csafSchema.safeParse(JSON.parse(file.bytes.toString('utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        skipped.push({ record: file.name, reason: `redhat-csaf: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid document'}` });
        continue;
      }
      doc = parsed.data;
    } catch (err) {
      skipped.push({ record: file.name, reason: `redhat-csaf: not JSON: ${(err as Error).message}` });
      continue;
    }
    advisories.push(...documentAdvisories(doc));
    const date = doc.document.tracking.current_release_date;
    if (date !== undefined && (newest === undefined || date > newest)) newest = date;
  }
  return newest === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord: newest };
}

function documentAdvisories(doc: Csaf): Advisory[] {
  const resolve = makeResolver(doc);
  const tracking = doc.document.tracking;
  const aggregate = redhatImpactSeverity(doc.document.aggregate_severity?.text);
  const vulns = doc.vulnerabilities ?? [];
  const withdrawn = tracking.status === 'deleted' ? (tracking.current_release_date ?? tracking.initial_release_date ?? '') : undefined;

  if (doc.document.category === 'csaf_vex') {
    return vulns.map((v) => {
      const advisory = baseAdvisory(v.cve ?? tracking.id, doc, aggregate, [v]);
      const description = v.notes?.find((n) => n.category === 'description')?.text;
      if (description) advisory.description = description.trim();
      const title = v.title ?? doc.document.title;
      if (title) advisory.title = title;
      const published = v.release_date ?? tracking.initial_release_date;
      if (published) advisory.published = published;
      for (const r of v.references ?? []) if (!advisory.references.includes(r.url)) advisory.references.push(r.url);
      advisory.affected = affectedOf([v], resolve, aggregate);
      if (withdrawn !== undefined) advisory.withdrawn = withdrawn;
      return advisory;
    });
  }

  const advisory = baseAdvisory(tracking.id, doc, aggregate, vulns);
  for (const v of vulns) if (v.cve && !advisory.aliases.includes(v.cve)) advisory.aliases.push(v.cve);
  if (doc.document.title) advisory.title = doc.document.title;
  const notes = doc.document.notes ?? [];
  const description = notes.find((n) => n.category === 'general')?.text ?? notes.find((n) => n.category === 'summary')?.text;
  if (description) advisory.description = description.trim();
  if (tracking.initial_release_date) advisory.published = tracking.initial_release_date;
  advisory.affected = affectedOf(vulns, resolve, aggregate);
  if (withdrawn !== undefined) advisory.withdrawn = withdrawn;
  return [advisory];
}

function baseAdvisory(id: string, doc: Csaf, aggregate: SeverityRating | undefined, vulns: Vulnerability[]): Advisory {
  const advisory: Advisory = { id, aliases: [], feed: 'redhat-csaf', severities: [], references: [], affected: [] };
  if (doc.document.tracking.current_release_date) advisory.modified = doc.document.tracking.current_release_date;
  if (aggregate) advisory.severities.push(aggregate);
  const vectors = new Set<string>();
  for (const v of vulns) {
    for (const s of v.scores ?? []) {
      for (const c of [s.cvss_v3, s.cvss_v2]) {
        if (!c || vectors.has(c.vectorString)) continue;
        const version = cvssVersionOf(c.vectorString) ?? (c.version === '2.0' ? '2.0' : undefined);
        if (version === undefined) continue;
        vectors.add(c.vectorString);
        advisory.severities.push({
          source: 'redhat',
          type: version === '2.0' ? 'CVSS_V2' : version === '4.0' ? 'CVSS_V4' : 'CVSS_V3',
          value: c.vectorString,
          score: c.baseScore,
          normalized: severityFromScore(c.baseScore, version),
        });
      }
    }
  }
  for (const r of doc.document.references ?? []) if (!advisory.references.includes(r.url)) advisory.references.push(r.url);
  return advisory;
}

function makeResolver(doc: Csaf): (id: string) => Resolved | undefined {
  const products = new Map<string, z.infer<typeof productSchema>>();
  const walk = (branches: Branch[] | undefined): void => {
    for (const b of branches ?? []) {
      if (b.product) products.set(b.product.product_id, b.product);
      walk(b.branches);
    }
  };
  walk(doc.product_tree?.branches);
  const relations = new Map<string, { component: string; platform: string }>();
  for (const r of doc.product_tree?.relationships ?? []) {
    relations.set(r.full_product_name.product_id, { component: r.product_reference, platform: r.relates_to_product_reference });
  }
  const cache = new Map<string, Resolved | undefined>();
  return (id) => {
    if (cache.has(id)) return cache.get(id);
    let out: Resolved | undefined;
    const rel = relations.get(id);
    const cpe = rel ? products.get(rel.platform)?.product_identification_helper?.cpe : undefined;
    const namespace = cpe === undefined ? undefined : rhelNamespaceFromCpe(cpe);
    if (rel && namespace !== undefined) {
      const product = products.get(rel.component);
      const component = componentOf(rel.component, product?.product_identification_helper?.purl);
      const minor = /^[A-Za-z]+-\d+\.(\d+)\./.exec(rel.platform)?.[1];
      if (component) out = { namespace, component, minor: minor === undefined ? -1 : Number(minor) };
    }
    cache.set(id, out);
    return out;
  };
}

function componentOf(productId: string, purl: string | undefined): RpmComponent | undefined {
  if (purl !== undefined) {
    try {
      const p = PackageURL.fromString(purl);
      if (p.type !== 'rpm') return undefined;
      const q = p.qualifiers ?? {};
      const out: RpmComponent = { name: p.name };
      if (p.version) out.evr = evrString(q.epoch, p.version);
      if (q.arch) out.arch = q.arch;
      const module = q.rpmmod?.split(':');
      if (module && module.length >= 2) out.module = `${module[0]}:${module[1]}`;
      return out;
    } catch {
      // Fall back to the product id below.
    }
  }
  return parseNevraId(productId);
}

function affectedOf(vulns: Vulnerability[], resolve: (id: string) => Resolved | undefined, aggregate: SeverityRating | undefined): AffectedPackage[] {
  const groups = new Map<string, Group>();
  const impact = new Map<string, SeverityRating>();
  const remediation = new Map<string, string>();
  for (const v of vulns) {
    for (const t of v.threats ?? []) {
      if (t.category !== 'impact') continue;
      const rating = redhatImpactSeverity(t.details);
      if (!rating) continue;
      for (const id of t.product_ids ?? []) {
        const prev = impact.get(id);
        if (!prev || severityRank(rating.normalized) > severityRank(prev.normalized)) impact.set(id, rating);
      }
    }
    for (const r of v.remediations ?? []) {
      if (r.category !== 'none_available' && r.category !== 'no_fix_planned') continue;
      const details = r.details?.split('\n')[0]?.trim();
      for (const id of r.product_ids ?? []) remediation.set(id, details ? details : r.category);
    }
  }
  const add = (id: string, state: AffectedPackage['state'], nameKind: 'source' | 'binary', vendorStatus?: string) => {
    const res = resolve(id);
    if (!res) return;
    const c = res.component;
    if (state === 'fixed' && c.evr === undefined) return;
    const fixedVersion = state === 'fixed' ? c.evr : undefined;
    const key = JSON.stringify([res.namespace, nameKind, c.name, c.module ?? '', state, c.evr ?? '', vendorStatus ?? '']);
    let g = groups.get(key);
    if (!g) {
      g = {
        affected: rpmAffected({
          namespace: res.namespace,
          packageName: c.name,
          nameKind,
          state,
          ...(fixedVersion !== undefined ? { fixedVersion } : {}),
          ...(vendorStatus !== undefined ? { vendorStatus } : {}),
          ...(c.module !== undefined ? { module: c.module } : {}),
        }),
        arches: new Set(),
        ids: [],
        minor: res.minor,
        ...(c.evr !== undefined ? { evr: c.evr } : {}),
      };
      groups.set(key, g);
    }
    g.ids.push(id);
    g.minor = Math.max(g.minor, res.minor);
    if (c.arch && c.arch !== 'src' && nameKind === 'binary') g.arches.add(c.arch);
  };

  for (const v of vulns) {
    const status = v.product_status ?? {};
    for (const id of status.fixed ?? []) {
      const res = resolve(id);
      add(id, 'fixed', res?.component.arch === 'src' ? 'source' : 'binary');
    }
    for (const id of status.known_affected ?? []) add(id, 'unfixed', 'source', remediation.get(id) ?? 'Affected');
    for (const id of status.under_investigation ?? []) add(id, 'unfixed', 'source', remediation.get(id) ?? 'Under investigation');
    for (const id of status.known_not_affected ?? []) {
      const res = resolve(id);
      add(id, 'not_affected', res?.component.arch === 'src' ? 'source' : 'binary');
    }
  }

  const kept = prune([...groups.values()]);
  return kept.map((g) => {
    let severity: SeverityRating | undefined;
    for (const id of g.ids) {
      const r = impact.get(id);
      if (r && (!severity || severityRank(r.normalized) > severityRank(severity.normalized))) severity = r;
    }
    severity ??= aggregate;
    const out: AffectedPackage = { ...g.affected };
    if (severity) out.severity = severity;
    if (g.arches.size > 0) out.arches = [...g.arches].sort();
    return out;
  });
}

// Drops `.src` entries that repeat a build whose binaries are listed as fixed: as a fixed entry it is
// redundant, and as a not-affected one (advisories list the build's other rpms as known_not_affected,
// its `.src` included) it would contradict the binaries' fix for a matcher keyed by source name. Also
// drops fixed builds superseded by a newer minor release of the same main-stream namespace (see
// parseRedhatCsaf).
function prune(groups: Group[]): Group[] {
  const buildKey = (g: Group) => JSON.stringify([g.affected.namespace, g.affected.module ?? '', g.evr ?? '']);
  const fixed = groups.filter((g) => g.affected.state === 'fixed');
  const binaryBuilds = new Set(fixed.filter((g) => g.affected.nameKind === 'binary').map(buildKey));
  const newestMinor = new Map<string, number>();
  for (const g of fixed) {
    const k = packageKey(g.affected);
    newestMinor.set(k, Math.max(newestMinor.get(k) ?? -1, g.minor));
  }
  return groups.filter((g) => {
    const a = g.affected;
    if (a.nameKind === 'source' && g.evr !== undefined && a.state !== 'unfixed' && binaryBuilds.has(buildKey(g))) return false;
    if (a.state !== 'fixed') return true;
    const newest = newestMinor.get(packageKey(a)) ?? -1;
    return newest < 0 || g.minor >= newest;
  });
}

function packageKey(a: AffectedPackage): string {
  return JSON.stringify([a.namespace, a.nameKind, a.packageName, a.module ?? '']);
}

/** Red Hat CSAF VEX and CSAF advisories (`redhat-csaf`). */
export const redhatCsafFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'redhat-csaf',
  version: 1,
  description: 'Red Hat CSAF VEX (per CVE) and CSAF security advisories (per RHSA): fixed / affected / not-affected rpm packages per RHEL stream',
  upstream: [{ url: REDHAT_CSAF_VEX_ARCHIVE_URL, format: 'tar-zst', indirect: true }],
  recognizes(file: FeedFile): boolean {
    if (!/\.json$/i.test(file.name)) return false;
    const head = file.bytes.subarray(0, 8192).toString('utf8');
    return /^\s*\{/.test(head) && /"csaf_version"\s*:/.test(head) && /"category"\s*:\s*"csaf_/.test(head);
  },
  parse: parseRedhatCsaf,
};
