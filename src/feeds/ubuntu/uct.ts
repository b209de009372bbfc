import type { Advisory, AffectedPackage, SeverityRating } from '../../domain/advisory.js';
import type { Severity } from '../../domain/severity.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { affectedKey, dpkgSourceAffected } from '../debian/affected.js';
import { cvssRating, cvssVersionOf } from '../severity.js';
import { ubuntuNamespace } from './releases.js';

/**
 * A snapshot of the Ubuntu CVE Tracker repository (cgit snapshot of Launchpad's git tree); its
 * `active/` and `retired/` folders hold one file per CVE.
 */
export const UBUNTU_UCT_TARBALL_URL = 'https://git.launchpad.net/ubuntu-cve-tracker/snapshot/ubuntu-cve-tracker-master.tar.gz';

// Statuses of the tracker and how they map onto the common model. DNE ("does not exist") is absent
// on purpose: the package is not in that release, so there is nothing to say about it.
/** Tracker statuses meaning "affected, no fix published"; kept verbatim as vendorStatus. */
export const UNFIXED_STATUSES = ['needed', 'needs-triage', 'deferred', 'pending', 'ignored', 'active'] as const;

const PRIORITY: Record<string, Severity> = {
  negligible: 'Negligible',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
  untriaged: 'Unknown',
};

const DPKG_VERSION = /^(\d+:)?[0-9][A-Za-z0-9.+~:-]*$/;
const CANDIDATE = /^[A-Z][A-Z0-9]*-\d{4}-[A-Za-z0-9-]+$/;
const FIELD = /^([A-Za-z][\w./+-]*):(.*)$/;

interface Field {
  key: string;
  value: string;
  more: string[];
}

/**
 * Parses one Ubuntu CVE Tracker file (`Candidate:`, `PublicDate:`, `Priority:`, multi-line
 * `Description:`/`References:`, `Patches_<pkg>:` blocks, `<release>_<pkg>: status (note)` lines) into
 * one Advisory with id = Candidate. Status lines become source-package AffectedPackages in the
 * namespace ubuntuNamespace gives (`ubuntu:20.04`, `ubuntu:16.04:esm`; `upstream`, `devel` and
 * overlays are left out): `released (v)` is fixed in v, `not-affected` is not_affected, `needed`,
 * `needs-triage`, `deferred`, `pending`, `ignored` (and any status word it does not know, to err on the
 * side of reporting) are unfixed with that word as vendorStatus; DNE lines, empty statuses and
 * `released` without a usable version are left out. The package severity is `Priority_<pkg>` when given,
 * else the file's Priority. Throws an Error (`ubuntu-uct: ...`) when the file has no valid Candidate.
 */
export function parseUctFile(text: string): Advisory {
  const fields = readFields(text);
  const get = (key: string) => fields.find((f) => f.key === key);
  const candidate = get('Candidate')?.value.trim() ?? '';
  if (!CANDIDATE.test(candidate)) throw new Error(`ubuntu-uct: missing or malformed Candidate ${JSON.stringify(candidate)}`);

  const advisory: Advisory = {
    id: candidate,
    aliases: [],
    feed: 'ubuntu-uct',
    severities: [],
    references: [],
    affected: [],
  };
  const description = joinText(get('Description'));
  if (description) advisory.description = description;
  const published = uctDate(get('PublicDate')?.value);
  if (published) advisory.published = published;

  const refs = get('References');
  for (const r of refs ? [refs.value, ...refs.more] : []) {
    const url = r.trim();
    if (url !== '' && !advisory.references.includes(url)) advisory.references.push(url);
  }
  advisory.references.push(`https://ubuntu.com/security/${candidate}`);

  const priority = priorityRating(get('Priority')?.value);
  if (priority) advisory.severities.push(priority);
  advisory.severities.push(...cvssRatings(get('CVSS')));

  const pkgPriority = new Map<string, SeverityRating>();
  for (const f of fields) {
    if (!f.key.startsWith('Priority_')) continue;
    const rating = priorityRating(f.value);
    if (rating) pkgPriority.set(f.key.slice('Priority_'.length), rating);
  }

  const seen = new Set<string>();
  for (const f of fields) {
    const underscore = f.key.indexOf('_');
    if (underscore <= 0) continue;
    const release = f.key.slice(0, underscore);
    const pkg = f.key.slice(underscore + 1);
    if (release === 'Patches' || release === 'Tags' || release === 'Priority' || pkg === '') continue;
    const namespace = ubuntuNamespace(release);
    if (namespace === undefined) continue;
    const severity = pkgPriority.get(`${pkg}_${release}`) ?? pkgPriority.get(pkg) ?? priority;
    const affected = statusAffected(namespace, pkg, f.value, severity);
    if (affected === undefined) continue;
    const key = affectedKey(affected);
    if (seen.has(key)) continue;
    seen.add(key);
    advisory.affected.push(affected);
  }
  return advisory;
}

function statusAffected(namespace: string, pkg: string, value: string, severity: SeverityRating | undefined): AffectedPackage | undefined {
  // The closing parenthesis is sometimes missing in real files (`released (1:68.4.1+build1-0ubuntu0.18.04.1`).
  const m = /^(\S+)\s*(?:\(([^()]*)\)?)?/.exec(value.trim());
  if (!m) return undefined;
  const status = m[1] ?? '';
  const note = (m[2] ?? '').trim();
  const base = { namespace, packageName: pkg, ...(severity ? { severity } : {}) };
  if (status === 'DNE') return undefined;
  if (status === 'released') {
    // `released` without a version cannot be matched against anything; leaving it out is the honest answer.
    if (!DPKG_VERSION.test(note)) return undefined;
    return dpkgSourceAffected({ ...base, state: 'fixed', fixedVersion: note });
  }
  if (status === 'not-affected') return dpkgSourceAffected({ ...base, state: 'not_affected' });
  // The known unfixed words (UNFIXED_STATUSES) and any word this parser does not know alike: erring on
  // the side of "affected" keeps a new tracker status from silently hiding findings.
  return dpkgSourceAffected({ ...base, state: 'unfixed', vendorStatus: status });
}

// The tracker's format is its own (RFC 822-like, keys with `_`, continuation lines indented by one
// space); no library reads it, so it is read here.
function readFields(text: string): Field[] {
  const fields: Field[] = [];
  let current: Field | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (/^\s/.test(line)) {
      if (current) current.more.push(line.trim());
      continue;
    }
    const m = FIELD.exec(line);
    if (!m) {
      // Stray lines exist in real files (e.g. `-- Tags_xen: ...`); they carry nothing we use.
      current = undefined;
      continue;
    }
    current = { key: m[1] ?? '', value: (m[2] ?? '').trim(), more: [] };
    fields.push(current);
  }
  return fields;
}

function joinText(f: Field | undefined): string | undefined {
  if (!f) return undefined;
  const text = [f.value, ...f.more].filter((s) => s !== '').join(' ').trim();
  return text === '' ? undefined : text;
}

function priorityRating(value: string | undefined): SeverityRating | undefined {
  const word = value?.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (word === '') return undefined;
  return { source: 'ubuntu', type: 'vendor', value: word, normalized: PRIORITY[word] ?? 'Unknown' };
}

// ` nvd: CVSS:3.1/AV:N/AC:L/...` (newer files append ` [7.5 HIGH]`): one rating per source, its score
// computed from the vector.
function cvssRatings(f: Field | undefined): SeverityRating[] {
  if (!f) return [];
  const out: SeverityRating[] = [];
  for (const line of [f.value, ...f.more]) {
    const m = /^([\w.@-]+):\s*(\S+)/.exec(line.trim());
    if (!m || cvssVersionOf(m[2] ?? '') === undefined) continue;
    out.push(cvssRating(m[1] ?? '', m[2] ?? ''));
  }
  return out;
}

/** `2009-11-06 15:30:00 UTC` / `2018-10-18` -> ISO 8601; undefined for `unknown` and other text. */
function uctDate(value: string | undefined): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  if (m[2] === undefined) return m[1];
  const time = m[2].length === 5 ? `${m[2]}:00` : m[2];
  return `${m[1]}T${time}Z`;
}

const FILE_NAME = /^CVE-\d{4}-\d{4,}$/;

/**
 * Parses a set of tracker files: files whose base name is a CVE id are parsed (others, such as the
 * README of a repository snapshot, are ignored); a CVE file that cannot be read is skipped and counted.
 * newestRecord is the latest PublicDate seen. No CVE files gives no advisories and no skipped records.
 */
export function parseUctFiles(files: FeedFile[]): AdvisoryParseResult {
  const advisories: Advisory[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    const base = file.name.split('/').pop() ?? '';
    if (!FILE_NAME.test(base)) continue;
    try {
      const a = parseUctFile(file.bytes.toString('utf8'));
      advisories.push(a);
      if (a.published !== undefined && (newest === undefined || a.published > newest)) newest = a.published;
    } catch (err) {
      skipped.push({ record: file.name, reason: (err as Error).message });
    }
  }
  return newest === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord: newest };
}

/** The Ubuntu CVE Tracker feed (`ubuntu-uct`). */
export const ubuntuUctFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'ubuntu-uct',
  version: 1,
  description: 'Ubuntu CVE Tracker: per source package and Ubuntu release, released / needed / not-affected status of every CVE',
  upstream: [{ url: UBUNTU_UCT_TARBALL_URL, format: 'tar-gz' }],
  recognizes(file: FeedFile): boolean {
    const base = file.name.split('/').pop() ?? '';
    if (!FILE_NAME.test(base)) return false;
    const head = file.bytes.subarray(0, 4096).toString('utf8');
    // Every tracker file is `Key: value` lines from its first line on, with a Candidate field near the top.
    return FIELD.test(head.split(/\r?\n/, 1)[0] ?? '') && /(^|\n)Candidate:\s*CVE-/.test(head);
  },
  parse: parseUctFiles,
};
