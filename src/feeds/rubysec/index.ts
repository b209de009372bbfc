/**
 * ruby-advisory-db (rubysec): one YAML file per gem and advisory, `gems/<gem>/<ID>.yml`, with
 * RubyGems requirement strings. A version is affected when it satisfies none of
 * `patched_versions` and none of `unaffected_versions`. That is encoded as
 * `nativeRanges: ['>= 0']` (every version) minus the exclusions `patched` and `unaffected`
 * (see AffectedPackage), each string one RubyGems requirement (`"~> 5.2.4, >= 5.2.4.3"`: all
 * comma-separated constraints must hold).
 */
import * as z from 'zod';
import type { Advisory, AffectedPackage, SeverityRating } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { severityFromScore, type CvssVersion } from '../severity.js';
import { baseName, head, isoDate, newestDate, parseYaml, unique } from '../text.js';

const optionalText = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || String(v).trim() === '' ? undefined : String(v).trim()));
const requirementList = z
  .array(z.union([z.string(), z.number()]))
  .nullish()
  .transform((v) => (v ?? []).map((x) => String(x).trim()).filter((x) => x !== ''));
const score = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : Number(v)))
  .refine((v) => v === undefined || (Number.isFinite(v) && v >= 0 && v <= 10), 'CVSS score out of range');

const recordSchema = z.object({
  gem: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1)),
  cve: optionalText,
  ghsa: optionalText,
  osvdb: optionalText,
  url: optionalText,
  title: optionalText,
  date: optionalText,
  description: optionalText,
  cvss_v2: score,
  cvss_v3: score,
  cvss_v4: score,
  patched_versions: requirementList,
  unaffected_versions: requirementList,
  related: z.object({ url: z.array(z.string()).nullish() }).passthrough().nullish(),
});

type RubysecRecord = z.infer<typeof recordSchema>;

/** The requirement that every version satisfies: the starting set exclusions are taken from. */
export const EVERY_GEM_VERSION = '>= 0';

function severities(r: RubysecRecord): SeverityRating[] {
  const out: SeverityRating[] = [];
  const add = (value: number | undefined, type: SeverityRating['type'], version: CvssVersion): void => {
    // The database gives bare scores, not vectors: the score is the value.
    if (value !== undefined) out.push({ source: 'rubysec', type, value: String(value), score: value, normalized: severityFromScore(value, version) });
  };
  add(r.cvss_v4, 'CVSS_V4', '4.0');
  add(r.cvss_v3, 'CVSS_V3', '3.1');
  add(r.cvss_v2, 'CVSS_V2', '2.0');
  return out;
}

function idFor(r: RubysecRecord, fileName: string): string {
  const stem = baseName(fileName).replace(/\.ya?ml$/i, '');
  if (/^(CVE|GHSA|OSVDB)-/i.test(stem)) return stem;
  if (r.cve !== undefined) return `CVE-${r.cve}`;
  if (r.ghsa !== undefined) return `GHSA-${r.ghsa}`;
  if (r.osvdb !== undefined) return `OSVDB-${r.osvdb}`;
  return stem;
}

/** Converts one validated record; `fileName` gives the advisory id (`CVE-2023-50727.yml`). */
export function normalizeRubysecRecord(r: RubysecRecord, fileName: string, feedId = 'rubysec'): Advisory {
  const id = idFor(r, fileName);
  const affected: AffectedPackage = {
    ecosystem: 'gem',
    namespace: 'RubyGems',
    packageName: r.gem,
    nameKind: 'binary',
    scheme: 'gem',
    state: r.patched_versions.length > 0 ? 'fixed' : 'unfixed',
    ranges: [],
    versions: [],
    nativeRanges: [EVERY_GEM_VERSION],
  };
  if (r.patched_versions.length > 0) affected.patched = r.patched_versions;
  if (r.unaffected_versions.length > 0) affected.unaffected = r.unaffected_versions;

  const aliases = unique(
    [r.cve !== undefined ? `CVE-${r.cve}` : undefined, r.ghsa !== undefined ? `GHSA-${r.ghsa}` : undefined, r.osvdb !== undefined ? `OSVDB-${r.osvdb}` : undefined].filter(
      (x): x is string => x !== undefined && x !== id,
    ),
  );
  const advisory: Advisory = {
    id,
    aliases,
    feed: feedId,
    severities: severities(r),
    references: unique([r.url, ...(r.related?.url ?? [])].filter((u): u is string => typeof u === 'string' && u.trim() !== '')),
    affected: [affected],
  };
  if (r.title !== undefined) advisory.title = r.title;
  if (r.description !== undefined) advisory.description = r.description;
  const published = isoDate(r.date);
  if (published !== undefined) advisory.published = published;
  return advisory;
}

/**
 * Parses ruby-advisory-db files. One id found under several gems (a CVE affecting two gems) becomes
 * one advisory with one affected entry per gem. A file that is not YAML or fails validation is
 * skipped and counted. Returns no advisories for an empty list.
 */
export function parseRubysecFiles(files: FeedFile[], feedId = 'rubysec'): AdvisoryParseResult {
  const byId = new Map<string, Advisory>();
  const skipped: SkippedRecord[] = [];
  for (const file of files) {
    let value: unknown;
    try {
      value = parseYaml(file.bytes.toString('utf8'));
    } catch (err) {
      skipped.push({ record: file.name, reason: `rubysec: not YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
      continue;
    }
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skipped.push({ record: file.name, reason: `rubysec: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid record'}` });
      continue;
    }
    const advisory = normalizeRubysecRecord(parsed.data, file.name, feedId);
    const previous = byId.get(advisory.id);
    if (previous === undefined) {
      byId.set(advisory.id, advisory);
      continue;
    }
    previous.affected.push(...advisory.affected);
    previous.aliases = unique([...previous.aliases, ...advisory.aliases]);
    previous.references = unique([...previous.references, ...advisory.references]);
    const seen = new Set(previous.severities.map((s) => `${s.type}|${s.value}`));
    previous.severities.push(...advisory.severities.filter((s) => !seen.has(`${s.type}|${s.value}`)));
  }
  const advisories = [...byId.values()];
  const newestRecord = newestDate(advisories.map((a) => a.published));
  return newestRecord === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord };
}

/** True for a ruby-advisory-db file: YAML with a top-level `gem:` and requirement or title keys. */
export function isRubysecFile(file: FeedFile): boolean {
  if (!/\.ya?ml$/i.test(file.name)) return false;
  const text = head(file.bytes, 65536);
  return /^gem:\s*\S/m.test(text) && /^(patched_versions|unaffected_versions|title|cve|ghsa):/m.test(text);
}

/** The ruby-advisory-db feed; upstream is the repository archive, whose `gems/**.yml` files are recognized. */
export const rubysecFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'rubysec',
  version: 1,
  description: 'Ruby advisory database (rubysec/ruby-advisory-db)',
  upstream: [{ url: 'https://codeload.github.com/rubysec/ruby-advisory-db/zip/refs/heads/master', format: 'zip' }],
  recognizes: isRubysecFile,
  parse: (files) => parseRubysecFiles(files, 'rubysec'),
};
