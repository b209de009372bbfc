import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { sharedData } from '../../../test/support/shared-data.js';
import type { FeedFile } from '../types.js';
import { epssFeed, parseEpss } from './epss.js';
import { kevFeed, parseKev } from './kev.js';
import { nvdFeed, parseNvd } from './nvd.js';

const file = (name: string): FeedFile => ({ name, bytes: readFileSync(sharedData('feeds', 'enrichment', name)) });
const nvdFile = file('nvd-cve-2.0-sample.json');
const epssFile = file('epss-sample.csv');
const kevFile = file('kev-sample.json');

describe('NVD CVE API 2.0', () => {
  const r = nvdFeed.parse([nvdFile]);

  test('every CVE of the sample, metrics exactly as in the file, Primary first', () => {
    assert.equal(r.skipped.length, 0);
    assert.deepEqual(r.records, [
      {
        cve: 'CVE-2016-2781',
        cvss: [
          { version: '3.0', vector: 'CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N', score: 6.5, source: 'nvd@nist.gov' },
          { version: '2.0', vector: 'AV:L/AC:L/Au:N/C:N/I:P/A:N', score: 2.1, source: 'nvd@nist.gov' },
          { version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', score: 4.6, source: '134c704f-9b21-4f2e-91b3-4a467353bcc0' },
        ],
      },
      { cve: 'CVE-2016-3197', cvss: [] },
      {
        cve: 'CVE-2016-3674',
        cvss: [
          { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', score: 7.5, source: 'nvd@nist.gov' },
          { version: '2.0', vector: 'AV:N/AC:L/Au:N/C:P/I:N/A:N', score: 5, source: 'nvd@nist.gov' },
        ],
      },
    ]);
    assert.equal(r.newestRecord, '2025-06-09T16:15:25.013Z');
  });

  test('agrees with a plain read of the file on every metric', () => {
    const doc = JSON.parse(nvdFile.bytes.toString('utf8')) as {
      vulnerabilities: { cve: { id: string; metrics: Record<string, { cvssData: { vectorString: string; baseScore: number } }[]> } }[];
    };
    for (const v of doc.vulnerabilities) {
      const rec = r.records.find((x) => x.cve === v.cve.id);
      const expected = Object.values(v.cve.metrics).flat().map((m) => `${m.cvssData.vectorString}=${m.cvssData.baseScore}`).sort();
      assert.deepEqual(rec?.cvss?.map((c) => `${c.vector}=${c.score}`).sort(), expected);
    }
  });

  test('a v4.0 metric and a malformed entry in the middle', () => {
    const doc = {
      format: 'NVD_CVE',
      vulnerabilities: [
        { cve: { id: 'CVE-2024-0001', metrics: { cvssMetricV40: [{ source: 'cna@example.org', type: 'Secondary', cvssData: { version: '4.0', vectorString: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', baseScore: 9.3 } }] } } },
        { cve: { id: 'not-a-cve' } },
        { cve: { id: 'CVE-2024-0002' } },
      ],
    };
    const r2 = parseNvd([{ name: 'page.json', bytes: Buffer.from(JSON.stringify(doc)) }]);
    assert.equal(r2.skipped.length, 1);
    assert.deepEqual(r2.records, [
      { cve: 'CVE-2024-0001', cvss: [{ version: '4.0', vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', score: 9.3, source: 'cna@example.org' }] },
      { cve: 'CVE-2024-0002', cvss: [] },
    ]);
  });
});

describe('FIRST EPSS', () => {
  const text = epssFile.bytes.toString('utf8');
  const r = epssFeed.parse([epssFile]);

  test('every row, values exactly as in the file, dated by score_date', () => {
    const rows = text.split('\n').filter((l) => /^CVE-/.test(l));
    assert.equal(r.skipped.length, 0);
    assert.equal(r.records.length, rows.length);
    for (const row of rows) {
      const [cve, score, percentile] = row.split(',');
      const rec = r.records.find((x) => x.cve === cve);
      assert.deepEqual(rec?.epss, { score: Number(score), percentile: Number(percentile), date: '2024-10-25' });
    }
    assert.deepEqual(r.records.find((x) => x.cve === 'CVE-1999-0005')?.epss, { score: 0.91963, percentile: 0.9903, date: '2024-10-25' });
    assert.equal(r.newestRecord, '2024-10-25');
  });

  test('gzipped as served upstream', () => {
    const gz = { name: 'epss_scores-current.csv.gz', bytes: gzipSync(epssFile.bytes) };
    assert.equal(epssFeed.recognizes(gz), true);
    assert.deepEqual(epssFeed.parse([gz]), r);
  });

  test('a malformed row in the middle is skipped and counted', () => {
    const lines = text.split('\n');
    const mid = Math.floor(lines.length / 2);
    const broken = [...lines.slice(0, mid), 'CVE-2024-0001,high,0.5', ...lines.slice(mid)].join('\n');
    const r2 = parseEpss([{ name: 'epss.csv', bytes: Buffer.from(broken) }]);
    assert.equal(r2.skipped.length, 1);
    assert.deepEqual(r2.records, r.records);
  });
});

describe('CISA KEV', () => {
  const r = kevFeed.parse([kevFile]);

  test('every entry, values exactly as in the file', () => {
    assert.equal(r.skipped.length, 0);
    assert.deepEqual(r.records, [
      {
        cve: 'CVE-2017-3066',
        kev: {
          dateAdded: '2025-02-24',
          dueDate: '2025-03-17',
          knownRansomware: false,
          shortDescription: 'Adobe ColdFusion contains a deserialization vulnerability in the Apache BlazeDS library that allows for arbitrary code execution.',
        },
      },
      {
        cve: 'CVE-2021-44228',
        kev: {
          dateAdded: '2021-12-10',
          dueDate: '2021-12-24',
          knownRansomware: true,
          shortDescription:
            'Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints, allowing for remote code execution.',
        },
      },
    ]);
    assert.equal(r.newestRecord, '2025-02-24T17:55:31.6365Z');
  });

  test('a malformed entry in the middle is skipped and counted', () => {
    const doc = JSON.parse(kevFile.bytes.toString('utf8')) as { vulnerabilities: unknown[] };
    doc.vulnerabilities.splice(1, 0, { vendorProject: 'x', dateAdded: '2025-01-01' });
    const r2 = parseKev([{ name: 'kev.json', bytes: Buffer.from(JSON.stringify(doc)) }]);
    assert.equal(r2.skipped.length, 1);
    assert.deepEqual(r2.records, r.records);
  });
});

describe('enrichment recognition', () => {
  test('each sample is claimed by its own feed only', () => {
    const feeds = [nvdFeed, epssFeed, kevFeed];
    assert.deepEqual(feeds.map((f) => f.recognizes(nvdFile)), [true, false, false]);
    assert.deepEqual(feeds.map((f) => f.recognizes(epssFile)), [false, true, false]);
    assert.deepEqual(feeds.map((f) => f.recognizes(kevFile)), [false, false, true]);
  });
});
