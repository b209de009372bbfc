/**
 * The Node.js security working group's npm advisories (nodejs/security-wg `vuln/npm/*.json`, frozen
 * since 2023): one JSON file per advisory with npm semver range strings. The ranges are kept as
 * written: `vulnerable_versions` -> nativeRanges, `patched_versions` -> patched, for the npm
 * scheme's `satisfies` to evaluate (`<1.6.5 || < 2.1.7 > 2.0.0` is not expressible as OSV events).
 */
import { z } from 'zod';
import type { Advisory, AffectedPackage, SeverityRating } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { cvssRating, severityFromScore } from '../severity.js';
import { head, isoDate, newestDate, unique } from '../text.js';

const nullableText = z.string().nullish().transform((v) => (v === null || v === undefined || v.trim() === '' ? undefined : v));

const recordSchema = z.object({
  id: z.union([z.number().int(), z.string().min(1)]),
  created_at: nullableText,
  updated_at: nullableText,
  publish_date: nullableText,
  title: nullableText,
  module_name: z.string().min(1),
  cves: z.array(z.string()).nullish(),
  vulnerable_versions: z.string().min(1),
  patched_versions: nullableText,
  overview: nullableText,
  recommendation: nullableText,
  references: z.array(z.string()).nullish(),
  cvss_vector: nullableText,
  cvss_score: z.number().nullish(),
});

type NpmWgRecord = z.infer<typeof recordSchema>;

/** A `patched_versions` that no version satisfies (the WG writes `<0.0.0` for "no fix"). */
function isNoFix(range: string | undefined): boolean {
  return range === undefined || /^<\s*0\.0\.0$/.test(range.trim());
}

function severities(r: NpmWgRecord): SeverityRating[] {
  const source = 'nodejs-security-wg';
  if (r.cvss_vector !== undefined) {
    const rating = cvssRating(source, r.cvss_vector);
    // Trust the computed score; fall back to the file's own when the vector is incomplete.
    if (rating.score === undefined && typeof r.cvss_score === 'number') return [{ ...rating, score: r.cvss_score, normalized: severityFromScore(r.cvss_score, '3.0') }];
    return [rating];
  }
  if (typeof r.cvss_score === 'number') return [{ source, type: 'CVSS_V3', value: String(r.cvss_score), score: r.cvss_score, normalized: severityFromScore(r.cvss_score, '3.0') }];
  return [];
}

/** Converts one validated record; the advisory id is the WG's own `NSWG-ECO-<id>`. */
export function normalizeNpmWgRecord(r: NpmWgRecord, feedId = 'npm-security-wg'): Advisory {
  const affected: AffectedPackage = {
    ecosystem: 'npm',
    namespace: 'npm',
    packageName: r.module_name,
    nameKind: 'binary',
    scheme: 'npm',
    state: isNoFix(r.patched_versions) ? 'unfixed' : 'fixed',
    ranges: [],
    versions: [],
    nativeRanges: [r.vulnerable_versions.trim()],
  };
  if (!isNoFix(r.patched_versions) && r.patched_versions !== undefined) affected.patched = [r.patched_versions.trim()];

  const advisory: Advisory = {
    id: `NSWG-ECO-${r.id}`,
    aliases: unique((r.cves ?? []).map((c) => c.trim()).filter((c) => c !== '')),
    feed: feedId,
    severities: severities(r),
    references: unique((r.references ?? []).filter((u) => u.trim() !== '')),
    affected: [affected],
  };
  if (r.title !== undefined) advisory.title = r.title;
  const description = [r.overview, r.recommendation !== undefined ? `Recommendation: ${r.recommendation}` : undefined].filter((x) => x !== undefined);
  if (description.length > 0) advisory.description = description.join('\n\n');
  const published = isoDate(r.publish_date) ?? isoDate(r.created_at);
  const modified = isoDate(r.updated_at);
  if (published !== undefined) advisory.published = published;
  if (modified !== undefined) advisory.modified = modified;
  return advisory;
}

/**
 * Parses security-wg advisory files. A file that is not JSON or fails validation is skipped and
 * counted. Returns no advisories for an empty list.
 */
export function parseNpmWgFiles(files: FeedFile[], feedId = 'npm-security-wg'): AdvisoryParseResult {
  const advisories: Advisory[] = [];
  const skipped: SkippedRecord[] = [];
  for (const file of files) {
    let value: unknown;
    try {
      value = JSON.parse(file.bytes.toString('utf8'));
    } catch (err) {
      skipped.push({ record: file.name, reason: `npm-security-wg: not JSON: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skipped.push({ record: file.name, reason: `npm-security-wg: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid record'}` });
      continue;
    }
    advisories.push(normalizeNpmWgRecord(parsed.data, feedId));
  }
  const newestRecord = newestDate(advisories.flatMap((a) => [a.modified, a.published]));
  return newestRecord === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord };
}

/** True for a security-wg advisory: a JSON object with `module_name` and `vulnerable_versions`. */
export function isNpmWgFile(file: FeedFile): boolean {
  if (!/\.json$/i.test(file.name)) return false;
  const text = head(file.bytes, 65536);
  return text.trimStart().startsWith('{') && /"module_name"\s*:/.test(text) && /"vulnerable_versions"\s*:/.test(text);
}

/** The npm security working group feed (repository frozen since 2023; upstream is its archive). */
export const npmSecurityWgFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'npm-security-wg',
  version: 1,
  description: 'Node.js security working group npm advisories (legacy, frozen 2023)',
  // The WG publishes no bundle: the repository archive is fetched and its vuln/npm files recognized.
  upstream: [{ url: 'https://codeload.github.com/nodejs/security-wg/zip/refs/heads/main', format: 'zip' }],
  frozen: { since: '2023-01-23', reason: 'the working group stopped publishing npm advisories; OSV (GitHub advisories) carries current ones' },
  recognizes: isNpmWgFile,
  parse: (files) => parseNpmWgFiles(files, 'npm-security-wg'),
};
