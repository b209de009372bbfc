/**
 * A generated OSV feed for the DB-build and matching benchmarks: N advisories in the shapes the
 * real OSV databases use (GHSA-like npm records with SEMVER ranges, PYSEC records with ECOSYSTEM
 * ranges and `versions` lists, GO records with module paths and `ecosystem_specific.imports`,
 * DEBIAN-CVE records with one affected entry per Debian release), packed as one `all.zip` per
 * ecosystem like OSV's own export. Names are drawn with a skew (a few packages have many
 * advisories) and every record has several ranges. Deterministic (seeded), cached under
 * `.cache/bench-feeds/<key>/` since writing it is not what is measured.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, type Zippable } from 'fflate';
import { repoRoot } from '../../test/harness/images.js';
import { rng, type Rng } from './random.js';

/** Share of each OSV ecosystem in the generated feed. */
export const GENERATED_MIX = { npm: 0.35, PyPI: 0.25, Go: 0.15, Debian: 0.25 } as const;
type OsvEco = keyof typeof GENERATED_MIX;

/** Distinct package names per ecosystem (the skewed draw leaves many with a single advisory). */
const NAME_POOL: Record<OsvEco, number> = { npm: 40_000, PyPI: 18_000, Go: 8_000, Debian: 4_000 };

const WORDS = [
  'alpha', 'beta', 'core', 'util', 'http', 'json', 'yaml', 'parse', 'client', 'server', 'stream', 'crypto', 'auth',
  'token', 'cache', 'store', 'image', 'react', 'vue', 'express', 'router', 'config', 'log', 'date', 'time', 'xml',
  'markdown', 'template', 'sql', 'orm', 'queue', 'worker', 'socket', 'proxy', 'cli', 'color', 'glob', 'path', 'fs',
  'zip', 'tar', 'mime', 'form', 'upload', 'session', 'cookie', 'jwt', 'oauth', 'ldap', 'mail', 'smtp', 'pdf', 'svg',
];

/** Deterministic package name number `i` of an ecosystem (the same on every call). */
export function generatedName(eco: OsvEco, i: number): string {
  const a = WORDS[i % WORDS.length] as string;
  const b = WORDS[Math.floor(i / WORDS.length) % WORDS.length] as string;
  const n = Math.floor(i / (WORDS.length * WORDS.length));
  switch (eco) {
    case 'npm':
      return i % 7 === 0 ? `@${b}/${a}-${n}` : `${a}-${b}-${n}`;
    case 'PyPI':
      return `${a}_${b}${n > 0 ? `-${n}` : ''}`;
    case 'Go':
      return `github.com/${b}${n}/go-${a}`;
    case 'Debian':
      return i % 5 === 0 ? `lib${a}${b}${n}` : `${a}-${b}${n}`;
  }
}

function semver(r: Rng): [number, number, number] {
  return [r.skewed(12), r.int(0, 30), r.int(0, 20)];
}

const show = (v: readonly number[]): string => v.join('.');

/** Several ascending introduced/fixed pairs, one per release line (like a backported fix). */
function rangeEvents(r: Rng, lines: number, fmt: (v: number[]) => string): Record<string, string>[][] {
  const out: Record<string, string>[][] = [];
  let major = r.int(0, 3);
  for (let i = 0; i < lines; i++) {
    const introduced = i === 0 && r.chance(0.5) ? '0' : fmt([major, 0, 0]);
    const fixedV = [major, r.int(0, 25), r.int(1, 20)];
    const events: Record<string, string>[] = [{ introduced }];
    // Some lines have no fix yet, or name the last affected version instead.
    if (i === lines - 1 && r.chance(0.08)) {
      if (r.chance(0.5)) events.push({ last_affected: fmt(fixedV) });
    } else {
      events.push({ fixed: fmt(fixedV) });
    }
    out.push(events);
    major += r.int(1, 2);
  }
  return out;
}

function ghsaId(r: Rng): string {
  const alphabet = '23456789cfghjmpqrvwx';
  const part = (): string => Array.from({ length: 4 }, () => alphabet[r.int(0, alphabet.length - 1)]).join('');
  return `GHSA-${part()}-${part()}-${part()}`;
}

const VECTORS = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N',
  'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:L',
];

function text(r: Rng, words: number): string {
  return Array.from({ length: words }, () => r.pick(WORDS)).join(' ');
}

function record(eco: OsvEco, seq: number, r: Rng): { id: string; json: object } {
  const year = 2015 + (seq % 11);
  const cve = `CVE-${year}-${10000 + seq}`;
  const nameIndex = r.skewed(NAME_POOL[eco]);
  const name = generatedName(eco, nameIndex);
  const modified = new Date(Date.UTC(year, r.int(0, 11), r.int(1, 28), r.int(0, 23), r.int(0, 59))).toISOString();
  const common = {
    schema_version: '1.6.0',
    modified,
    published: modified,
    summary: `${text(r, 4)} in ${name}`,
    details: `${text(r, 60 + r.int(0, 80))}.`,
    references: Array.from({ length: r.int(2, 5) }, (_, i) => ({ type: i === 0 ? 'ADVISORY' : r.pick(['WEB', 'FIX', 'REPORT', 'PACKAGE']), url: `https://example.org/${eco}/${seq}/${i}` })),
  };
  const lines = r.int(1, 4);
  switch (eco) {
    case 'npm': {
      const id = ghsaId(r);
      const ranges = rangeEvents(r, lines, show).map((events) => ({ type: 'SEMVER', events }));
      return {
        id,
        json: {
          ...common,
          id,
          aliases: [cve],
          severity: [{ type: 'CVSS_V3', score: r.pick(VECTORS) }],
          affected: [{ package: { ecosystem: 'npm', name, purl: `pkg:npm/${name.replace('@', '%40')}` }, ranges, database_specific: { source: 'generated' } }],
          database_specific: { cwe_ids: [`CWE-${r.int(20, 1000)}`], severity: r.pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']), github_reviewed: true },
        },
      };
    }
    case 'PyPI': {
      const id = `PYSEC-${year}-${seq}`;
      const events = rangeEvents(r, lines, show);
      // PyPA lists the affected releases too: a handful per range.
      const versions: string[] = [];
      for (const ev of events) {
        const intro = ev[0]?.introduced ?? '0';
        const base = intro === '0' ? [0, 1, 0] : intro.split('.').map(Number);
        for (let k = 0; k < r.int(2, 6); k++) versions.push(show([base[0] ?? 0, k, r.int(0, 9)]));
      }
      return {
        id,
        json: {
          ...common,
          id,
          aliases: [cve, ghsaId(r)],
          affected: [{ package: { ecosystem: 'PyPI', name, purl: `pkg:pypi/${name.toLowerCase().replace(/_/g, '-')}` }, ranges: events.map((e) => ({ type: 'ECOSYSTEM', events: e })), versions }],
        },
      };
    }
    case 'Go': {
      const id = `GO-${year}-${seq}`;
      const ranges = rangeEvents(r, lines, show).map((events) => ({ type: 'SEMVER', events }));
      return {
        id,
        json: {
          ...common,
          id,
          aliases: [cve, ghsaId(r)],
          affected: [
            {
              package: { ecosystem: 'Go', name },
              ranges,
              ecosystem_specific: { imports: [{ path: `${name}/${r.pick(WORDS)}`, symbols: [text(r, 1), text(r, 1)] }] },
            },
          ],
          database_specific: { url: `https://pkg.go.dev/vuln/${id}`, review_status: 'REVIEWED' },
        },
      };
    }
    case 'Debian': {
      const id = `DEBIAN-${cve}`;
      // One affected entry per Debian release; the versions carry Debian revisions.
      const releases = ['11', '12', '13'].filter((_, i) => i === 1 || r.chance(0.6));
      const [ma, mi, pa] = semver(r);
      const affected = releases.map((rel) => {
        const suffix = rel === '13' ? '-1' : `-1+deb${rel}u${r.int(1, 4)}`;
        const events: Record<string, string>[] = [{ introduced: '0' }];
        if (!r.chance(0.15)) events.push({ fixed: `${ma}.${mi}.${pa + r.int(0, 3)}${suffix}` });
        return { package: { ecosystem: `Debian:${rel}`, name, purl: `pkg:deb/debian/${name}?arch=source` }, ranges: [{ type: 'ECOSYSTEM', events }] };
      });
      return { id, json: { ...common, id, upstream: [cve], affected } };
    }
  }
}

/** Where one generated feed lives: `<dir>/<Ecosystem>/all.zip` (or `all-<n>.zip` parts of 50,000 records). */
export interface GeneratedFeed {
  dir: string;
  advisories: number;
  /** Uncompressed JSON bytes of all records. */
  jsonBytes: number;
  /** Zip bytes on disk. */
  zipBytes: number;
}

const GENERATOR_VERSION = 2;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
const ZIP_PART_ENTRIES = 50_000;

/** Writes (or reuses) a generated OSV feed of `count` advisories; returns where it is. */
export function generateOsvFeed(count: number, log: (m: string) => void = () => {}): GeneratedFeed {
  const key = createHash('sha256')
    .update(`${GENERATOR_VERSION}\0${count}\0`)
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  const root = join(repoRoot, '.cache', 'bench-feeds');
  const dir = join(root, key);
  const summaryFile = join(dir, '.summary.json');
  if (existsSync(summaryFile)) return { ...(JSON.parse(readFileSync(summaryFile, 'utf8')) as GeneratedFeed), dir };
  log(`writing a generated OSV feed of ${count} advisories to ${dir}`);
  // Builds killed half-way leave `.build-*` folders (hundreds of MB): remove those of dead processes.
  for (const name of existsSync(root) ? readdirSync(root) : []) {
    const pid = /^\.build-[0-9a-f]+-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(root, name), { recursive: true, force: true });
  }
  const tmp = join(root, `.build-${key}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = rng(0x5eed + count);
  let jsonBytes = 0;
  let zipBytes = 0;
  let seq = 0;
  const ecos = Object.keys(GENERATED_MIX) as OsvEco[];
  for (const [i, eco] of ecos.entries()) {
    const n = i === ecos.length - 1 ? count - seq : Math.round(count * GENERATED_MIX[eco]);
    mkdirSync(join(tmp, eco), { recursive: true });
    // fflate writes no ZIP64 records, so past 65,535 entries the archive's entry count wraps and
    // readers see only the remainder: split into parts well below that.
    for (let part = 1, done = 0; done < n; part++) {
      const entries: Zippable = {};
      for (let k = 0; k < ZIP_PART_ENTRIES && done < n; k++, done++, seq++) {
        const { id, json } = record(eco, seq, r);
        const bytes = Buffer.from(JSON.stringify(json, null, 2));
        jsonBytes += bytes.length;
        entries[`${id}.json`] = bytes;
      }
      const zip = zipSync(entries, { level: 1 });
      zipBytes += zip.length;
      writeFileSync(join(tmp, eco, n > ZIP_PART_ENTRIES ? `all-${part}.zip` : 'all.zip'), zip);
    }
  }
  const summary: GeneratedFeed = { dir: '', advisories: count, jsonBytes, zipBytes };
  writeFileSync(join(tmp, '.summary.json'), JSON.stringify(summary));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // A feed of the same size written by an older generator is superseded (and ~300 MB).
  for (const name of readdirSync(root)) {
    if (name === key || !/^[0-9a-f]{16}$/.test(name)) continue;
    try {
      const other = JSON.parse(readFileSync(join(root, name, '.summary.json'), 'utf8')) as GeneratedFeed;
      if (other.advisories === count) rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // Not a finished feed: left alone.
    }
  }
  return { ...summary, dir };
}
