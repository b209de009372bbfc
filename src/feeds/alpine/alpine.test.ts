import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory } from '../../domain/advisory.js';
import type { FeedFile } from '../types.js';
import { alpineSecdbFeed, idsOfLine, wolfiSecdbFeed } from './index.js';
import { walkFiles as walk } from '../../../test/support/files.js';


function files(root: string, filter: (name: string) => boolean = () => true): FeedFile[] {
  return walk(root)
    .filter(filter)
    .map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
}

interface RawSecdb {
  distroversion?: string;
  packages: { pkg: { name: string; secfixes: Record<string, string[] | null> } }[] | null;
}

/**
 * The statements a secdb document makes, computed independently of the parser: one per
 * (namespace, package, fixed version, id), where a line's ids are its CVEs or, lacking any, its
 * first id-looking word.
 */
function expectedStatements(docs: RawSecdb[], namespaceOf: (d: RawSecdb) => string): Set<string> {
  const out = new Set<string>();
  for (const doc of docs) {
    for (const p of doc.packages ?? []) {
      for (const [version, lines] of Object.entries(p.pkg.secfixes)) {
        for (const line of lines ?? []) {
          const cves = line.match(/CVE[-_]\d{4}-\d+/g)?.map((c) => c.replace('_', '-')) ?? [];
          const ids = cves.length > 0 ? cves : [line.split(/\s+/).find((w) => /-.*\d/.test(w)) ?? line];
          for (const id of ids) out.add([namespaceOf(doc), p.pkg.name, version, id].join('|'));
        }
      }
    }
  }
  return out;
}

function statementsOf(advisories: Advisory[]): Set<string> {
  const out = new Set<string>();
  for (const a of advisories) {
    for (const p of a.affected) {
      if (p.state === 'not_affected') out.add([p.namespace, p.packageName, '0', a.id].join('|'));
      for (const r of p.ranges) {
        const fixed = r.events.find((e) => 'fixed' in e);
        out.add([p.namespace, p.packageName, fixed && 'fixed' in fixed ? fixed.fixed : '?', a.id].join('|'));
      }
    }
  }
  return out;
}

describe('alpine secdb', () => {
  const root = sharedData('feeds', 'alpine-secdb');

  test('every release document parses: the statements are exactly those of the documents, nothing skipped', () => {
    const json = files(root, (f) => /\/v3\.\d+\/[a-z]+\.json$/.test(f));
    assert.equal(json.length, 16);
    assert.equal(json.filter((f) => !alpineSecdbFeed.recognizes(f)).length, 0);
    const result = alpineSecdbFeed.parse(json);
    assert.deepEqual(result.skipped, []);
    const docs = json.map((f) => JSON.parse(f.bytes.toString('utf8')) as RawSecdb);
    const expected = expectedStatements(docs, (d) => `alpine:${(d.distroversion ?? '').slice(1)}`);
    assert.deepEqual(statementsOf(result.advisories), expected);
    assert.equal(expected.size, 10286);
  });

  test('YAML and JSON forms give the same advisories', () => {
    const yaml = alpineSecdbFeed.parse(files(root, (f) => /\/v3\.\d+\/[a-z]+\.yaml$/.test(f)));
    const json = alpineSecdbFeed.parse(files(root, (f) => /\/v3\.\d+\/[a-z]+\.json$/.test(f)));
    assert.deepEqual(yaml.skipped, []);
    assert.deepEqual(yaml.advisories, json.advisories);
  });

  test('samples (claircore JSON, vunnel v3.15 YAML) parse; an excerpt imported beside its full document adds nothing', () => {
    const samples = files(join(root, 'samples'));
    assert.equal(samples.length, 3);
    assert.equal(samples.filter((f) => !alpineSecdbFeed.recognizes(f)).length, 0);
    const result = alpineSecdbFeed.parse(samples);
    assert.deepEqual(result.skipped, []);
    const v315 = result.advisories.flatMap((a) => a.affected).filter((p) => p.namespace === 'alpine:3.15');
    assert.ok(v315.length > 0);
    const community = files(root, (f) => f.endsWith('v3.10/community.json'));
    const withExcerpt = alpineSecdbFeed.parse([...community, ...samples.filter((f) => f.name.includes('claircore'))]);
    assert.deepEqual(statementsOf(withExcerpt.advisories), statementsOf(alpineSecdbFeed.parse(community).advisories));
  });

  test('hand-checked: ansible in v3.10 main; fixed version means introduced 0, fixed X', () => {
    const result = alpineSecdbFeed.parse(files(root, (f) => f.endsWith('v3.10/main.json')));
    const a = result.advisories.find((x) => x.id === 'CVE-2019-10206');
    assert.ok(a);
    assert.deepEqual(a.affected, [
      {
        ecosystem: 'apk',
        namespace: 'alpine:3.10',
        packageName: 'ansible',
        nameKind: 'source',
        scheme: 'apk',
        state: 'fixed',
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.8.4-r0' }] }],
        versions: [],
      },
    ]);
    assert.deepEqual(a.references, ['https://security.alpinelinux.org/vuln/CVE-2019-10206']);
  });

  test('version 0 means not affected', () => {
    const result = alpineSecdbFeed.parse(files(root, (f) => /\/v3\.\d+\/[a-z]+\.json$/.test(f)));
    const zeros = result.advisories.flatMap((a) => a.affected.filter((p) => p.state === 'not_affected'));
    assert.ok(zeros.length > 0);
    for (const p of zeros) assert.deepEqual(p.ranges, []);
  });

  test('several ids on a line: each CVE is an advisory, the others its aliases', () => {
    const result = alpineSecdbFeed.parse(files(root, (f) => /\/v3\.\d+\/main\.json$/.test(f)));
    const talos = result.advisories.find((a) => a.id === 'CVE-2019-5060');
    assert.ok(talos);
    assert.deepEqual(talos.aliases, ['TALOS-2019-0844']);
    const xpti = result.advisories.find((a) => a.id === 'CVE-2017-5754');
    assert.ok(xpti?.aliases.includes('XSA-254'));
    assert.ok(result.advisories.some((a) => a.id === 'XSA-207'), 'a line with no CVE keeps its own id');
  });

  test('idsOfLine', () => {
    assert.deepEqual(idsOfLine('CVE-2018-14468 (FrameRelay)'), { cves: ['CVE-2018-14468'], others: [] });
    assert.deepEqual(idsOfLine('CVE-????-?????  XSA-295'), { cves: [], others: ['XSA-295'] });
    assert.deepEqual(idsOfLine('CVE_2019-2426'), { cves: ['CVE-2019-2426'], others: [] });
    assert.deepEqual(idsOfLine('CVE-2019-19451.patch'), { cves: ['CVE-2019-19451'], others: [] });
    assert.deepEqual(idsOfLine('CVE-2017-17434-1'), { cves: ['CVE-2017-17434'], others: [] });
    assert.deepEqual(idsOfLine('CVE-2017-5753 CVE-2017-5715 XSA-254 XPTI'), { cves: ['CVE-2017-5753', 'CVE-2017-5715'], others: ['XSA-254'] });
    assert.deepEqual(idsOfLine('XPTI'), { cves: [], others: [] });
  });

  test('malformed input: a bad package entry and an unparsable file are skipped, the rest loads', () => {
    const doc = {
      distroversion: 'v3.20',
      reponame: 'main',
      packages: [
        { pkg: { name: 'zlib', secfixes: { '1.2.12-r0': ['CVE-2018-25032'] } } },
        { pkg: { secfixes: { '1.0-r0': ['CVE-2020-0001'] } } },
        { pkg: { name: 'xz', secfixes: { '5.2.5-r1': ['CVE-2022-1271'], '0': ['CVE-2015-0001'] } } },
      ],
    };
    const result = alpineSecdbFeed.parse([
      { name: 'v3.20/main.json', bytes: Buffer.from(JSON.stringify(doc)) },
      { name: 'v3.20/community.json', bytes: Buffer.from('{"distroversion": "v3.20", "packages": [') },
    ]);
    assert.deepEqual(result.advisories.map((a) => a.id).sort(), ['CVE-2015-0001', 'CVE-2018-25032', 'CVE-2022-1271']);
    assert.deepEqual(result.skipped.map((s) => s.record), ['v3.20/main.json#packages[1]', 'v3.20/community.json']);
    assert.equal(result.advisories.find((a) => a.id === 'CVE-2015-0001')?.affected[0]?.state, 'not_affected');
  });

  test('a document without distroversion cannot be placed and is skipped', () => {
    const result = alpineSecdbFeed.parse([{ name: 'x.json', bytes: Buffer.from(JSON.stringify({ packages: [{ pkg: { name: 'a', secfixes: {} } }] })) }]);
    assert.equal(result.advisories.length, 0);
    assert.equal(result.skipped.length, 1);
  });
});

describe('wolfi secdb', () => {
  test('the vunnel sample parses into wolfi:rolling with every statement', () => {
    const root = sharedData('feeds', 'wolfi-secdb');
    const list = files(root);
    assert.equal(list.length, 1);
    assert.equal(wolfiSecdbFeed.recognizes(list[0] as FeedFile), true);
    assert.equal(alpineSecdbFeed.recognizes(list[0] as FeedFile), false);
    const result = wolfiSecdbFeed.parse(list);
    assert.deepEqual(result.skipped, []);
    const doc = JSON.parse((list[0] as FeedFile).bytes.toString('utf8')) as RawSecdb;
    assert.deepEqual(statementsOf(result.advisories), expectedStatements([doc], () => 'wolfi:rolling'));
    const coreutils = result.advisories.find((a) => a.id === 'CVE-2016-2781');
    assert.deepEqual(coreutils?.affected.map((p) => [p.namespace, p.packageName, p.state]), [['wolfi:rolling', 'coreutils', 'not_affected']]);
  });
});
