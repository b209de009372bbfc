/**
 * OSV records -> normalized advisories.
 *
 * Mapping choices (see README.md beside this file):
 * - `aliases` are OSV `aliases` only. `related` gathers OSV `related` and `upstream`, the CVE behind
 *   `UBUNTU-CVE-*`/`DEBIAN-CVE-*` ids, and CVE ids named in reference URLs (AlmaLinux records name
 *   their CVEs only there): ids useful for enrichment, never the same record.
 * - Go versions get the `v` prefix of Go's own syntax (`1.2.3` -> `v1.2.3`); the `0` sentinel stays.
 * - state is `fixed` when any range has a `fixed` event, else `unfixed`.
 * - Ubuntu Pro statements get their own `ubuntu:<release>:esm` namespace (see ecosystems.ts);
 *   RustSec informational advisories carry their kind (`unmaintained`, `unsound`, `notice`) in
 *   vendorStatus.
 */
import type { Advisory, AffectedPackage, RangeEvent, SeverityRating, VersionRange } from '../../domain/advisory.js';
import type { AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { severityRank } from '../../domain/severity.js';
import { cvssRating, vendorRating } from '../severity.js';
import { isoDate, newestDate, parseYaml, unique } from '../text.js';
import { mapOsvEcosystem, type OsvEcosystemMapping } from './ecosystems.js';
import { osvRecordSchema, type OsvAffected, type OsvRange, type OsvRecord } from './schema.js';

const CVE_RE = /CVE-\d{4}-\d{4,}/g;
const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const RANGE_TYPES = new Set(['ECOSYSTEM', 'SEMVER', 'GIT']);

/** Who speaks in a record, from its id prefix: used as the `source` of its severity ratings. */
export function osvSource(id: string): string {
  const prefix = id.split('-')[0]?.toUpperCase() ?? '';
  switch (prefix) {
    case 'GHSA':
      return 'ghsa';
    case 'GO':
      return 'go';
    case 'PYSEC':
      return 'pypa';
    case 'RUSTSEC':
      return 'rustsec';
    case 'ALSA':
    case 'ALBA':
    case 'ALEA':
      return 'almalinux';
    case 'RLSA':
    case 'RXSA':
    case 'RLBA':
    case 'RLEA':
      return 'rocky';
    case 'UBUNTU':
    case 'USN':
    case 'LSN':
      return 'ubuntu';
    case 'DSA':
    case 'DLA':
    case 'DTSA':
    case 'DEBIAN':
      return 'debian';
    default:
      return 'osv';
  }
}

function convertVersion(mapping: OsvEcosystemMapping, rangeType: string, version: string): string {
  // Go's vulndb writes module versions without the `v` that Go itself (and our go scheme) uses.
  if (mapping.scheme === 'go' && rangeType !== 'GIT' && version !== '0' && /^\d/.test(version)) return `v${version}`;
  return version;
}

function convertRange(mapping: OsvEcosystemMapping, range: OsvRange): VersionRange | undefined {
  if (!RANGE_TYPES.has(range.type)) return undefined;
  const type = range.type as VersionRange['type'];
  const events: RangeEvent[] = [];
  for (const event of range.events ?? []) {
    for (const kind of EVENT_KINDS) {
      const value = event[kind];
      if (value === undefined || value === null) continue;
      const v = convertVersion(mapping, type, String(value));
      events.push({ [kind]: v } as RangeEvent);
      break;
    }
  }
  if (events.length === 0) return undefined;
  return { type, events };
}

function severitiesOf(source: string, list: { type: string; score: string }[] | null | undefined): SeverityRating[] {
  const out: SeverityRating[] = [];
  for (const s of list ?? []) {
    const value = s.score.trim();
    if (value === '') continue;
    if (s.type === 'CVSS_V2' || s.type === 'CVSS_V3' || s.type === 'CVSS_V4') out.push(cvssRating(source, value));
    else if (s.type === 'Ubuntu') out.push(vendorRating('ubuntu', value));
    // Unknown severity types are producers' extensions we cannot interpret: left out.
  }
  // Producers repeat identical vectors (Ubuntu lists NVD's and its own); keep one of each.
  const seen = new Set<string>();
  return out.filter((r) => {
    const key = `${r.source}|${r.type}|${r.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function stringField(record: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const v = record?.[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * Ubuntu notices (USN) give each CVE's Ubuntu priority in `database_specific.cves_map`; the
 * package's rating is the highest of them. Undefined when there is none.
 */
function ubuntuPriority(affected: OsvAffected): SeverityRating | undefined {
  const map = affected.database_specific?.cves_map;
  if (typeof map !== 'object' || map === null) return undefined;
  const cves = (map as { cves?: unknown }).cves;
  if (!Array.isArray(cves)) return undefined;
  let best: SeverityRating | undefined;
  for (const cve of cves) {
    const list = (cve as { severity?: unknown } | null)?.severity;
    if (!Array.isArray(list)) continue;
    for (const s of list) {
      const { type, score } = (s ?? {}) as { type?: unknown; score?: unknown };
      if (type !== 'Ubuntu' || typeof score !== 'string') continue;
      const rating = vendorRating('ubuntu', score);
      if (best === undefined || severityRank(rating.normalized) > severityRank(best.normalized)) best = rating;
    }
  }
  return best;
}

function convertAffected(affected: OsvAffected, source: string): AffectedPackage | undefined {
  const pkg = affected.package;
  if (pkg === null || pkg === undefined) return undefined;
  const mapping = mapOsvEcosystem(pkg.ecosystem);
  if (mapping === undefined || pkg.name === '') return undefined;

  const ranges = (affected.ranges ?? []).map((r) => convertRange(mapping, r)).filter((r): r is VersionRange => r !== undefined);
  const versions = unique((affected.versions ?? []).map((v) => convertVersion(mapping, 'ECOSYSTEM', v)));
  const fixed = ranges.some((r) => r.events.some((e) => 'fixed' in e));

  const out: AffectedPackage = {
    ecosystem: mapping.ecosystem,
    namespace: mapping.namespace,
    packageName: pkg.name,
    nameKind: mapping.nameKind,
    scheme: mapping.scheme,
    state: fixed ? 'fixed' : 'unfixed',
    ranges,
    versions,
  };

  const informational = stringField(affected.database_specific, 'informational');
  if (informational !== undefined) out.vendorStatus = informational;

  const perPackage = severitiesOf(source, affected.severity);
  const label = stringField(affected.database_specific, 'severity');
  const rating = perPackage[0] ?? (label !== undefined ? vendorRating(source, label) : undefined) ?? ubuntuPriority(affected);
  if (rating !== undefined) out.severity = rating;

  // Rocky and AlmaLinux module streams are written in the package purl or database_specific.
  const module = stringField(affected.ecosystem_specific, 'module') ?? stringField(affected.database_specific, 'module');
  if (module !== undefined) out.module = module;
  return out;
}

/** Red Hat-family advisories state their impact as a summary prefix (`Important: openssl security update`). */
function summaryImpact(summary: string | undefined): string | undefined {
  const m = /^(Low|Moderate|Important|Critical):\s/.exec(summary ?? '');
  return m?.[1];
}

/**
 * The rpm module stream a Red Hat-family advisory is about, when its summary names exactly one
 * (`Important: container-tools:rhel8 security update` -> `container-tools:rhel8`). Undefined when
 * it names none or several (`pki-core:10.6 and pki-deps:10.6`): then no package gets a module.
 */
export function summaryModule(summary: string | undefined): string | undefined {
  const streams = summaryModules(summary);
  return streams.length === 1 ? streams[0] : undefined;
}

/**
 * Every rpm module stream a Red Hat-family advisory summary names, in order
 * (`Moderate: pki-core:10.6 and pki-deps:10.6 security update` -> `pki-core:10.6`, `pki-deps:10.6`);
 * [] when it names none.
 */
export function summaryModules(summary: string | undefined): string[] {
  const text = (summary ?? '').replace(/^(Low|Moderate|Important|Critical):\s+/, '');
  return unique([...text.matchAll(/(?:^|\s)([A-Za-z0-9][\w.+-]*:[\w.+-]+)(?=\s|$)/g)].map((m) => m[1] as string));
}

const MODULE_BUILD = /\.module[_+]/;

/** Converts one validated OSV record. Affected entries of ecosystems we do not scan are left out. */
export function normalizeOsvRecord(record: OsvRecord, feedId: string): Advisory {
  const source = osvSource(record.id);
  const severities = severitiesOf(source, record.severity);
  const dbSeverity = stringField(record.database_specific, 'severity');
  if (dbSeverity !== undefined) severities.push(vendorRating(source, dbSeverity));
  const impact = summaryImpact(record.summary);
  if (impact !== undefined && (source === 'almalinux' || source === 'rocky')) severities.push(vendorRating(source, impact));

  const aliases = unique(record.aliases.filter((a) => a !== record.id));
  const derivedCves = [...record.upstream, ...aliases, ...record.related]
    .map((x) => /^(?:UBUNTU|DEBIAN)-(CVE-\d{4}-\d+)$/.exec(x)?.[1])
    .filter((x): x is string => x !== undefined);
  const referenceCves = (record.references ?? []).flatMap((r) => r.url.match(CVE_RE) ?? []);
  const related = unique([...record.related, ...record.upstream, ...derivedCves, ...referenceCves]).filter(
    (x) => x !== record.id && !aliases.includes(x),
  );

  const converted = (record.affected ?? [])
    .map((a) => convertAffected(a, source))
    .filter((a): a is AffectedPackage => a !== undefined);

  // AlmaLinux/Rocky records carry no per-package module: the summary's stream applies to the
  // packages built for a module (release tag `.module_el8...`/`.module+el8...`). A summary naming
  // several streams (`pki-core:10.6 and pki-deps:10.6`) does not say which package is in which:
  // such a package gets one statement per stream, so that it meets a build of any of them and
  // nothing else (a build matches only statements of its own stream, or of none when not modular).
  const streams = source === 'almalinux' || source === 'rocky' ? summaryModules(record.summary) : [];
  const affected: AffectedPackage[] = [];
  for (const a of converted) {
    const built = streams.length > 0 && a.module === undefined && a.ranges.some((r) => r.events.some((e) => 'fixed' in e && MODULE_BUILD.test(e.fixed)));
    if (!built) affected.push(a);
    else for (const module of streams) affected.push({ ...a, module });
  }

  const advisory: Advisory = {
    id: record.id,
    aliases,
    feed: feedId,
    severities,
    references: unique((record.references ?? []).map((r) => r.url)),
    affected,
  };
  if (related.length > 0) advisory.related = related;
  if (record.summary !== undefined && record.summary.trim() !== '') advisory.title = record.summary.trim();
  if (record.details !== undefined && record.details.trim() !== '') advisory.description = record.details;
  const published = isoDate(record.published);
  const modified = isoDate(record.modified);
  const withdrawn = isoDate(record.withdrawn) ?? (record.withdrawn !== undefined && record.withdrawn.trim() !== '' ? record.withdrawn : undefined);
  if (published !== undefined) advisory.published = published;
  if (modified !== undefined) advisory.modified = modified;
  if (withdrawn !== undefined) advisory.withdrawn = withdrawn;
  return advisory;
}

/** Decodes a file into candidate records: one record, or a JSON array of them. Throws on bad syntax. */
function decode(file: FeedFile): unknown[] {
  const text = file.bytes.toString('utf8');
  const value = /\.ya?ml$/i.test(file.name) ? parseYaml(text) : JSON.parse(text);
  return Array.isArray(value) ? value : [value];
}

function describe(issues: { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (first === undefined) return 'invalid record';
  return `${first.path.map(String).join('.') || '(root)'}: ${first.message}`;
}

/**
 * Parses OSV files (JSON, YAML, or JSON arrays of records). A file that does not decode, or a record
 * that fails validation, is skipped and counted; the rest load. When one id appears more than once
 * (the PyPA database's YAML and JSON twins, overlapping exports) the record with the newest
 * `modified` wins. Returns no advisories and no skips for an empty file list.
 */
export function parseOsvFiles(files: FeedFile[], feedId = 'osv'): AdvisoryParseResult {
  const byId = new Map<string, Advisory>();
  const skipped: SkippedRecord[] = [];
  for (const file of files) {
    let candidates: unknown[];
    try {
      candidates = decode(file);
    } catch (err) {
      skipped.push({ record: file.name, reason: `osv: cannot decode: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
      continue;
    }
    candidates.forEach((candidate, index) => {
      const label = candidates.length > 1 ? `${file.name}[${index}]` : file.name;
      const parsed = osvRecordSchema.safeParse(candidate);
      if (!parsed.success) {
        skipped.push({ record: label, reason: `osv: ${describe(parsed.error.issues)}` });
        return;
      }
      const advisory = normalizeOsvRecord(parsed.data, feedId);
      const previous = byId.get(advisory.id);
      if (previous === undefined || (advisory.modified ?? '') > (previous.modified ?? '')) byId.set(advisory.id, advisory);
    });
  }
  const advisories = [...byId.values()];
  const newestRecord = newestDate(advisories.flatMap((a) => [a.modified, a.published]));
  return newestRecord === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord };
}
