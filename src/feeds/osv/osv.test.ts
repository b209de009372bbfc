import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory } from '../../domain/advisory.js';
import type { FeedFile } from '../types.js';
import { mapOsvEcosystem, osvFeed, parseOsvFiles } from './index.js';
import { summaryModule, summaryModules } from './parse.js';
import { walkFiles as walk } from '../../../test/support/files.js';


function load(...parts: string[]): FeedFile[] {
  const root = sharedData('feeds', 'osv', ...parts);
  return walk(root).map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
}

function raw(file: FeedFile): Record<string, unknown> {
  return JSON.parse(file.bytes.toString('utf8')) as Record<string, unknown>;
}

function byId(advisories: Advisory[], id: string): Advisory {
  const found = advisories.find((a) => a.id === id);
  assert.ok(found, `advisory ${id} present`);
  return found;
}

describe('osv: every sample folder parses', () => {
  for (const folder of ['AlmaLinux', 'Debian', 'Go', 'Rocky', 'Ubuntu', 'crates.io']) {
    test(`${folder}: one advisory per file, every affected entry kept, nothing skipped`, () => {
      const files = load(folder);
      assert.ok(files.length > 0);
      assert.equal(files.filter((f) => !osvFeed.recognizes(f)).length, 0, 'every file recognized');
      const result = osvFeed.parse(files);
      assert.deepEqual(result.skipped, []);
      const raws = files.map(raw);
      assert.equal(result.advisories.length, new Set(raws.map((r) => r.id)).size);
      assert.equal(result.advisories.length, files.length);
      // Every entry is kept; a module build of an AlmaLinux/Rocky record whose summary names several
      // streams (ALSA-2020:1644 `pki-core:10.6 and pki-deps:10.6`) is kept once per stream.
      const copies = (r: Record<string, unknown>, entry: unknown): number => {
        const streams = summaryModules(typeof r.summary === 'string' ? r.summary : undefined).length;
        return streams > 1 && /\.module[_+]/.test(JSON.stringify(entry)) ? streams : 1;
      };
      const expectedAffected = raws.reduce((n, r) => n + (r.affected as unknown[]).reduce((m: number, e) => m + copies(r, e), 0), 0);
      assert.equal(result.advisories.reduce((n, a) => n + a.affected.length, 0), expectedAffected);
      // ids are those inside the files, not the file names (AlmaLinux `ALSA-2024:1234` is stored as ALSA-2024_1234.json)
      assert.deepEqual(new Set(result.advisories.map((a) => a.id)), new Set(raws.map((r) => r.id)));
    });
  }

  test('PyPI: YAML and JSON twins give the same advisories, and importing both counts each once', () => {
    const files = load('PyPI');
    const yaml = files.filter((f) => f.name.endsWith('.yaml'));
    const json = files.filter((f) => f.name.endsWith('.json'));
    assert.equal(yaml.length, json.length);
    assert.equal(files.filter((f) => !osvFeed.recognizes(f)).length, 0);
    const fromYaml = parseOsvFiles(yaml);
    const fromJson = parseOsvFiles(json);
    const both = parseOsvFiles(files);
    assert.deepEqual(fromYaml.skipped, []);
    assert.deepEqual(fromJson.skipped, []);
    assert.equal(fromJson.advisories.length, json.length);
    assert.equal(both.advisories.length, json.length);
    const sort = (list: Advisory[]): Advisory[] => [...list].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(sort(fromYaml.advisories), sort(fromJson.advisories));
  });
});

describe('osv: hand-checked records', () => {
  const go = osvFeed.parse(load('Go')).advisories;

  test('GO-2020-0014: module, SEMVER range in Go syntax, aliases, no dates (zero placeholders)', () => {
    const a = byId(go, 'GO-2020-0014');
    assert.deepEqual(a.aliases, ['CVE-2018-17846', 'GHSA-vfw5-hrgq-h5wf']);
    assert.equal(a.published, '2021-04-14T20:04:52.000Z');
    assert.equal(a.modified, undefined, '0001-01-01 is a placeholder');
    assert.equal(a.affected.length, 1);
    assert.deepEqual(a.affected[0], {
      ecosystem: 'golang',
      namespace: 'Go',
      packageName: 'golang.org/x/net',
      nameKind: 'binary',
      scheme: 'go',
      state: 'fixed',
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: 'v0.0.0-20190125091013-d26f9f9a57f3' }] }],
      versions: [],
    });
    assert.deepEqual(a.severities, [], 'the Go database rates nothing');
  });

  test('Go: every event is the raw value with a v prefix, except the 0 sentinel', () => {
    const files = load('Go');
    for (const file of files) {
      const r = raw(file) as { id: string; affected: { ranges: { events: Record<string, string>[] }[] }[] };
      const parsed = byId(go, r.id);
      r.affected.forEach((aff, i) => {
        const events = aff.ranges.flatMap((range) => range.events.map((e) => Object.values(e)[0] as string));
        const ours = (parsed.affected[i]?.ranges ?? []).flatMap((range) => range.events.map((e) => Object.values(e)[0] as string));
        assert.deepEqual(ours, events.map((v) => (v === '0' ? v : `v${v}`)), r.id);
      });
    }
  });

  test('Go: state is fixed exactly when a fixed event exists', () => {
    for (const a of go) for (const p of a.affected) assert.equal(p.state === 'fixed', p.ranges.some((r) => r.events.some((e) => 'fixed' in e)), a.id);
    assert.ok(go.some((a) => a.affected.some((p) => p.state === 'unfixed')), 'the sample has unfixed Go entries');
  });

  test('PYSEC-2018-60: versions list and multi-interval ECOSYSTEM range kept in order', () => {
    const files = load('PyPI').filter((f) => f.name.endsWith('PYSEC-2018-60.json'));
    const rawRecord = raw(files[0] as FeedFile) as { affected: { versions: string[]; ranges: { type: string; events: unknown[] }[] }[] };
    const a = byId(parseOsvFiles(files).advisories, 'PYSEC-2018-60');
    const p = a.affected[0];
    assert.ok(p);
    assert.equal(p.ecosystem, 'pypi');
    assert.equal(p.namespace, 'PyPI');
    assert.equal(p.scheme, 'pep440');
    assert.equal(p.packageName, 'ansible');
    assert.deepEqual(p.versions, rawRecord.affected[0]?.versions);
    assert.ok(p.versions.includes('1.2.1') && p.versions.includes('1.0'));
    const ecosystemRange = p.ranges.find((r) => r.type === 'ECOSYSTEM');
    assert.deepEqual(ecosystemRange?.events, [
      { introduced: '2.7.0' },
      { fixed: '2.7.4' },
      { introduced: '2.7.5' },
      { fixed: '2.8.1' },
      { introduced: '0' },
      { fixed: '2.5.13' },
      { introduced: '2.6.0' },
      { fixed: '2.6.10' },
    ]);
  });

  test('withdrawn records are flagged, and only those', () => {
    for (const folder of ['crates.io', 'Ubuntu']) {
      const files = load(folder);
      const withdrawnIds = files.map(raw).filter((r) => typeof r.withdrawn === 'string').map((r) => r.id);
      const parsed = osvFeed.parse(files).advisories;
      assert.deepEqual(parsed.filter((a) => a.withdrawn !== undefined).map((a) => a.id).sort(), [...withdrawnIds].sort());
    }
    const ring = byId(osvFeed.parse(load('crates.io')).advisories, 'RUSTSEC-2025-0007');
    assert.equal(ring.withdrawn, '2025-02-22T12:00:00.000Z');
    assert.equal(ring.affected[0]?.vendorStatus, 'unmaintained');
  });

  test('AlmaLinux: rpm EVR fixed events with epochs, namespace from AlmaLinux:N, Red Hat impact as vendor severity', () => {
    const advisories = osvFeed.parse(load('AlmaLinux')).advisories;
    const a = byId(advisories, 'ALSA-2019:4269');
    assert.ok(a.affected.length > 0);
    for (const p of a.affected) {
      assert.equal(p.ecosystem, 'rpm');
      assert.equal(p.namespace, 'almalinux:8');
      assert.equal(p.scheme, 'rpm');
      // AlmaLinux names binary rpms (subpackages such as oci-systemd-hook-... are listed one by one)
      assert.equal(p.nameKind, 'binary');
      assert.equal(p.state, 'fixed');
    }
    const hook = a.affected.filter((p) => p.packageName === 'oci-systemd-hook');
    assert.deepEqual(
      hook.slice(0, 2).map((p) => p.ranges),
      [
        [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082' }] }],
        [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:0.1.15-2.git2d0b8a3.module_el8.4.0+2496+12421f43' }] }],
      ],
    );
    assert.equal(hook[0]?.module, 'container-tools:rhel8');
    assert.deepEqual(a.severities, [{ source: 'almalinux', type: 'vendor', value: 'Important', normalized: 'High' }]);
    assert.ok(a.related?.includes('CVE-2019-16884'), 'CVEs named in reference URLs become related ids');
    // namespaces follow the folder (almalinux8/9/10) for every record
    for (const adv of advisories) for (const p of adv.affected) assert.match(p.namespace, /^almalinux:(8|9|10)$/);
  });

  test('Rocky: `Rocky Linux:8` -> rocky:8, epoch kept, related CVEs', () => {
    const a = byId(osvFeed.parse(load('Rocky')).advisories, 'RLSA-2021:3891');
    assert.deepEqual(
      a.affected.map((p) => [p.namespace, p.packageName, p.ranges[0]?.events]),
      [['rocky:8', 'java-11-openjdk', [{ introduced: '0' }, { fixed: '1:11.0.13.0.8-1.el8_4' }]]],
    );
    assert.equal(a.related?.length, 10);
    // AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:N/A:N: 1.08 x (impact 3.99 + exploitability 2.27), rounded up = 6.8
    assert.equal(a.severities.find((s) => s.type === 'CVSS_V3')?.score, 6.8);
  });

  test('Ubuntu: LTS and Pro releases, unfixed entries, Ubuntu priority', () => {
    const advisories = osvFeed.parse(load('Ubuntu')).advisories;
    const netty = byId(advisories, 'UBUNTU-CVE-2022-24823');
    const trusty = netty.affected.find((p) => p.namespace === 'ubuntu:14.04:esm');
    assert.ok(trusty);
    assert.equal(trusty.state, 'unfixed');
    assert.deepEqual(trusty.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]);
    assert.equal(trusty.versions.length, 3);
    assert.deepEqual(netty.related, ['USN-7284-1', 'CVE-2022-24823'], 'OSV related, then upstream');
    assert.deepEqual(
      netty.severities.map((s) => [s.type, s.value, s.normalized]),
      [
        ['CVSS_V3', 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 'Medium'],
        ['vendor', 'low', 'Low'],
      ],
    );
    const usn = byId(advisories, 'USN-5614-1');
    assert.deepEqual(usn.affected.map((p) => p.namespace), ['ubuntu:18.04', 'ubuntu:20.04', 'ubuntu:22.04']);
    assert.equal(usn.affected[0]?.severity?.value, 'medium', 'per-CVE Ubuntu priority from cves_map');
    assert.ok(usn.related?.includes('CVE-2021-3782'));
  });

  test('Debian DLA with no affected entries loads, its upstream CVEs become related ids', () => {
    const [dla] = osvFeed.parse(load('Debian')).advisories;
    assert.ok(dla);
    assert.equal(dla.id, 'DLA-3623-1');
    assert.deepEqual(dla.affected, []);
    assert.equal(dla.related?.length, 44);
  });

  test('crates.io: CVSS v3 and v4 vectors get computed base scores', () => {
    const advisories = osvFeed.parse(load('crates.io')).advisories;
    const rated = advisories.flatMap((a) => a.severities).filter((s) => s.type !== 'vendor');
    assert.ok(rated.some((s) => s.type === 'CVSS_V4'));
    for (const s of rated) {
      assert.equal(typeof s.score, 'number', s.value);
      assert.notEqual(s.normalized, 'Unknown');
    }
  });
});

describe('osv: malformed input', () => {
  const good = load('Go').slice(0, 2);

  test('a malformed record between good ones is skipped and counted, the rest load', () => {
    const files: FeedFile[] = [
      good[0] as FeedFile,
      { name: 'broken.json', bytes: Buffer.from('{"id": "GO-BROKEN", "affected": "not-a-list"}') },
      good[1] as FeedFile,
    ];
    const result = parseOsvFiles(files);
    assert.equal(result.advisories.length, 2);
    assert.equal(result.skipped.length, 1);
    assert.equal(result.skipped[0]?.record, 'broken.json');
    assert.match(result.skipped[0]?.reason ?? '', /^osv: affected/);
  });

  test('truncated JSON is skipped; a JSON array of records loads each element, skipping the bad one', () => {
    const records = good.map(raw);
    const files: FeedFile[] = [
      { name: 'truncated.json', bytes: good[0]?.bytes.subarray(0, 100) ?? Buffer.alloc(0) },
      { name: 'batch.json', bytes: Buffer.from(JSON.stringify([records[0], { id: 42 }, records[1]])) },
    ];
    const result = parseOsvFiles(files);
    assert.equal(result.advisories.length, 2);
    assert.deepEqual(result.skipped.map((s) => s.record), ['truncated.json', 'batch.json[1]']);
  });

  test('an empty file list gives nothing', () => {
    assert.deepEqual(parseOsvFiles([]), { advisories: [], skipped: [] });
  });

  test('unknown ecosystems are left out without skipping the record', () => {
    const record = { id: 'GHSA-xxxx', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'Packagist', name: 'a/b' } }, { package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }], database_specific: { severity: 'MODERATE' } };
    const result = parseOsvFiles([{ name: 'x.json', bytes: Buffer.from(JSON.stringify(record)) }]);
    assert.deepEqual(result.skipped, []);
    const [a] = result.advisories;
    assert.deepEqual(a?.affected.map((p) => [p.ecosystem, p.namespace, p.packageName, p.scheme, p.state]), [['npm', 'npm', 'left-pad', 'npm', 'fixed']]);
    assert.deepEqual(a?.severities, [{ source: 'ghsa', type: 'vendor', value: 'MODERATE', normalized: 'Medium' }]);
  });
});

describe('osv: ecosystem mapping', () => {
  const cases: [string, [string, string, string] | undefined][] = [
    ['npm', ['npm', 'npm', 'npm']],
    ['PyPI', ['pypi', 'PyPI', 'pep440']],
    ['Go', ['golang', 'Go', 'go']],
    ['crates.io', ['cargo', 'crates.io', 'cargo']],
    ['Maven', ['maven', 'Maven', 'maven']],
    ['RubyGems', ['gem', 'RubyGems', 'gem']],
    ['Debian:12', ['deb', 'debian:12', 'dpkg']],
    ['Ubuntu:22.04:LTS', ['deb', 'ubuntu:22.04', 'dpkg']],
    ['Ubuntu:25.10', ['deb', 'ubuntu:25.10', 'dpkg']],
    ['Ubuntu:Pro:18.04:LTS', ['deb', 'ubuntu:18.04:esm', 'dpkg']],
    ['Ubuntu:Pro:FIPS-updates:22.04:LTS', undefined],
    ['AlmaLinux:9', ['rpm', 'almalinux:9', 'rpm']],
    ['Rocky Linux:8', ['rpm', 'rocky:8', 'rpm']],
    ['Alpine:v3.20', ['apk', 'alpine:3.20', 'apk']],
    ['Wolfi', ['apk', 'wolfi:rolling', 'apk']],
    ['Debian', undefined],
    ['Packagist', undefined],
    ['NuGet', ['nuget', 'NuGet', 'nuget']],
  ];
  for (const [osv, expected] of cases) {
    test(osv, () => {
      const m = mapOsvEcosystem(osv);
      assert.deepEqual(m === undefined ? undefined : [m.ecosystem, m.namespace, m.scheme], expected);
    });
  }

  test('ALSA-2020:1644 names two streams: each module build is stated once per stream', () => {
    // osv/AlmaLinux/almalinux8/ALSA-2020_1644.json: "Moderate: pki-core:10.6 and pki-deps:10.6 security,
    // bug fix, and enhancement update", 30 entries, every fixed version a module build (xalan-j2
    // 2.7.1-38.module_el8.5.0+2577+9e95fe00 ...): the record does not say which stream holds which package.
    assert.deepEqual(summaryModules('Moderate: pki-core:10.6 and pki-deps:10.6 security, bug fix, and enhancement update'), ['pki-core:10.6', 'pki-deps:10.6']);
    const a = byId(osvFeed.parse(load('AlmaLinux', 'almalinux8').filter((f) => f.name === 'ALSA-2020_1644.json')).advisories, 'ALSA-2020:1644');
    assert.equal(a.affected.length, 60);
    const xalan = a.affected.filter((p) => p.packageName === 'xalan-j2');
    assert.deepEqual(
      xalan.map((p) => [p.module, p.ranges[0]?.events]),
      [
        ['pki-core:10.6', [{ introduced: '0' }, { fixed: '2.7.1-38.module_el8.5.0+2577+9e95fe00' }]],
        ['pki-deps:10.6', [{ introduced: '0' }, { fixed: '2.7.1-38.module_el8.5.0+2577+9e95fe00' }]],
      ],
    );
  });

  test('summaryModule takes a single module stream only', () => {
    assert.equal(summaryModule('Important: container-tools:rhel8 security and bug fix update'), 'container-tools:rhel8');
    assert.equal(summaryModule('Moderate: pki-core:10.6 and pki-deps:10.6 security update'), undefined);
    assert.equal(summaryModule('Moderate: open-vm-tools bug fix update'), undefined);
  });
});

describe('osv: recognition', () => {
  test('other formats are not claimed', () => {
    const npmWg = sharedData('feeds', 'npm-security-wg', '10.json');
    const ruby = walk(sharedData('feeds', 'rubysec'))[0] as string;
    const secdb = sharedData('feeds', 'alpine-secdb', 'v3.10', 'main.json');
    const secdbYaml = sharedData('feeds', 'alpine-secdb', 'v3.10', 'main.yaml');
    for (const path of [npmWg, ruby, secdb, secdbYaml]) assert.equal(osvFeed.recognizes({ name: path, bytes: readFileSync(path) }), false, path);
  });
});
