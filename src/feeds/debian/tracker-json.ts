import * as z from 'zod';
import type { Advisory, AffectedPackage, SeverityRating } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { debianUrgencySeverity, dpkgSourceAffected } from './affected.js';
import { debianNamespace } from './releases.js';

/** Where the security tracker publishes its whole state as one JSON document. */
export const DEBIAN_TRACKER_JSON_URL = 'https://security-tracker.debian.org/tracker/data/json';

// The tracker's statuses are a closed set in its own code; anything else means the record is damaged.
const releaseSchema = z
  .object({
    status: z.enum(['resolved', 'open', 'undetermined']),
    fixed_version: z.string().optional(),
    urgency: z.string().optional(),
    nodsa: z.string().optional(),
    nodsa_reason: z.string().optional(),
  })
  .refine((r) => r.status !== 'resolved' || (r.fixed_version !== undefined && r.fixed_version.trim() !== ''), {
    message: 'resolved without fixed_version',
  });

const entrySchema = z.object({
  description: z.string().optional(),
  scope: z.string().optional(),
  debianbug: z.union([z.number(), z.string()]).optional(),
  // A CVE with no release data is exported as `"releases": []` rather than `{}`.
  releases: z.union([z.record(z.string(), releaseSchema), z.array(z.unknown()).max(0)]),
});
type TrackerEntry = z.infer<typeof entrySchema>;
type TrackerRelease = z.infer<typeof releaseSchema>;

const ID = /^(CVE-\d{4}-\d{4,}|TEMP-\d+-[0-9A-Fa-f]+|[A-Z][A-Z0-9]*-[\w.-]+)$/;

/**
 * Parses the Debian security tracker JSON export (`{srcpkg: {id: {description, releases: {codename:
 * {status, fixed_version, urgency, nodsa, nodsa_reason}}}}}`) into one Advisory per vulnerability id
 * (CVE-... and the tracker's own TEMP-... ids alike), merging every source package that lists it. Each
 * (package, release) becomes a source-package AffectedPackage in `debian:<major>` (`debian:unstable` for
 * sid): resolved with fixed_version `0` is not_affected, resolved with a version is fixed, open is
 * unfixed with vendorStatus `postponed`/`ignored` (the nodsa reason), `no-dsa` (nodsa without reason),
 * `end-of-life`, or `open`; undetermined is unfixed/`undetermined`. Releases with unknown codenames are
 * left out. One (package, id) entry that fails validation is skipped and counted; a file that is not
 * JSON counts as one skipped record. Returns no advisories for `{}`.
 */
export function parseDebianTracker(files: FeedFile[]): AdvisoryParseResult {
  const skipped: SkippedRecord[] = [];
  const byId = new Map<string, Advisory>();
  for (const file of files) {
    let doc: unknown;
    try {
      doc = JSON.parse(file.bytes.toString('utf8'));
    } catch (err) {
      skipped.push({ record: file.name, reason: `debian-tracker: not JSON: ${(err as Error).message}` });
      continue;
    }
    if (!isPlainObject(doc)) {
      skipped.push({ record: file.name, reason: 'debian-tracker: top level is not an object' });
      continue;
    }
    for (const [pkg, cves] of Object.entries(doc)) {
      if (!isPlainObject(cves)) {
        skipped.push({ record: pkg, reason: 'debian-tracker: package entry is not an object' });
        continue;
      }
      for (const [id, raw] of Object.entries(cves)) {
        const record = `${pkg}/${id}`;
        if (!ID.test(id)) {
          skipped.push({ record, reason: 'debian-tracker: malformed vulnerability id' });
          continue;
        }
        const parsed = entrySchema.safeParse(raw);
        if (!parsed.success) {
          skipped.push({ record, reason: `debian-tracker: ${parsed.error.issues[0]?.message ?? 'invalid entry'}` });
          continue;
        }
        let advisory = byId.get(id);
        if (advisory === undefined) {
          advisory = {
            id,
            aliases: [],
            feed: 'debian-tracker',
            severities: [],
            references: [`https://security-tracker.debian.org/tracker/${id}`],
            affected: [],
          };
          byId.set(id, advisory);
        }
        mergeEntry(advisory, pkg, parsed.data);
      }
    }
  }
  return { advisories: [...byId.values()], skipped };
}

// No de-duplication is needed: JSON object keys are unique, so (package, release) occurs once per id.
function mergeEntry(advisory: Advisory, pkg: string, entry: TrackerEntry): void {
  if (advisory.description === undefined && entry.description !== undefined && entry.description.trim() !== '') {
    advisory.description = entry.description.trim();
  }
  if (entry.debianbug !== undefined && String(entry.debianbug).trim() !== '') {
    const bug = `https://bugs.debian.org/${String(entry.debianbug).trim()}`;
    if (!advisory.references.includes(bug)) advisory.references.push(bug);
  }
  if (Array.isArray(entry.releases)) return;
  for (const [codename, rel] of Object.entries(entry.releases)) {
    const namespace = debianNamespace(codename);
    if (namespace === undefined) continue;
    advisory.affected.push(releaseAffected(namespace, pkg, rel));
  }
}

function releaseAffected(namespace: string, pkg: string, rel: TrackerRelease): AffectedPackage {
  const severity = urgencyRating(rel.urgency);
  const base = { namespace, packageName: pkg, ...(severity ? { severity } : {}) };
  if (rel.status === 'resolved') {
    const fixed = (rel.fixed_version ?? '').trim();
    // `0` is the tracker's way of saying no version of this release was ever vulnerable.
    if (fixed === '0') return dpkgSourceAffected({ ...base, state: 'not_affected' });
    return dpkgSourceAffected({ ...base, state: 'fixed', fixedVersion: fixed });
  }
  if (rel.status === 'undetermined') return dpkgSourceAffected({ ...base, state: 'unfixed', vendorStatus: 'undetermined' });
  return dpkgSourceAffected({ ...base, state: 'unfixed', vendorStatus: openStatus(rel) });
}

// The export repeats a handful of urgency words a million times; one rating object per word keeps the
// result small. Ratings are plain data that consumers read, never mutate.
const URGENCY_CACHE = new Map<string, SeverityRating | undefined>();
function urgencyRating(urgency: string | undefined): SeverityRating | undefined {
  if (urgency === undefined) return undefined;
  if (!URGENCY_CACHE.has(urgency)) URGENCY_CACHE.set(urgency, debianUrgencySeverity(urgency));
  return URGENCY_CACHE.get(urgency);
}

function openStatus(rel: TrackerRelease): string {
  const reason = rel.nodsa_reason?.trim() ?? '';
  if (reason !== '') return reason;
  if (rel.nodsa !== undefined) return 'no-dsa';
  if (rel.urgency?.trim().toLowerCase() === 'end-of-life') return 'end-of-life';
  return 'open';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The export starts with a package name whose value maps vulnerability ids to records.
const TRACKER_HEAD = /^\s*\{\s*"[a-z0-9][a-z0-9+.~-]*"\s*:\s*\{\s*"(CVE-\d{4}-|TEMP-\d)/;

/** The Debian security tracker JSON feed (`debian-tracker`). */
export const debianTrackerFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'debian-tracker',
  version: 1,
  description: 'Debian security tracker: per source package and release, fixed / open / not-affected status of every CVE',
  upstream: [{ url: DEBIAN_TRACKER_JSON_URL, format: 'json' }],
  recognizes(file: FeedFile): boolean {
    const base = file.name.split('/').pop() ?? '';
    if (!/(^|\.)json$/i.test(base)) return false;
    return TRACKER_HEAD.test(file.bytes.subarray(0, 4096).toString('utf8'));
  },
  parse: parseDebianTracker,
};
