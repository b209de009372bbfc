import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { affectedKey, debianUrgencySeverity, dpkgSourceAffected } from './affected.js';
import { debianNamespace } from './releases.js';

/** Raw URLs of the advisory lists in the security tracker's repository on salsa. */
export const DEBIAN_DSA_LIST_URL = 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DSA/list';
export const DEBIAN_DLA_LIST_URL = 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DLA/list';

// No library reads this format: it is the security tracker's own line-based text, parsed here by hand.
// `[29 Mar 2023] DSA-5380-1 xorg-server - security update`
const HEADER = /^\[(\d{1,2}) ([A-Za-z]{3}) (\d{4})\]\s+([A-Z]+-\d+(?:-\d+)?)(?:\s+(.*?))?\s*$/;
// `{CVE-2023-1393 CVE-2023-1394}` (may be empty, may have inner spaces)
const IDS = /^\{([^{}]*)\}$/;
// `[bullseye] - xorg-server 2:1.20.11-1+deb11u6 (notes)` or `[woody] - zlib <not-affected> (notes)`
const RELEASE = /^\[([a-z][a-z0-9-]*)\]\s+-\s+(\S+)\s+(<[a-z-]+>|[^\s()<>]+)(?:\s+\((.*)\))?$/;
const ID_TOKEN = /^[A-Z][A-Z0-9]*-[\w.-]+$/;

const MONTHS: Record<string, string> = {
  jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06',
  jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12',
};

// `<...>` markers of the tracker's list syntax, mapped to the common status model.
const MARKER_STATE: Record<string, 'not_affected' | 'unfixed'> = {
  'not-affected': 'not_affected',
  unfixed: 'unfixed',
  'end-of-life': 'unfixed',
  'no-dsa': 'unfixed',
  ignored: 'unfixed',
  postponed: 'unfixed',
  undetermined: 'unfixed',
  removed: 'unfixed',
  itp: 'unfixed',
};

interface Block {
  lines: { text: string; line: number }[];
}

/**
 * Parses a DSA or DLA list (`data/DSA/list`, `data/DLA/list` of the security tracker) into one
 * Advisory per block: id `DSA-5380-1` (or `DSA-143` for the oldest), published = the block's date,
 * title = the rest of the header line, aliases = the `{CVE-...}` ids, and one source-package
 * AffectedPackage per `[release] - pkg version` line: a version is fixed, `<not-affected>` is
 * not_affected, `<unfixed>`, `<end-of-life>`, `<no-dsa>`... are unfixed with that word as vendorStatus.
 * An urgency written in the line's notes (`(medium)`, `(bug #1; high)`) becomes the package severity.
 * `NOTE:` lines are ignored; lines for releases this module does not know are left out. A block whose
 * header or any line cannot be read is skipped whole and counted (a half-read advisory could say
 * "fixed" where the file says otherwise). Returns nothing for an empty file.
 */
export function parseDebianAdvisoryList(text: string, feed: string): AdvisoryParseResult {
  const advisories: Advisory[] = [];
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  const { blocks, stray } = splitBlocks(text);
  for (const s of stray) skipped.push({ record: `line ${s}`, reason: `${feed}: text outside any advisory block` });
  for (const block of blocks) {
    const result = parseBlock(block, feed);
    if ('reason' in result) {
      skipped.push(result);
      continue;
    }
    advisories.push(result);
    if (result.published !== undefined && (newest === undefined || result.published > newest)) newest = result.published;
  }
  return newest === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord: newest };
}

function splitBlocks(text: string): { blocks: Block[]; stray: number[] } {
  const blocks: Block[] = [];
  const stray: number[] = [];
  let current: Block | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    // A block starts at every unindented line; the rest of the block is indented.
    if (!/^\s/.test(raw)) {
      current = { lines: [{ text: raw.trim(), line: i + 1 }] };
      blocks.push(current);
      continue;
    }
    if (current === undefined) {
      stray.push(i + 1);
      continue;
    }
    current.lines.push({ text: raw.trim(), line: i + 1 });
  }
  return { blocks, stray };
}

function parseBlock(block: Block, feed: string): Advisory | SkippedRecord {
  const [head, ...body] = block.lines;
  const headText = head?.text ?? '';
  const m = HEADER.exec(headText);
  const month = m ? MONTHS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || month === undefined) {
    return { record: `line ${head?.line ?? 0}: ${headText.slice(0, 80)}`, reason: `${feed}: malformed advisory header` };
  }
  const id = m[4] ?? '';
  const day = (m[1] ?? '').padStart(2, '0');
  const advisory: Advisory = {
    id,
    aliases: [],
    feed,
    published: `${m[3]}-${month}-${day}`,
    severities: [],
    references: [`https://security-tracker.debian.org/tracker/${id}`],
    affected: [],
  };
  const title = m[5]?.trim();
  if (title) advisory.title = title;
  const seen = new Set<string>();
  for (const { text, line } of body) {
    if (/^NOTE:/.test(text)) continue;
    const ids = IDS.exec(text);
    if (ids) {
      const tokens = (ids[1] ?? '').trim().split(/\s+/).filter((t) => t !== '');
      if (!tokens.every((t) => ID_TOKEN.test(t))) return { record: id, reason: `${feed}: malformed id list at line ${line}` };
      for (const t of tokens) if (!advisory.aliases.includes(t)) advisory.aliases.push(t);
      continue;
    }
    const rel = RELEASE.exec(text);
    if (!rel) return { record: id, reason: `${feed}: unreadable line ${line}: ${text.slice(0, 80)}` };
    const affected = releaseLine(rel[1] ?? '', rel[2] ?? '', rel[3] ?? '', rel[4]);
    if (affected === undefined) continue;
    const key = affectedKey(affected);
    if (seen.has(key)) continue;
    seen.add(key);
    advisory.affected.push(affected);
  }
  return advisory;
}

function releaseLine(codename: string, pkg: string, what: string, notes: string | undefined): AffectedPackage | undefined {
  const namespace = debianNamespace(codename);
  if (namespace === undefined) return undefined;
  const severity = urgencyFromNotes(notes);
  const base = { namespace, packageName: pkg, ...(severity ? { severity } : {}) };
  if (what.startsWith('<')) {
    const marker = what.slice(1, -1);
    const state = MARKER_STATE[marker] ?? 'unfixed';
    return state === 'not_affected'
      ? dpkgSourceAffected({ ...base, state })
      : dpkgSourceAffected({ ...base, state, vendorStatus: marker });
  }
  return dpkgSourceAffected({ ...base, state: 'fixed', fixedVersion: what });
}

// Old DSA lines carry the urgency among free-form notes: `(medium)`, `(bug #332424; medium)`.
function urgencyFromNotes(notes: string | undefined) {
  if (notes === undefined) return undefined;
  for (const part of notes.split(';')) {
    const word = part.trim().toLowerCase();
    if (['unimportant', 'low', 'medium', 'high'].includes(word)) return debianUrgencySeverity(word);
  }
  return undefined;
}

function makeListFeed(id: 'debian-dsa' | 'debian-dla', prefix: 'DSA' | 'DLA', url: string, description: string): AdvisoryFeed {
  const head = new RegExp(`^\\[\\d{1,2} [A-Za-z]{3} \\d{4}\\]\\s+${prefix}-\\d+`);
  return {
    kind: 'advisories',
    id,
    version: 1,
    description,
    upstream: [{ url, format: 'text' }],
    recognizes(file: FeedFile): boolean {
      const base = file.name.split('/').pop() ?? '';
      // Upstream names the file `list` (data/DSA/list); copies are often called DSA-list and the like.
      if (!/list/i.test(base) && !base.toUpperCase().includes(prefix)) return false;
      const firstLine = file.bytes.subarray(0, 512).toString('utf8').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
      return head.test(firstLine);
    },
    parse(files: FeedFile[]): AdvisoryParseResult {
      const advisories: Advisory[] = [];
      const skipped: SkippedRecord[] = [];
      let newestRecord: string | undefined;
      for (const file of files) {
        const r = parseDebianAdvisoryList(file.bytes.toString('utf8'), id);
        advisories.push(...r.advisories);
        skipped.push(...r.skipped.map((s) => ({ ...s, record: `${file.name}: ${s.record}` })));
        if (r.newestRecord !== undefined && (newestRecord === undefined || r.newestRecord > newestRecord)) newestRecord = r.newestRecord;
      }
      return newestRecord === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord };
    },
  };
}

/** Debian Security Advisories (`debian-dsa`): fixed source versions per stable release. */
export const debianDsaFeed: AdvisoryFeed = makeListFeed(
  'debian-dsa',
  'DSA',
  DEBIAN_DSA_LIST_URL,
  'Debian Security Advisories (DSA list): fixed source package versions per release',
);

/** Debian LTS Advisories (`debian-dla`): fixed source versions per LTS release. */
export const debianDlaFeed: AdvisoryFeed = makeListFeed(
  'debian-dla',
  'DLA',
  DEBIAN_DLA_LIST_URL,
  'Debian LTS Advisories (DLA list): fixed source package versions per LTS release',
);
