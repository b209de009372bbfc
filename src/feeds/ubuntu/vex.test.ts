import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseUbuntuVex, ubuntuVexFeed } from './vex.js';

const bytes = readFileSync(sharedData('feeds', 'ubuntu', 'vex', 'CVE-2023-38545.json'));
const doc = JSON.parse(bytes.toString('utf8')) as { statements: { status: string; products: { '@id': string }[] }[] };
const file = { name: 'CVE-2023-38545.json', bytes };

describe('Ubuntu OpenVEX', () => {
  const r = ubuntuVexFeed.parse([file]);

  test('the real document parses: one advisory, one package per source product', () => {
    assert.equal(r.skipped.length, 0);
    assert.equal(r.advisories.length, 1);
    const sources = doc.statements.flatMap((s) => s.products).filter((p) => p['@id'].includes('arch=source')).length;
    assert.equal(r.advisories[0]?.affected.length, sources);
    assert.equal(r.newestRecord, '2026-05-20T15:02:47.589121Z');
  });

  test('fixed, affected and not_affected statements per release', () => {
    const rows = r.advisories[0]?.affected.map((p) => [p.namespace, p.packageName, p.state, p.vendorStatus, p.ranges]);
    assert.deepEqual(rows, [
      ['ubuntu:22.04', 'curl', 'fixed', undefined, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '7.81.0-1ubuntu1.24' }] }]],
      ['ubuntu:24.04', 'curl', 'fixed', undefined, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '8.5.0-2ubuntu10.9' }] }]],
      ['ubuntu:16.04', 'curl', 'unfixed', 'affected', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]],
      ['ubuntu:14.04:esm', 'curl', 'not_affected', undefined, []],
      ['ubuntu:16.04:esm', 'curl', 'not_affected', undefined, []],
      ['ubuntu:18.04:esm', 'curl', 'not_affected', undefined, []],
      ['ubuntu:20.04:esm', 'curl', 'not_affected', undefined, []],
    ]);
  });

  test('a malformed statement is skipped and counted, the rest loads', () => {
    const broken = { ...doc, statements: [doc.statements[0], { status: 'fixed', products: [] }, ...doc.statements.slice(1)] };
    const r2 = parseUbuntuVex([{ name: 'x.json', bytes: Buffer.from(JSON.stringify(broken)) }]);
    assert.equal(r2.skipped.length, 1);
    assert.deepEqual(r2.advisories, r.advisories);
  });

  test('recognizes OpenVEX by its context', () => {
    assert.equal(ubuntuVexFeed.recognizes(file), true);
    assert.equal(ubuntuVexFeed.recognizes({ name: 'x.json', bytes: Buffer.from('{"document": {}}') }), false);
  });
});
