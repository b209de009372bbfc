import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { zipSync } from 'fflate';
import { sharedData } from '../../test/support/shared-data.js';
import type { Advisory } from '../domain/advisory.js';
import { isPortcullisError } from '../domain/errors.js';
import type { Ecosystem } from '../domain/package.js';
import { alpineSecdbFeed, wolfiSecdbFeed } from '../feeds/alpine/index.js';
import { npmSecurityWgFeed } from '../feeds/npm-security-wg/index.js';
import { osvFeed } from '../feeds/osv/index.js';
import { rubysecFeed } from '../feeds/rubysec/index.js';
import type { AdvisoryFeed, EnrichmentFeed, Feed, FeedFile } from '../feeds/types.js';
import { buildVulnDb, defaultDbPath, importFeeds, openVulnDb, packageKey, type BuildInput } from './index.js';
import { walkFiles as walk } from '../../test/support/files.js';


function filesUnder(...parts: string[]): FeedFile[] {
  const root = sharedData('feeds', ...parts);
  return walk(root).map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
}

const FETCHED_AT = '2026-11-01T00:00:00.000Z';

function input(feed: Feed, files: FeedFile[], source = 'test'): BuildInput {
  return { feed, files, source, fetchedAt: FETCHED_AT };
}

/** The real samples of the feeds this module's tests use, one input per feed. */
function sampleInputs(): BuildInput[] {
  return [
    input(osvFeed, filesUnder('osv')),
    input(alpineSecdbFeed, filesUnder('alpine-secdb')),
    input(wolfiSecdbFeed, filesUnder('wolfi-secdb')),
    input(npmSecurityWgFeed, filesUnder('npm-security-wg')),
    input(rubysecFeed, filesUnder('rubysec')),
  ];
}

function fakeFeed(id: string, advisories: Advisory[], parse?: () => never): AdvisoryFeed {
  return {
    kind: 'advisories',
    id,
    version: 1,
    description: id,
    upstream: [],
    recognizes: () => false,
    parse: parse ?? (() => ({ advisories, skipped: [] })),
  };
}

function advisory(id: string, packageName: string, namespace = 'npm', ecosystem: Ecosystem = 'npm'): Advisory {
  return {
    id,
    aliases: [],
    feed: 'x',
    severities: [],
    references: [],
    affected: [{ ecosystem, namespace, packageName, nameKind: 'binary', scheme: 'npm', state: 'fixed', ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }], versions: [] }],
  };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-vulndb-'));
});
// Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('vulndb: build from every sample and look up', () => {
  const inputs = sampleInputs();
  const parsed = new Map(inputs.map((i) => [i.feed.id, (i.feed as AdvisoryFeed).parse(i.files)]));
  let path: string;

  before(async () => {
    path = join(dir, 'samples.db');
    await buildVulnDb(path, inputs, { now: () => new Date('2026-11-02T00:00:00Z') });
  });

  test('feed metadata: counts, newest record, skipped = 0', () => {
    const db = openVulnDb(path);
    try {
      assert.equal(db.builtAt, '2026-11-02T00:00:00.000Z');
      const feeds = db.feeds();
      assert.deepEqual(
        feeds.map((f) => f.feed),
        ['alpine-secdb', 'npm-security-wg', 'osv', 'rubysec', 'wolfi-secdb'],
      );
      for (const f of feeds) {
        const p = parsed.get(f.feed);
        assert.ok(p);
        assert.equal(f.recordCount, p.advisories.length, f.feed);
        assert.equal(f.skipped, 0, f.feed);
        assert.equal(f.newestRecord, p.newestRecord, f.feed);
        assert.equal(f.fetchedAt, FETCHED_AT);
        assert.equal(f.source, 'test');
      }
      // OSV: 1467 files of which 300 PyPI YAML twins: one advisory per distinct id
      assert.equal(feeds.find((f) => f.feed === 'osv')?.recordCount, 1167);
      assert.equal(feeds.find((f) => f.feed === 'npm-security-wg')?.recordCount, 250);
    } finally {
      db.close();
    }
  });

  test('every statement of every non-withdrawn advisory is found by its namespace and name, and nothing else', () => {
    const db = openVulnDb(path);
    try {
      for (const [feedId, result] of parsed) {
        const expected = new Map<string, Set<string>>();
        for (const a of result.advisories) {
          if (a.withdrawn !== undefined) continue;
          for (const p of a.affected) {
            const k = `${p.ecosystem}\u0000${p.namespace}`;
            const set = expected.get(k) ?? new Set<string>();
            set.add(`${a.id}|${p.packageName}|${JSON.stringify(p)}`);
            expected.set(k, set);
          }
        }
        for (const [k, want] of expected) {
          const [ecosystem, namespace] = k.split('\u0000') as [Ecosystem, string];
          const names = [...new Set([...want].map((w) => w.split('|')[1] as string))];
          const got = db.affectedFor(ecosystem, namespace, names).filter((m) => m.advisory.feed === feedId);
          assert.deepEqual(new Set(got.map((m) => `${m.advisory.id}|${m.affected.packageName}|${JSON.stringify(m.affected)}`)), want, `${feedId} ${namespace}`);
        }
      }
    } finally {
      db.close();
    }
  });

  test('hand-checked lookups', () => {
    const db = openVulnDb(path);
    try {
      const net = db.affectedFor('golang', 'Go', ['golang.org/x/net']);
      assert.ok(net.some((m) => m.advisory.id === 'GO-2020-0014' && m.affected.packageName === 'golang.org/x/net'));
      assert.ok(net.every((m) => m.affected.packageName === 'golang.org/x/net'));
      // PyPI names compare normalized (PEP 503)
      assert.deepEqual(
        db.affectedFor('pypi', 'PyPI', ['Apache_Airflow']).map((m) => m.advisory.id),
        db.affectedFor('pypi', 'PyPI', ['apache-airflow']).map((m) => m.advisory.id),
      );
      assert.ok(db.affectedFor('pypi', 'PyPI', ['Apache_Airflow']).length > 0);
      // other ecosystems are exact
      assert.deepEqual(db.affectedFor('golang', 'Go', ['GOLANG.ORG/X/NET']), []);
      // namespaces are separate
      assert.deepEqual(db.affectedFor('apk', 'alpine:3.99', ['xen']), []);
      assert.ok(db.affectedFor('apk', 'alpine:3.10', ['xen']).length > 0);
      assert.ok(db.affectedFor('rpm', 'almalinux:8', ['oci-systemd-hook']).some((m) => m.advisory.id === 'ALSA-2019:4269'));
      assert.deepEqual(db.affectedFor('npm', 'npm', []), []);
      // results come grouped by name in the order asked
      const both = db.affectedFor('apk', 'alpine:3.10', ['zlib', 'xen']).map((m) => m.affected.packageName);
      assert.equal(both.lastIndexOf('zlib') < both.indexOf('xen'), true);
    } finally {
      db.close();
    }
  });

  test('withdrawn advisories are stored but never matched', () => {
    const db = openVulnDb(path);
    try {
      assert.ok(!db.affectedFor('cargo', 'crates.io', ['ring']).some((m) => m.advisory.id === 'RUSTSEC-2025-0007'));
      const [ring] = db.advisoriesFor(['RUSTSEC-2025-0007']);
      assert.equal(ring?.withdrawn, '2025-02-22T12:00:00.000Z');
    } finally {
      db.close();
    }
  });

  test('advisoriesFor finds by id, alias and related id', () => {
    const db = openVulnDb(path);
    try {
      assert.ok(db.advisoriesFor(['CVE-2018-17846']).some((a) => a.id === 'GO-2020-0014'));
      assert.ok(db.advisoriesFor(['GHSA-r9mq-m72x-257g']).some((a) => a.id === 'CVE-2023-50727'));
      assert.ok(db.advisoriesFor(['CVE-2021-35565']).some((a) => a.id === 'RLSA-2021:3891'));
      assert.deepEqual(db.advisoriesFor([]), []);
      assert.deepEqual(db.advisoriesFor(['CVE-0000-0000']), []);
    } finally {
      db.close();
    }
  });

  test('namespaces lists what the DB holds', () => {
    const db = openVulnDb(path);
    try {
      assert.deepEqual(db.namespaces('rpm'), ['almalinux:10', 'almalinux:8', 'almalinux:9', 'rocky:8', 'rocky:9']);
      assert.ok(db.namespaces('apk').includes('wolfi:rolling'));
    } finally {
      db.close();
    }
  });
});

describe('vulndb: duplicates, enrichment, schema', () => {
  test('duplicate ids within a feed are merged, enrichment is merged across feeds', async () => {
    const a1 = advisory('GHSA-1', 'left-pad');
    const a2 = { ...advisory('GHSA-1', 'right-pad'), aliases: ['CVE-2020-1'] };
    const nvd: EnrichmentFeed = {
      kind: 'enrichment',
      id: 'nvd',
      version: 1,
      description: 'nvd',
      upstream: [],
      recognizes: () => false,
      parse: () => ({ records: [{ cve: 'CVE-2020-1', cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, source: 'nvd' }] }], skipped: [], newestRecord: '2020-01-01' }),
    };
    const kev: EnrichmentFeed = { ...nvd, id: 'kev', parse: () => ({ records: [{ cve: 'CVE-2020-1', kev: { dateAdded: '2021-11-03' } }, { cve: 'CVE-2020-2', epss: { score: 0.5, percentile: 0.9 } }], skipped: [] }) };
    const path = join(dir, 'merge.db');
    const summary = await buildVulnDb(path, [input(fakeFeed('ghsa', [a1, a2]), []), input(nvd, []), input(kev, [])]);
    assert.equal(summary.advisories, 1);
    assert.equal(summary.affectedRows, 2);
    assert.equal(summary.enrichmentRecords, 3);
    const db = openVulnDb(path);
    try {
      assert.deepEqual(db.affectedFor('npm', 'npm', ['left-pad', 'right-pad']).map((m) => [m.advisory.id, m.affected.packageName]), [
        ['GHSA-1', 'left-pad'],
        ['GHSA-1', 'right-pad'],
      ]);
      assert.deepEqual(db.advisoriesFor(['CVE-2020-1']).map((a) => a.id), ['GHSA-1']);
      const e = db.enrichment(['CVE-2020-1', 'CVE-2020-2', 'CVE-2020-3']);
      assert.deepEqual([...e.keys()].sort(), ['CVE-2020-1', 'CVE-2020-2']);
      assert.equal(e.get('CVE-2020-1')?.cvss?.[0]?.score, 9.8);
      assert.equal(e.get('CVE-2020-1')?.kev?.dateAdded, '2021-11-03');
      assert.deepEqual(db.enrichment([]), new Map());
      assert.deepEqual(db.feeds().find((f) => f.feed === 'nvd'), { feed: 'nvd', kind: 'enrichment', version: 1, source: 'test', fetchedAt: FETCHED_AT, recordCount: 1, newestRecord: '2020-01-01', skipped: 0 });
    } finally {
      db.close();
    }
  });

  test('a DB of another schema version, a foreign SQLite file and a missing file give E_DB', async () => {
    const path = join(dir, 'schema.db');
    await buildVulnDb(path, [input(fakeFeed('f', [advisory('A-1', 'x')]), [])]);
    const rw = new Database(path);
    rw.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    rw.close();
    assert.throws(() => openVulnDb(path), (err) => isPortcullisError(err, 'E_DB') && /schema version 999/.test(err.message) && /db update/.test(err.message));

    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE t (x)');
    f.close();
    assert.throws(() => openVulnDb(foreign), (err) => isPortcullisError(err, 'E_DB') && /not a Portcullis vulnerability database/.test(err.message));
    const text = join(dir, 'text.db');
    writeFileSync(text, 'hello, not sqlite at all, but long enough to be read as a header of something');
    assert.throws(() => openVulnDb(text), (err) => isPortcullisError(err, 'E_DB'));
    assert.throws(() => openVulnDb(join(dir, 'missing.db')), (err) => isPortcullisError(err, 'E_DB') && /db update/.test(err.message));
  });

  test('the same feed twice in one build is refused', async () => {
    const feed = fakeFeed('f', []);
    await assert.rejects(buildVulnDb(join(dir, 'twice.db'), [input(feed, []), input(feed, [])]), (err) => isPortcullisError(err, 'E_DB'));
  });

  test('an empty build is a valid, empty DB', async () => {
    const path = join(dir, 'empty.db');
    await buildVulnDb(path, []);
    const db = openVulnDb(path);
    assert.deepEqual(db.feeds(), []);
    assert.deepEqual(db.affectedFor('npm', 'npm', ['x']), []);
    db.close();
  });
});

describe('vulndb: keeping feeds across builds', () => {
  test('feeds not rebuilt are carried over with working lookups; rebuilt feeds are replaced', async () => {
    const path = join(dir, 'keep.db');
    await buildVulnDb(path, [input(fakeFeed('one', [advisory('ONE-1', 'a'), { ...advisory('ONE-2', 'b'), aliases: ['CVE-1'] }]), []), input(fakeFeed('two', [advisory('TWO-1', 'a')]), [])]);
    const summary = await buildVulnDb(path, [input(fakeFeed('two', [advisory('TWO-2', 'c')]), [], 'second')], { keepFrom: path });
    assert.deepEqual(summary.kept, ['one']);
    const db = openVulnDb(path);
    try {
      assert.deepEqual(db.feeds().map((f) => [f.feed, f.source, f.recordCount]), [
        ['one', 'test', 2],
        ['two', 'second', 1],
      ]);
      assert.deepEqual(db.affectedFor('npm', 'npm', ['a', 'b', 'c']).map((m) => m.advisory.id), ['ONE-1', 'ONE-2', 'TWO-2']);
      assert.deepEqual(db.advisoriesFor(['CVE-1']).map((a) => a.id), ['ONE-2']);
    } finally {
      db.close();
    }
  });

  test('feeds of a DB with another schema are dropped, not copied', async () => {
    const path = join(dir, 'keep-old.db');
    await buildVulnDb(path, [input(fakeFeed('one', [advisory('ONE-1', 'a')]), [])]);
    const rw = new Database(path);
    rw.prepare("UPDATE meta SET value = '0' WHERE key = 'schema_version'").run();
    rw.close();
    const summary = await buildVulnDb(path, [input(fakeFeed('two', [advisory('TWO-1', 'a')]), [])], { keepFrom: path });
    assert.deepEqual([summary.kept, summary.dropped], [[], ['one']]);
  });
});

describe('vulndb: atomic replacement', () => {
  const original = [advisory('OLD-1', 'left-pad')];

  async function freshTarget(name: string): Promise<string> {
    const path = join(dir, name);
    await buildVulnDb(path, [input(fakeFeed('f', original), [])], { now: () => new Date('2026-01-01T00:00:00Z') });
    return path;
  }

  function assertOriginal(path: string): void {
    const db = openVulnDb(path);
    try {
      assert.equal(db.builtAt, '2026-01-01T00:00:00.000Z');
      assert.deepEqual(db.affectedFor('npm', 'npm', ['left-pad']).map((m) => m.advisory.id), ['OLD-1']);
    } finally {
      db.close();
    }
  }

  const temps = (name: string): string[] => readdirSync(dir).filter((n) => n.startsWith(`.${name}.`));

  test('a failure injected mid-build leaves the old DB answering, and no temp file', async () => {
    const path = await freshTarget('inject.db');
    await assert.rejects(
      buildVulnDb(path, [input(fakeFeed('f', [advisory('NEW-1', 'left-pad')]), []), input(fakeFeed('g', []), [])], {
        afterFeed: (id) => {
          if (id === 'f') throw new Error('disk on fire');
        },
      }),
      (err) => isPortcullisError(err, 'E_DB') && /disk on fire/.test(err.message),
    );
    assertOriginal(path);
    assert.deepEqual(temps('inject.db'), []);
  });

  test('a parser that throws fails the build with E_DB and leaves the old DB', async () => {
    const path = await freshTarget('throw.db');
    const bad = fakeFeed('f', [], () => {
      throw new Error('parser bug');
    });
    await assert.rejects(buildVulnDb(path, [input(bad, [])]), (err) => isPortcullisError(err, 'E_DB') && /feed f failed to load: parser bug/.test(err.message));
    assertOriginal(path);
  });

  test('a build process killed mid-build leaves the old DB answering; the next build removes its temp file', async () => {
    const path = await freshTarget('killed.db');
    const buildModule = pathToFileURL(join(import.meta.dirname, 'build.ts')).href;
    // The child builds a large feed and says when the first feed is in; it is then SIGKILLed.
    const code = `
      const { buildVulnDb } = await import(${JSON.stringify(buildModule)});
      const advisories = [];
      for (let i = 0; i < 200000; i++) advisories.push({ id: 'NEW-' + i, aliases: [], feed: 'f', severities: [], references: [], affected: [{ ecosystem: 'npm', namespace: 'npm', packageName: 'left-pad', nameKind: 'binary', scheme: 'npm', state: 'fixed', ranges: [], versions: [] }] });
      const feed = (id, list) => ({ kind: 'advisories', id, version: 1, description: id, upstream: [], recognizes: () => false, parse: () => ({ advisories: list, skipped: [] }) });
      await buildVulnDb(${JSON.stringify(path)}, [
        { feed: feed('a', []), files: [], source: 'child', fetchedAt: 'x' },
        { feed: feed('f', advisories), files: [], source: 'child', fetchedAt: 'x' },
        { feed: feed('g', advisories.map((a) => ({ ...a, id: 'G' + a.id }))), files: [], source: 'child', fetchedAt: 'x' },
      ], { afterFeed: (id) => { if (id === 'a') process.stdout.write('started\\n'); } });
      process.stdout.write('finished\\n');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('started')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve())));
    assert.equal(out.includes('finished'), false, 'the child was killed before finishing');
    assert.equal(child.signalCode, 'SIGKILL');
    assertOriginal(path);
    assert.equal(temps('killed.db').length, 1, 'the killed build left its temp file');
    await buildVulnDb(path, [input(fakeFeed('f', original), [])]);
    assert.deepEqual(temps('killed.db'), []);
  });

  test('a reader that opened the old DB keeps reading it across a rebuild', async () => {
    const path = await freshTarget('reader.db');
    const reader = openVulnDb(path);
    await buildVulnDb(path, [input(fakeFeed('f', [advisory('NEW-1', 'left-pad')]), [])]);
    try {
      assert.deepEqual(reader.affectedFor('npm', 'npm', ['left-pad']).map((m) => m.advisory.id), ['OLD-1']);
    } finally {
      reader.close();
    }
    const fresh = openVulnDb(path);
    assert.deepEqual(fresh.affectedFor('npm', 'npm', ['left-pad']).map((m) => m.advisory.id), ['NEW-1']);
    fresh.close();
  });
});

describe('vulndb: import', () => {
  test('folders, single files and zips are recognized per feed; unknown files are reported', async () => {
    const zipRoot = sharedData('feeds', 'osv', 'Go');
    const zipEntries: Record<string, Uint8Array> = {};
    for (const f of walk(zipRoot)) zipEntries[`osv/${f.slice(zipRoot.length + 1)}`] = new Uint8Array(readFileSync(f));
    zipEntries['README.txt'] = new TextEncoder().encode('not a feed');
    const zipPath = join(dir, 'go-osv.zip');
    writeFileSync(zipPath, zipSync(zipEntries));
    const stray = join(dir, 'notes.txt');
    writeFileSync(stray, 'nothing to see');
    const single = join(dir, 'main.yaml');
    copyFileSync(sharedData('feeds', 'alpine-secdb', 'v3.11', 'main.yaml'), single);

    const target = join(dir, 'imported.db');
    const summary = await importFeeds([sharedData('feeds', 'rubysec'), zipPath, single, stray], { target, now: () => new Date('2026-11-03T00:00:00Z') });
    assert.deepEqual(summary.filesByFeed, { rubysec: 250, osv: 300, 'alpine-secdb': 1 });
    assert.deepEqual(summary.unrecognized, [`${zipPath}!/README.txt`, stray]);
    const db = openVulnDb(target);
    try {
      const feeds = db.feeds();
      assert.deepEqual(feeds.map((f) => [f.feed, f.recordCount, f.skipped, f.fetchedAt]), [
        ['alpine-secdb', alpineSecdbFeed.parse([{ name: 'main.yaml', bytes: readFileSync(single) }]).advisories.length, 0, '2026-11-03T00:00:00.000Z'],
        ['osv', 300, 0, '2026-11-03T00:00:00.000Z'],
        ['rubysec', 246, 0, '2026-11-03T00:00:00.000Z'],
      ]);
      assert.equal(feeds.find((f) => f.feed === 'osv')?.source, `import:${zipPath}`);
      assert.ok(db.affectedFor('gem', 'RubyGems', ['resque']).some((m) => m.advisory.id === 'CVE-2023-50727'));
      assert.ok(db.affectedFor('apk', 'alpine:3.11', ['xen']).length > 0);
    } finally {
      db.close();
    }
    // A second import of one feed keeps the others.
    await importFeeds([sharedData('feeds', 'npm-security-wg')], { target });
    const again = openVulnDb(target);
    assert.deepEqual(again.feeds().map((f) => f.feed), ['alpine-secdb', 'npm-security-wg', 'osv', 'rubysec']);
    again.close();
  });

  test('nothing recognized is an error and leaves the DB alone', async () => {
    const target = join(dir, 'nothing.db');
    const stray = join(dir, 'nothing.txt');
    writeFileSync(stray, 'x');
    await assert.rejects(importFeeds([stray], { target }), (err) => isPortcullisError(err, 'E_INPUT') && /nothing to import/.test(err.message));
    assert.equal(existsSync(target), false);
    await assert.rejects(importFeeds([join(dir, 'does-not-exist')], { target }), (err) => isPortcullisError(err, 'E_INPUT'));
  });
});

describe('vulndb: paths and keys', () => {
  test('default DB location', () => {
    assert.equal(defaultDbPath({ PORTCULLIS_DB: '/x/y.db', HOME: '/home/u' }), '/x/y.db');
    assert.equal(defaultDbPath({ XDG_CACHE_HOME: '/c', HOME: '/home/u' }), '/c/portcullis/vuln.db');
    assert.equal(defaultDbPath({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.cache/portcullis/vuln.db');
    assert.equal(defaultDbPath({ HOME: '/home/u' }), '/home/u/.cache/portcullis/vuln.db');
  });

  test('package keys', () => {
    assert.equal(packageKey('pypi', 'Zope.Interface'), 'zope-interface');
    assert.equal(packageKey('pypi', 'a__b--c'), 'a-b-c');
    assert.equal(packageKey('golang', 'github.com/Foo/Bar'), 'github.com/Foo/Bar');
    assert.equal(packageKey('npm', '@scope/Name'), '@scope/Name');
  });
});
