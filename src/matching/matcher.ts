/**
 * Matching: an Inventory × the vulnerability data -> findings, each with the evidence of why.
 *
 * Pure over its inputs: the same inventory and DB give the same result, so a stored inventory is
 * re-matched against a newer DB without reading the image again. The DB is asked once per
 * (package kind, namespace) with every name of that group (no per-package queries).
 */
import type { Advisory, AffectedPackage, FeedMetadata, SeverityRating } from '../domain/advisory.js';
import type { Finding, MatchRecord } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { describeOwner, isOsEcosystem, type Ecosystem, type InventoryPackage, type OsEcosystem, type OsOwner } from '../domain/package.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { ScanWarning } from '../domain/warning.js';
import { distroNamespace } from '../distro/index.js';
import { severityFromScore, type CvssVersion } from '../feeds/severity.js';
import type { EnrichmentRecord } from '../feeds/types.js';
import { schemeForEcosystem } from '../ecosystems/version-schemes.js';
import { ecosystemDescriptor, languageNamespace, matchVersionOf } from '../ecosystems/registry.js';
import type { VersionScheme, VersionSchemeId } from '../versioning/types.js';
import { throwIfCancelled } from '../util/concurrency.js';
import { judgeStatement, prepareStatement, type AffectedVerdict, type PreparedStatement } from './ranges.js';

/** One batch lookup: the statements about any of `packageNames` in one namespace of one package kind. */
export interface AdvisoryLookup {
  ecosystem: Ecosystem;
  namespace: string;
  packageNames: string[];
}

/**
 * What matching needs from a vulnerability database: the advisory store port. Asynchronous, so a
 * store over a network database (PostgreSQL) can implement it; batched, so a match awaits a few
 * times per inventory (feeds and namespaces, every group's statements at once, the distribution's
 * statements about owning packages, enrichment), never per package. The SQLite vulnerability DB
 * implements it (src/vulndb/open.ts).
 */
export interface AdvisoryStore {
  /**
   * Per lookup, in order, its statements (withdrawn advisories may be included; they are dropped
   * here). A store that returns the same object for a statement on every call lets the matcher keep
   * what it derives from it in `memo` (a warm match then derives nothing again).
   */
  affectedForMany(lookups: readonly AdvisoryLookup[]): Promise<Candidate[][]>;
  enrichmentFor(cveIds: string[]): Promise<ReadonlyMap<string, EnrichmentRecord>>;
  /** The feeds the data comes from (their fetch dates go into findings). */
  feedList(): Promise<FeedMetadata[]>;
  /** Namespaces the store holds any statement for, for one package kind (to tell "no findings" from "no data"). */
  namespacesFor(ecosystem: Ecosystem): Promise<string[]>;
}

import type { OsOwnedMode } from './os-owned.js';
export { OS_OWNED_MODES, type OsOwnedMode } from './os-owned.js';

export interface MatchOptions {
  /** Language packages installed by an OS package: see OsOwnedMode. Default `distro`. */
  osOwned?: OsOwnedMode;
  /**
   * Also report, in `notAffected`, every (package, vulnerability) the data speaks of but that does
   * not affect the installed version: the vendor says not affected, or the installed version is
   * outside the affected ranges (already fixed). Default false.
   */
  includeNotAffected?: boolean;
  /** Checked after each wait on the store: an abort stops the match with E_CANCELLED. */
  signal?: AbortSignal;
}

/** What the DB could say about one group of packages. */
export interface NamespaceCoverage {
  ecosystem: Ecosystem;
  /** `debian:12`, `alpine:3.20`, `PyPI`, ... */
  namespace: string;
  /** Packages of the inventory matched in this namespace. */
  packages: number;
  /**
   * False when the DB holds no statement at all for this namespace: zero findings then mean "not
   * checked", not "clean" (a warning `no-vulnerability-data` says so too).
   */
  hasData: boolean;
  /**
   * `--os-owned skip` only: language packages installed by an OS package (`osOwner`, or the path
   * heuristic `distroPackaged`) that were left out of matching; their OS package is matched through
   * the distribution's feed. Absent when none.
   */
  distroPackaged?: number;
}

export interface MatchResult {
  /** Affected packages, most severe first. Empty for an empty inventory. */
  findings: Finding[];
  /** Only with `includeNotAffected`: statements that do not affect the installed version, state `not_affected`. */
  notAffected?: Finding[];
  /** Packages that could not be matched: no namespace for their distro, no data for a namespace, invalid versions. */
  warnings: ScanWarning[];
  /** One entry per (package kind, namespace) the inventory has packages in, sorted. */
  coverage: NamespaceCoverage[];
}

/** The name an ecosystem compares package names by (its descriptor's normalisation; exact when it has none). */
function nameKey(ecosystem: Ecosystem, name: string): string {
  const normalize = ecosystemDescriptor(ecosystem).normalizeName;
  if (normalize === undefined) return name;
  // Every statement a package of such an ecosystem meets is keyed again on each match: remember the
  // normalized names (bounded, emptied when full, like the version schemes' parse memo).
  let memo = normalizedKeys.get(ecosystem);
  if (memo === undefined) {
    memo = new Map();
    normalizedKeys.set(ecosystem, memo);
  }
  let key = memo.get(name);
  if (key === undefined) {
    key = normalize(name);
    if (memo.size >= 50_000) memo.clear();
    memo.set(name, key);
  }
  return key;
}
const normalizedKeys = new Map<Ecosystem, Map<string, string>>();

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
/** CVE_ID.test, with a cheap first look (most ids of a large match are GHSA, PYSEC ...). */
function isCve(id: string): boolean {
  return id.startsWith('CVE-') && CVE_ID.test(id);
}
/** Distribution records of one CVE (`UBUNTU-CVE-2020-1234`, `DEBIAN-CVE-2020-1234`). */
const EMBEDDED_CVE = /^[A-Z]+-(CVE-\d{4}-\d{4,})$/;
/** Red Hat-family bug-fix and enhancement errata (RHBA, ALEA, ...): no vulnerability unless they name a CVE. */
const NON_SECURITY_ERRATUM = /^(RH|AL|RL|OL)[BE]A-/;
/**
 * Titles of distribution advisories that fix no vulnerability (Debian: `tzdata - new upstream
 * version`, `postgresql-11 - bugfix update`, `... - end-of-life`; Red Hat family: `bug fix and
 * enhancement update`, `new packages: ...`).
 */
const NON_SECURITY_TITLE = /\b(bug ?fix|enhancement|new upstream (version|release)|new packages?|new module|new timezone database|database update|version number correction|end-of-life)\b|^\S+ - update$/i;
/**
 * A regression update (DSA-5356-2, DLA-3331-2) repairs a regression the earlier security update
 * caused; the vulnerabilities it re-lists were fixed by that earlier advisory, which the feed holds too.
 */
const REGRESSION_TITLE = /\bregression update\b/i;

/**
 * The vulnerabilities one advisory reports for OS packages. Distribution advisories that fix several
 * CVEs (DSA, DLA, RHSA, ALSA, USN) are reported once per CVE, so every distribution's findings are
 * keyed alike and a DSA meets the tracker's record of the same CVE as one finding; the advisory's
 * id becomes an alias. A CVE-keyed record and an advisory naming no CVE are reported as themselves.
 */
function osVulnerabilityIds(advisory: Advisory): string[] {
  if (CVE_ID.test(advisory.id)) return [advisory.id];
  const embedded = EMBEDDED_CVE.exec(advisory.id)?.[1];
  if (embedded !== undefined) return [embedded];
  const cves = [...new Set([...advisory.aliases, ...(advisory.related ?? [])].filter((id) => CVE_ID.test(id)))];
  return cves.length > 0 ? cves : [advisory.id];
}

function namesAnyCve(advisory: Advisory): boolean {
  return [advisory.id, ...advisory.aliases, ...(advisory.related ?? [])].some((id) => CVE_ID.test(id) || EMBEDDED_CVE.test(id));
}

/**
 * Distribution advisories that are no vulnerability report: bug-fix, enhancement, new-package and
 * regression errata, unless (for all but regressions) they name a CVE. Reporting them would flag
 * every older build as vulnerable.
 */
export function isNonSecurityAdvisory(advisory: Advisory): boolean {
  const title = advisory.title ?? '';
  if (REGRESSION_TITLE.test(title)) return true;
  if (namesAnyCve(advisory) || /\bsecurity\b/i.test(title)) return false;
  return NON_SECURITY_ERRATUM.test(advisory.id) || NON_SECURITY_TITLE.test(title);
}

/** The version of `p` that a statement about its binary or source package is judged against. */
function versionFor(p: InventoryPackage, kind: AffectedPackage['nameKind']): string {
  if (isOsEcosystem(p.ecosystem)) return kind === 'source' ? (p.sourceVersion ?? p.version) : p.version;
  return matchVersionOf(p);
}

/** One statement an AdvisoryStore found for a package name, with its advisory. */
export interface Candidate {
  advisory: Advisory;
  affected: AffectedPackage;
  /**
   * A slot the matcher may fill with what it derives from the statement (see the vulnerability DB's
   * AffectedMatch.memo); a source never reads it.
   */
  memo?: unknown;
}

/** One (package, vulnerability) judgement before findings of several records are merged. */
interface Hit {
  p: InventoryPackage;
  vulnId: string;
  advisory: Advisory;
  affected: AffectedPackage;
  info: StatementInfo;
  verdict: AffectedVerdict;
  version: string;
  /** Which record leads when several fold into one finding (see rankOf): lower first. */
  rank: number;
}

/** Leading records first: keyed by the vulnerability itself and a CVE (0), keyed by itself (1), a CVE out of a fix advisory (2). */
function rankOf(vulnId: string, advisory: Advisory): number {
  if (vulnId === advisory.id) return isCve(vulnId) ? 0 : 1;
  return 2;
}

/**
 * The ids that make two hits the same vulnerability. A record reported as itself answers to its id
 * and aliases (a PYSEC and its GHSA and CVE); a CVE reported out of a fix advisory answers to that
 * CVE only: the advisory's id is shared by every CVE it fixes and must not join them.
 */
function sameVulnerabilityKeys(h: Hit): string[] {
  return h.vulnId === h.advisory.id ? [h.advisory.id, ...h.advisory.aliases] : [h.vulnId];
}

/**
 * Matches an inventory against the vulnerability data: OS packages (deb, rpm, apk) through their
 * distribution release's namespace (`distroNamespace`) by source or binary package name, as each
 * statement says; language packages through their OSV ecosystem. Affected statements become
 * findings, fixed or not (`unfixed` keeps the vendor's word: needed, postponed, will-not-fix ...);
 * not-affected ones are left out unless `includeNotAffected`. Withdrawn advisories are never
 * reported; versions the package's scheme cannot read are never judged (one `invalid-version`
 * warning per package). Records of the same vulnerability for the same package (a DSA and the
 * tracker's CVE, a PYSEC and its GHSA) become one finding. Each namespace without any data in the
 * DB gets a `no-vulnerability-data` warning and `hasData: false` in `coverage`. An empty inventory
 * gives no findings, no warnings and no coverage.
 *
 * The store is asked in batches (feeds and namespaces, then every group's statements in one call,
 * then the owners' distribution statements and the enrichment when there are findings to ask for);
 * the judging in between is synchronous over what was fetched.
 */
export async function matchInventory(inventory: Inventory, store: AdvisoryStore, options: MatchOptions = {}): Promise<MatchResult> {
  const signal = options.signal;
  throwIfCancelled(signal, 'matching');
  // The judging is done by synchronous functions between the waits: an async function's own body
  // is not where a hot loop should run.
  const plan = planMatch(inventory, options);
  const [feeds, known] = await Promise.all([store.feedList(), namespacesIn(store, new Set([...plan.groups.values()].map((g) => g.ecosystem)))]);
  throwIfCancelled(signal, 'matching');
  const hasData = (ecosystem: Ecosystem, namespace: string): boolean => known.get(ecosystem)?.has(namespace) === true;
  const { lookups, lookupOf } = lookupsOf(plan, hasData);
  const statements = lookups.length > 0 ? await store.affectedForMany(lookups) : [];
  throwIfCancelled(signal, 'matching');
  const out = judgeGroups(plan, feeds, hasData, statements, lookupOf, options);
  if (plan.osOwned === 'distro') out.findings = await applyDistroVerdicts(out, plan.osNamespace, store);
  throwIfCancelled(signal, 'matching');
  const cves = cvesOf(out.findings);
  if (cves.length > 0) {
    const byCve = await store.enrichmentFor(cves);
    throwIfCancelled(signal, 'matching');
    if (byCve.size > 0) enrich(out.findings, byCve);
  }
  return finishMatch(out, plan, options);
}

interface PackageGroup {
  ecosystem: Ecosystem;
  namespace: string;
  packages: InventoryPackage[];
  distroPackaged: number;
}

/** How an inventory's packages are matched: grouped by (kind, namespace), one lookup per group. */
interface MatchPlan {
  osNamespace: string | undefined;
  osOwned: OsOwnedMode;
  groups: Map<string, PackageGroup>;
  warnings: ScanWarning[];
}

function planMatch(inventory: Inventory, options: MatchOptions): MatchPlan {
  const warnings: ScanWarning[] = [];
  const osNamespace = inventory.distro ? distroNamespace(inventory.distro) : undefined;
  const osOwned = options.osOwned ?? 'distro';
  const groups = new Map<string, PackageGroup>();
  const unplaced = new Map<Ecosystem, InventoryPackage[]>();
  for (const p of inventory.packages) {
    const isOs = isOsEcosystem(p.ecosystem);
    const namespace = isOs ? osNamespace : languageNamespace(p.ecosystem);
    if (namespace === undefined) {
      const list = unplaced.get(p.ecosystem) ?? [];
      list.push(p);
      unplaced.set(p.ecosystem, list);
      continue;
    }
    const key = `${p.ecosystem}\u0000${namespace}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { ecosystem: p.ecosystem, namespace, packages: [], distroPackaged: 0 };
      groups.set(key, group);
    }
    // `skip`: a language package the distribution installed is left to its distribution package.
    if (!isOs && osOwned === 'skip' && (p.osOwner !== undefined || p.attributes?.['distroPackaged'] !== undefined)) {
      group.distroPackaged++;
      continue;
    }
    group.packages.push(p);
  }
  for (const [ecosystem, list] of unplaced) {
    const first = list[0];
    const release = inventory.distro ? `${inventory.distro.id}${inventory.distro.versionId ? ` ${inventory.distro.versionId}` : ''}` : 'an unknown distribution';
    warnings.push({
      code: 'no-namespace',
      message: `matcher: no vulnerability namespace for ${ecosystem} packages of ${release}; ${list.length} ${ecosystem} package(s) were not checked`,
      ...(first ? { path: first.path } : {}),
    });
  }
  return { osNamespace, osOwned, groups, warnings };
}

/** Every covered group's lookup, in group order (one batch). */
function lookupsOf(plan: MatchPlan, hasData: (ecosystem: Ecosystem, namespace: string) => boolean): { lookups: AdvisoryLookup[]; lookupOf: Map<string, number> } {
  const lookups: AdvisoryLookup[] = [];
  const lookupOf = new Map<string, number>();
  for (const [key, group] of plan.groups) {
    if (!hasData(group.ecosystem, group.namespace)) continue;
    const packageNames = groupNames(group.ecosystem, group.packages);
    if (packageNames.length === 0) continue;
    lookupOf.set(key, lookups.length);
    lookups.push({ ecosystem: group.ecosystem, namespace: group.namespace, packageNames });
  }
  return { lookups, lookupOf };
}

/** Judges every group against its statements; fills the plan's warnings and coverage. */
function judgeGroups(
  plan: MatchPlan,
  feeds: readonly FeedMetadata[],
  hasData: (ecosystem: Ecosystem, namespace: string) => boolean,
  statements: readonly (readonly Candidate[])[],
  lookupOf: ReadonlyMap<string, number>,
  options: MatchOptions,
): Folded {
  const feedDates = new Map(feeds.map((f) => [f.feed, f.fetchedAt]));
  // Which ids each finding answers to: only needed to keep affected vulnerabilities out of notAffected.
  const keysOf = options.includeNotAffected ? new Map<Finding, string[]>() : undefined;
  const out: Folded = { feedDates, keysOf, findings: [], misses: [], coverage: [] };
  const warnings = plan.warnings;
  for (const [key, group] of plan.groups) {
    const covered = hasData(group.ecosystem, group.namespace);
    out.coverage.push({
      ecosystem: group.ecosystem,
      namespace: group.namespace,
      packages: group.packages.length,
      hasData: covered,
      ...(group.distroPackaged > 0 ? { distroPackaged: group.distroPackaged } : {}),
    });
    if (!covered) {
      if (group.packages.length > 0) {
        warnings.push({
          code: 'no-vulnerability-data',
          message: `matcher: the vulnerability database has no data for ${group.namespace}; its ${group.packages.length} ${group.ecosystem} package(s) were not checked`,
        });
      }
      continue;
    }
    const at = lookupOf.get(key);
    if (at !== undefined) matchGroup(group.ecosystem, group.namespace, group.packages, statements[at] ?? [], options, out, warnings);
  }
  out.coverage.sort((a, b) => cmp(a.ecosystem, b.ecosystem) || cmp(a.namespace, b.namespace));
  return out;
}

/** Sorts the findings and, with includeNotAffected, keeps the misses no finding of the same package and vulnerability contradicts. */
function finishMatch(out: Folded, plan: MatchPlan, options: MatchOptions): MatchResult {
  const findings = out.findings;
  sortFindings(findings);
  const result: MatchResult = { findings, warnings: plan.warnings, coverage: out.coverage };
  if (options.includeNotAffected) {
    const keys = out.keysOf ?? new Map<Finding, string[]>();
    const affectedKeys = new Set(findings.flatMap((f) => (keys.get(f) ?? [f.id]).map((id) => `${packageKey(f.package)}\u0000${id}`)));
    const notAffected = out.misses.filter((f) => !(keys.get(f) ?? [f.id]).some((id) => affectedKeys.has(`${packageKey(f.package)}\u0000${id}`)));
    for (const f of notAffected) {
      f.state = 'not_affected';
      f.fixedVersions = [];
      delete f.vendorStatus;
    }
    sortFindings(notAffected);
    result.notAffected = notAffected;
  }
  return result;
}

/**
 * The namespaces a store holds data for, per package kind, asked once per store: a vulnerability
 * DB does not change while it is open (an update writes a new file), and listing them scans the
 * whole kind.
 */
const knownNamespaces = new WeakMap<AdvisoryStore, Map<Ecosystem, ReadonlySet<string>>>();
async function namespacesIn(store: AdvisoryStore, ecosystems: Iterable<Ecosystem>): Promise<Map<Ecosystem, ReadonlySet<string>>> {
  let byKind = knownNamespaces.get(store);
  if (byKind === undefined) {
    byKind = new Map();
    knownNamespaces.set(store, byKind);
  }
  const out = new Map<Ecosystem, ReadonlySet<string>>();
  for (const ecosystem of ecosystems) {
    let set = byKind.get(ecosystem);
    if (set === undefined) {
      set = new Set(await store.namespacesFor(ecosystem));
      byKind.set(ecosystem, set);
    }
    out.set(ecosystem, set);
  }
  return out;
}

/** Where matchGroup puts what it finds: findings (and, with includeNotAffected, not-affected ones), folded per package. */
interface Folded {
  feedDates: ReadonlyMap<string, string>;
  keysOf: Map<Finding, string[]> | undefined;
  findings: Finding[];
  misses: Finding[];
  coverage: NamespaceCoverage[];
}

/**
 * `--os-owned distro`: lets the distribution's data judge findings of language packages an OS
 * package installed. For each such finding naming a CVE (as its id or an alias), the statements of
 * the owner's distribution namespace about the owning package (source or binary name, as each
 * statement says) and that CVE are judged against the owner's installed version. When there are
 * statements and none says affected, the distribution fixed (or was never affected by) the
 * vulnerability in its build: the finding moves to the not-affected list (kept only with
 * includeNotAffected, where `why.distro` gives the record and rule). Otherwise it stays, with
 * `why.distro` saying what the distribution's data said. Returns the findings that stay.
 */
async function applyDistroVerdicts(out: Folded, osNamespace: string | undefined, store: AdvisoryStore): Promise<Finding[]> {
  const owned = out.findings.filter((f) => f.package.osOwner !== undefined);
  if (owned.length === 0) return out.findings;

  // One lookup per owner package kind, with every owning package's source and binary name; all in one batch.
  const statements = new Map<OsEcosystem, Map<string, Candidate[]>>();
  const known = osNamespace === undefined ? undefined : await namespacesIn(store, new Set(owned.map((f) => (f.package.osOwner as OsOwner).ecosystem)));
  const lookups: AdvisoryLookup[] = [];
  const into: Map<string, Candidate[]>[] = [];
  for (const f of owned) {
    const owner = f.package.osOwner as OsOwner;
    if (statements.has(owner.ecosystem)) continue;
    const byName = new Map<string, Candidate[]>();
    statements.set(owner.ecosystem, byName);
    if (osNamespace === undefined || known?.get(owner.ecosystem)?.has(osNamespace) !== true) continue;
    const names = new Set<string>();
    for (const g of owned) {
      if (g.package.osOwner?.ecosystem !== owner.ecosystem) continue;
      names.add(g.package.osOwner.name);
      names.add(g.package.osOwner.sourceName ?? g.package.osOwner.name);
    }
    lookups.push({ ecosystem: owner.ecosystem, namespace: osNamespace, packageNames: [...names] });
    into.push(byName);
  }
  const found = lookups.length > 0 ? await store.affectedForMany(lookups) : [];
  for (let i = 0; i < into.length; i++) {
    const byName = into[i] as Map<string, Candidate[]>;
    for (const c of found[i] ?? []) {
      const list = byName.get(c.affected.packageName);
      if (list) list.push(c);
      else byName.set(c.affected.packageName, [c]);
    }
  }

  const cleared = new Set<Finding>();
  for (const f of owned) {
    const owner = f.package.osOwner as OsOwner;
    const verdict = distroVerdict(f, owner, statements.get(owner.ecosystem), osNamespace);
    f.why = { ...f.why, distro: verdict.text };
    if (verdict.cleared) cleared.add(f);
  }
  if (cleared.size === 0) return out.findings;
  for (const f of cleared) out.misses.push(f);
  return out.findings.filter((f) => !cleared.has(f));
}

/** What the owner's distribution data says of one finding: cleared (not affected there) or not, in words. */
function distroVerdict(f: Finding, owner: OsOwner, byName: Map<string, Candidate[]> | undefined, osNamespace: string | undefined): { cleared: boolean; text: string } {
  const who = describeOwner(owner);
  const cves = [f.id, ...f.aliases].filter(isCve);
  if (cves.length === 0) return { cleared: false, text: `${who}: ${f.id} names no CVE, which distribution data is keyed by; kept` };
  if (osNamespace === undefined || byName === undefined) return { cleared: false, text: `${who}: no distribution namespace to ask; kept` };
  const scheme = schemeForEcosystem(owner.ecosystem);
  const judged: { affected: boolean; text: string }[] = [];
  for (const kind of ['binary', 'source'] as const) {
    const name = kind === 'source' ? (owner.sourceName ?? owner.name) : owner.name;
    const version = kind === 'source' ? (owner.sourceVersion ?? owner.version) : owner.version;
    for (const c of byName.get(name) ?? []) {
      const info = infoOf(c);
      if (info.nameKind !== kind || info.withdrawn || info.nonSecurity()) continue;
      if (info.arches !== undefined && owner.arch && !info.arches.includes(owner.arch)) continue;
      if (!info.osIds().some((id) => cves.includes(id))) continue;
      if (!scheme.isValid(version)) continue;
      if (info.prepared === undefined || info.prepared.scheme !== scheme) info.prepared = prepareStatement(scheme, c.affected);
      const verdict = judgeStatement(info.prepared, version, true);
      judged.push({ affected: verdict.affected, text: `${c.advisory.feed} ${c.advisory.id} ${statementText(c.affected)}: ${verdict.rule}` });
    }
  }
  if (judged.length === 0) return { cleared: false, text: `${who}: ${osNamespace} has no record of ${cves.join(', ')} for it; kept` };
  const affected = judged.filter((j) => j.affected);
  if (affected.length > 0) return { cleared: false, text: `${who}: still affected per ${affected.map((j) => j.text).join('; ')}` };
  return { cleared: true, text: `${who}: not affected per ${judged.map((j) => j.text).join('; ')}` };
}

/** The names a group's statements are looked up by: each package's name, and an OS package's source name. */
function groupNames(ecosystem: Ecosystem, packages: InventoryPackage[]): string[] {
  const isOs = isOsEcosystem(ecosystem);
  const names = new Set<string>();
  for (const p of packages) {
    names.add(p.name);
    if (isOs && p.sourceName) names.add(p.sourceName);
  }
  return [...names];
}

function matchGroup(ecosystem: Ecosystem, namespace: string, packages: InventoryPackage[], candidates: readonly Candidate[], options: MatchOptions, out: Folded, warnings: ScanWarning[]): void {
  const scheme = schemeForEcosystem(ecosystem);
  const isOs = isOsEcosystem(ecosystem);
  const byName = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = nameKey(ecosystem, c.affected.packageName);
    const list = byName.get(key);
    if (list === undefined) byName.set(key, [c]);
    else list.push(c);
  }
  if (byName.size === 0) return;

  const explain = options.includeNotAffected === true;
  // One package's judgements, folded into findings as soon as the package is done (so they are
  // short-lived: a large match keeps only its findings).
  const hits: Hit[] = [];
  const misses: Hit[] = [];
  for (const p of packages) {
    // Which statements speak of this package: language names are one name; OS statements say
    // whether they name the source package (Debian, Ubuntu, Alpine origins) or the binary (AlmaLinux).
    // Binary statements first, then source ones (the order findings of one vulnerability fold in).
    const binaryList = byName.get(nameKey(ecosystem, p.name));
    const sourceList = isOs ? byName.get(p.sourceName ?? p.name) : undefined;
    if (binaryList === undefined && sourceList === undefined) continue;
    const stream = moduleStream(p);
    let warned = false;
    for (let pass = 0; pass < 2; pass++) {
      const list = pass === 0 ? binaryList : sourceList;
      if (list === undefined) continue;
      const kind: AffectedPackage['nameKind'] = pass === 0 ? 'binary' : 'source';
      // The version this kind of statement is judged against, and whether the scheme reads it: found once.
      let version: string | undefined;
      let valid = false;
      for (const c of list) {
        const info = infoOf(c);
        const { advisory, affected } = info;
        if (isOs && info.nameKind !== kind) continue;
        if (info.withdrawn) continue;
        if (isOs && info.nonSecurity()) continue;
        if (info.arches !== undefined && p.arch && !info.arches.includes(p.arch) && p.arch !== 'noarch') continue;
        if (info.module !== stream) continue;
        if (version === undefined) {
          version = versionFor(p, kind);
          valid = scheme.isValid(version);
        }
        if (!valid) {
          if (!warned) {
            warned = true;
            warnings.push({ code: 'invalid-version', message: `matcher: ${scheme.id} cannot read version ${JSON.stringify(version)} of ${p.name}; it was not checked against ${namespace} data`, path: p.path });
          }
          continue;
        }
        if (info.prepared === undefined || info.prepared.scheme !== scheme) info.prepared = prepareStatement(scheme, affected);
        const verdict = judgeStatement(info.prepared, version, explain);
        if (verdict === undefined) continue;
        const into = verdict.affected ? hits : misses;
        if (!isOs) {
          into.push({ p, vulnId: advisory.id, advisory, affected, info, verdict, version, rank: rankOf(advisory.id, advisory) });
          continue;
        }
        for (const vulnId of info.osIds()) into.push({ p, vulnId, advisory, affected, info, verdict, version, rank: rankOf(vulnId, advisory) });
      }
    }
    if (hits.length > 0) {
      foldHits(hits, out.feedDates, out.keysOf, out.findings);
      hits.length = 0;
    }
    if (misses.length > 0) {
      foldHits(misses, out.feedDates, out.keysOf, out.misses);
      misses.length = 0;
    }
  }
}

/**
 * What the hot loop reads of a statement and its advisory, worked out once per statement object
 * (the DB shares parsed advisories between calls) and held in one object of one shape: statements
 * parsed from JSON come in many shapes, and reading the same fields of each is slow.
 */
class StatementInfo {
  /** The advisory it was made with: a statement object may be shared by copies of its advisory. */
  readonly advisory: Advisory;
  readonly affected: AffectedPackage;
  readonly nameKind: AffectedPackage['nameKind'];
  readonly withdrawn: boolean;
  /** The architectures the statement is limited to; undefined when it names none. */
  readonly arches: string[] | undefined;
  /** The module stream the statement is about; undefined when none (an empty string is none). */
  readonly module: string | undefined;
  /** The statement prepared for judging, made when first judged. */
  prepared: PreparedStatement | undefined = undefined;
  /** What a finding takes from it, made when it first makes one. */
  facts: StatementFacts | undefined = undefined;
  private nonSecurityMemo: boolean | undefined = undefined;
  private osIdsMemo: string[] | undefined = undefined;

  constructor(advisory: Advisory, affected: AffectedPackage) {
    this.advisory = advisory;
    this.affected = affected;
    this.nameKind = affected.nameKind;
    this.withdrawn = Boolean(advisory.withdrawn);
    this.arches = affected.arches && affected.arches.length > 0 ? affected.arches : undefined;
    this.module = affected.module || undefined;
  }

  /** A distribution advisory that fixes no vulnerability (isNonSecurityAdvisory); asked for OS packages only. */
  nonSecurity(): boolean {
    this.nonSecurityMemo ??= isNonSecurityAdvisory(this.advisory);
    return this.nonSecurityMemo;
  }

  /** The vulnerabilities it reports for OS packages (osVulnerabilityIds). */
  osIds(): string[] {
    this.osIdsMemo ??= osVulnerabilityIds(this.advisory);
    return this.osIdsMemo;
  }
}

/**
 * The info of a candidate, kept in the candidate's `memo` slot: the DB hands out the same object
 * for a statement while it caches its advisory, so a warm match looks nothing up, and a statement
 * dropped from the DB's cache takes its info along (no weak map to fill and sweep). A source
 * that makes new objects on every call gets new info on every call.
 */
function infoOf(c: Candidate): StatementInfo {
  const memo = c.memo;
  if (memo instanceof StatementInfo && memo.advisory === c.advisory && memo.affected === c.affected) return memo;
  const info = new StatementInfo(c.advisory, c.affected);
  c.memo = info;
  return info;
}

/**
 * The rpm module stream a package was built for: `name:stream` of its modularity label
 * (`nodejs:18:8090020231124112153:a75119d5` -> `nodejs:18`); undefined for a package built
 * outside any module. A label that is not `name:stream[:...]` is kept whole: it still marks a
 * modular build, one that no statement's stream names.
 *
 * A statement about a module stream (`module: nodejs:18`) applies only to builds of that stream,
 * and a statement without one only to builds outside every module: the same package name in
 * another stream, or outside modules, is another build with its own version line and fixes (as
 * claircore's and Red Hat's own matching read it).
 */
function moduleStream(p: InventoryPackage): string | undefined {
  const label = p.modularityLabel;
  if (label === undefined || label === '') return undefined;
  const first = label.indexOf(':');
  const second = first < 0 ? -1 : label.indexOf(':', first + 1);
  if (first <= 0) return label;
  return second < 0 ? label : label.slice(0, second);
}

function packageKey(p: Finding['package']): string {
  return `${p.purl}\u0000${p.path}`;
}

/**
 * A finding's `package` and `why.package`, made once per inventory package: a package with many
 * findings shares one (read-only) object, which keeps a large match light on memory.
 */
const packageViews = new WeakMap<InventoryPackage, { view: Finding['package']; text: Map<string, string> }>();
function packageView(p: InventoryPackage): { view: Finding['package']; text: Map<string, string> } {
  let cached = packageViews.get(p);
  if (cached === undefined) {
    const view: Finding['package'] = {
      ecosystem: p.ecosystem,
      name: p.name,
      version: p.version,
      ...(p.sourceName ? { sourceName: p.sourceName } : {}),
      ...(p.sourceVersion ? { sourceVersion: p.sourceVersion } : {}),
      ...(p.arch ? { arch: p.arch } : {}),
      purl: p.purl,
      path: p.path,
      layer: p.layer,
      layerIndex: p.layerIndex,
    };
    if (p.osOwner !== undefined) view.osOwner = p.osOwner;
    cached = { view, text: new Map() };
    packageViews.set(p, cached);
  }
  return cached;
}

function hitPackageText(p: InventoryPackage, version: string, scheme: VersionScheme['id']): string {
  const cache = packageView(p).text;
  const known = cache.get(version);
  if (known !== undefined) return known;
  const source = p.sourceName && (p.sourceName !== p.name || (p.sourceVersion ?? p.version) !== p.version) ? `, source ${p.sourceName} ${p.sourceVersion ?? p.version}` : '';
  // A language package judged under another spelling of its version (Go's `go1.21.5` as `v1.21.5`) says so.
  const judgedAs = !isOsEcosystem(p.ecosystem) && version !== p.version ? ` (${scheme} ${version})` : '';
  const owner = p.osOwner ? `, installed by ${describeOwner(p.osOwner)}` : '';
  const text = `${p.ecosystem} ${p.name} ${p.version}${judgedAs}${source} from ${p.path}${owner} (layer ${p.layerIndex} ${p.layer})`;
  cache.set(version, text);
  return text;
}

/**
 * What a finding takes from its statement and advisory alone, worked out once per statement (the
 * DB shares parsed advisories between calls, so a warm match reuses it): the ratings in order with
 * the severity they give, and per vulnerability id the aliases, links and the words of `why.advisory`.
 * Arrays handed to findings are copies where a finding may be changed later (ratings grow when
 * records fold or enrichment adds CVSS).
 */
interface StatementFacts {
  ratings: SeverityRating[];
  severity: Severity;
  severitySource: string;
  feed: string;
  namespace: string;
  vendorStatus: string | undefined;
  title: string | undefined;
  description: string | undefined;
  text: string;
  /** Per vulnerability id: for the advisory's own id, and (OS fix advisories) per CVE it fixes. */
  self: VulnFacts | undefined;
  byVuln: Map<string, VulnFacts> | undefined;
}

interface VulnFacts {
  aliases: string[];
  links: string[];
  advisoryText: string;
}

function factsOf(h: Hit): StatementFacts {
  if (h.info.facts !== undefined) return h.info.facts;
  const { advisory, affected } = h;
  // The per-package rating first (the vendor's word for this package), then the advisory's; the
  // same rating given at both levels (Ubuntu's priority) is kept once.
  const ratings: SeverityRating[] = affected.severity ? [affected.severity] : [];
  for (const r of advisory.severities) {
    if (!ratings.some((x) => x.source === r.source && x.type === r.type && x.value === r.value)) ratings.push(r);
  }
  const { severity, source } = chooseSeverity(ratings);
  const facts: StatementFacts = {
    ratings,
    severity,
    severitySource: source,
    feed: advisory.feed,
    namespace: affected.namespace,
    vendorStatus: affected.vendorStatus || undefined,
    title: advisory.title || undefined,
    description: advisory.description || undefined,
    text: statementText(affected),
    self: undefined,
    byVuln: undefined,
  };
  h.info.facts = facts;
  return facts;
}

function vulnFacts(advisory: Advisory, facts: StatementFacts, vulnId: string): VulnFacts {
  const own = vulnId === advisory.id;
  let known = own ? facts.self : facts.byVuln?.get(vulnId);
  if (known === undefined) {
    // Reported as itself: its aliases. Reported per CVE out of a fix advisory: the advisory's id and its
    // aliases that are no CVE (the other CVEs it fixes are other findings).
    const aliases = own ? advisory.aliases.filter((a) => a !== vulnId) : [advisory.id, ...advisory.aliases.filter((a) => a !== vulnId && a !== advisory.id && !CVE_ID.test(a))];
    const about = own ? '' : ` (fixes ${vulnId})`;
    known = { aliases, links: linksFor(advisory, vulnId), advisoryText: `${advisory.feed} ${advisory.id}${about} ${facts.text}` };
    if (own) facts.self = known;
    else (facts.byVuln ??= new Map()).set(vulnId, known);
  }
  return known;
}

function statementText(affected: AffectedPackage): string {
  const fixedEvents = affected.ranges.filter((r) => r.type !== 'GIT').flatMap((r) => r.events.flatMap((e) => ('fixed' in e ? [e.fixed] : [])));
  let statement: string;
  if (affected.state === 'not_affected') statement = `not affected${affected.vendorStatus ? ` (${affected.vendorStatus})` : ''}`;
  else if (affected.state === 'unfixed') statement = `affected, no fix${affected.vendorStatus ? ` (${affected.vendorStatus})` : ''}`;
  else statement = `fixed${fixedEvents.length > 0 ? ` in ${[...new Set(fixedEvents)].join(', ')}` : affected.patched?.length ? ` in ${affected.patched.join(' | ')}` : ''}`;
  return `${affected.namespace} ${affected.packageName} (${affected.nameKind}${affected.module ? `, module ${affected.module}` : ''}): ${statement}`;
}

/** References of an advisory that concern `vulnId`: those naming another CVE are another CVE's. */
function linksFor(advisory: Advisory, vulnId: string): string[] {
  if (vulnId === advisory.id) return advisory.references;
  return advisory.references.filter((url) => {
    const named = url.match(/CVE-\d{4}-\d{4,}/g);
    return named === null || named.includes(vulnId);
  });
}

function toFinding(h: Hit, fetchedAt: string | undefined): Finding {
  const { p, advisory, verdict, vulnId } = h;
  const facts = factsOf(h);
  const vuln = vulnFacts(advisory, facts, vulnId);
  const state = verdict.fixed.length > 0 ? 'fixed' : 'unfixed';
  // Built field by field, in the order reports print them, rather than with conditional spreads
  // (each spread makes a temporary object; a large match makes tens of thousands of findings).
  const finding: Omit<Finding, 'fixedVersions' | 'severity' | 'severitySource' | 'ratings' | 'namespace' | 'feed' | 'links' | 'why' | 'evidence'> & Partial<Finding> = {
    id: vulnId,
    aliases: vuln.aliases.slice(),
    package: packageView(p).view,
    state,
  };
  if (state === 'unfixed' && facts.vendorStatus !== undefined) finding.vendorStatus = facts.vendorStatus;
  finding.fixedVersions = verdict.fixed;
  finding.severity = facts.severity;
  finding.severitySource = facts.severitySource;
  finding.ratings = facts.ratings.slice();
  finding.namespace = facts.namespace;
  finding.feed = fetchedAt ? { id: facts.feed, fetchedAt } : { id: facts.feed };
  if (facts.title !== undefined) finding.title = facts.title;
  if (facts.description !== undefined) finding.description = facts.description;
  finding.links = vulnId === advisory.id ? vuln.links : vuln.links.slice();
  const scheme = schemeForEcosystem(p.ecosystem).id;
  finding.why = { package: hitPackageText(p, h.version, scheme), advisory: vuln.advisoryText, rule: verdict.rule };
  finding.evidence = { package: { file: p.path, layer: p.layer, layerIndex: p.layerIndex }, matches: [matchRecord(h, scheme)] };
  return finding as Finding;
}

/** The advisory record of a hit and the rule that held, as data (what `why.advisory` and `why.rule` say in words). */
function matchRecord(h: Hit, scheme: VersionSchemeId): MatchRecord {
  const { advisory, affected, verdict } = h;
  const record: MatchRecord['advisory'] = { feed: advisory.feed, id: advisory.id, namespace: affected.namespace, packageName: affected.packageName, nameKind: affected.nameKind, state: affected.state };
  if (affected.vendorStatus) record.vendorStatus = affected.vendorStatus;
  if (advisory.published) record.published = advisory.published;
  if (advisory.modified) record.modified = advisory.modified;
  const rule: MatchRecord['rule'] = { scheme, installed: h.version, text: verdict.rule };
  if (verdict.basis) rule.basis = verdict.basis;
  return { advisory: record, rule };
}

/**
 * Vendor ratings first (they know their build; the first vendor rating that says something wins,
 * per-package ratings before advisory-wide ones), then CVSS of the newest version present (v4, v3,
 * v2), the highest score of that version; else Unknown.
 */
export function chooseSeverity(ratings: SeverityRating[]): { severity: Severity; source: string } {
  const vendor = ratings.find((r) => r.type === 'vendor' && r.normalized !== 'Unknown');
  if (vendor) return { severity: vendor.normalized, source: `${vendor.source} (${vendor.value})` };
  for (const type of ['CVSS_V4', 'CVSS_V3', 'CVSS_V2'] as const) {
    let best: SeverityRating | undefined;
    for (const r of ratings) {
      if (r.type !== type || r.normalized === 'Unknown') continue;
      if (!best || (r.score ?? -1) > (best.score ?? -1)) best = r;
    }
    if (best) return { severity: best.normalized, source: `${best.source} ${best.type}${best.score !== undefined ? ` ${best.score}` : ''}` };
  }
  return { severity: 'Unknown', source: 'none' };
}

/**
 * Folds one package's hits that name the same vulnerability into one finding: same id, or
 * linked through aliases (a PYSEC and its GHSA, both aliases of one CVE). The record keyed by the
 * vulnerability itself (the tracker's CVE record rather than the DSA that fixes it) leads; the
 * others add their ids as aliases, their fixed versions, ratings and links, and their `why`.
 */
function foldHits(list: Hit[], feedDates: ReadonlyMap<string, string>, keysOf: Map<Finding, string[]> | undefined, out: Finding[]): void {
  if (list.length === 1) {
    // One record about this package (the common case): nothing to fold.
    const h = list[0] as Hit;
    const f = toFinding(h, feedDates.get(h.advisory.feed));
    out.push(f);
    keysOf?.set(f, [...new Set([f.id, ...sameVulnerabilityKeys(h)])]);
    return;
  }
  // Leading records first (stable: otherwise in the order found); most packages' records share
  // one rank, and are taken as they are.
  let ranked = true;
  for (let i = 1; i < list.length && ranked; i++) ranked = (list[i - 1] as Hit).rank <= (list[i] as Hit).rank;
  if (!ranked) list.sort(byRank);
  const byKey = new Map<string, Finding>();
  for (const h of list) {
    const f = toFinding(h, feedDates.get(h.advisory.feed));
    // The keys of sameVulnerabilityKeys(h), read in place: key 0 is the id, then the aliases when reported as itself.
    const aliases = h.vulnId === h.advisory.id ? h.advisory.aliases : NO_IDS;
    let existing = byKey.get(h.vulnId);
    for (let k = 0; existing === undefined && k < aliases.length; k++) existing = byKey.get(aliases[k] as string);
    const target = existing ?? f;
    if (existing) absorb(existing, f);
    else out.push(f);
    if (!byKey.has(h.vulnId)) byKey.set(h.vulnId, target);
    for (const k of aliases) if (!byKey.has(k)) byKey.set(k, target);
    keysOf?.set(target, [...new Set([...(keysOf.get(target) ?? [target.id]), ...sameVulnerabilityKeys(h)])]);
  }
}

const NO_IDS: readonly string[] = [];

function byRank(a: Hit, b: Hit): number {
  return a.rank - b.rank;
}

function absorb(into: Finding, other: Finding): void {
  const aliases = new Set([...into.aliases, other.id, ...other.aliases]);
  aliases.delete(into.id);
  into.aliases = [...aliases];
  if (other.state === 'fixed') {
    into.fixedVersions = [...new Set([...into.fixedVersions, ...other.fixedVersions])];
    if (into.state === 'unfixed') {
      into.state = 'fixed';
      delete into.vendorStatus;
    }
  }
  into.links = [...new Set([...into.links, ...other.links])];
  for (const r of other.ratings) if (!into.ratings.some((x) => x.source === r.source && x.type === r.type && x.value === r.value)) into.ratings.push(r);
  const chosen = chooseSeverity(into.ratings);
  into.severity = chosen.severity;
  into.severitySource = chosen.source;
  if (!into.title && other.title) into.title = other.title;
  if (!into.description && other.description) into.description = other.description;
  into.why = { ...into.why, advisory: `${into.why.advisory}; ${other.why.advisory}`, rule: into.why.rule === other.why.rule ? into.why.rule : `${into.why.rule}; ${other.why.rule}` };
  into.evidence.matches.push(...other.evidence.matches);
}

/** The CVE ids enrichment is asked for: each finding's id and aliases that are CVEs. */
function cvesOf(findings: readonly Finding[]): string[] {
  const cves = new Set<string>();
  for (const f of findings) {
    if (isCve(f.id)) cves.add(f.id);
    for (const id of f.aliases) if (isCve(id)) cves.add(id);
  }
  return [...cves];
}

/** Adds CVSS from enrichment feeds (NVD), EPSS and KEV by CVE id (the finding's id and aliases). */
function enrich(findings: Finding[], byCve: ReadonlyMap<string, EnrichmentRecord>): void {
  for (const f of findings) {
    for (let i = -1; i < f.aliases.length; i++) {
      const record = byCve.get(i < 0 ? f.id : (f.aliases[i] as string));
      if (!record) continue;
      // Several CVEs (a finding folding records of different CVE ids is rare): the highest EPSS counts.
      if (record.epss && (!f.epss || record.epss.score > f.epss.score)) f.epss = record.epss;
      if (record.kev && !f.kev) {
        f.kev = {
          dateAdded: record.kev.dateAdded,
          ...(record.kev.dueDate ? { dueDate: record.kev.dueDate } : {}),
          ...(record.kev.knownRansomware !== undefined ? { knownRansomware: record.kev.knownRansomware } : {}),
        };
      }
      for (const c of record.cvss ?? []) {
        if (f.ratings.some((r) => r.value === c.vector && r.source === c.source)) continue;
        f.ratings.push({
          source: c.source,
          type: c.version === '4.0' ? 'CVSS_V4' : c.version === '2.0' ? 'CVSS_V2' : 'CVSS_V3',
          value: c.vector,
          score: c.score,
          normalized: severityFromScore(c.score, c.version satisfies CvssVersion),
        });
      }
    }
    const chosen = chooseSeverity(f.ratings);
    f.severity = chosen.severity;
    f.severitySource = chosen.source;
  }
}

/**
 * Most severe first, then by package name, path and id. Sorted per severity (bucketed, most severe
 * first), so the comparator only compares strings: ten thousand findings sort in a few ms.
 */
function sortFindings(findings: Finding[]): void {
  const buckets: Finding[][] = SEVERITIES.map(() => []);
  for (const f of findings) (buckets[SEVERITIES.indexOf(f.severity)] as Finding[]).push(f);
  let i = 0;
  for (let s = buckets.length - 1; s >= 0; s--) {
    const bucket = (buckets[s] as Finding[]).sort(byPackageThenId);
    for (let j = 0; j < bucket.length; j++) findings[i++] = bucket[j] as Finding;
  }
}

function byPackageThenId(a: Finding, b: Finding): number {
  return cmp(a.package.name, b.package.name) || cmp(a.package.path, b.package.path) || cmp(a.id, b.id);
}

/** Code-unit order: stable across locales, and far cheaper than localeCompare on large reports. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
