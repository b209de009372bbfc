import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { FeedFile } from '../types.js';
import { parseRedhatSecurityData, redhatSecurityDataFeed } from './security-data.js';

const dir = sharedData('feeds', 'rhel', 'security-data-api-cve');
const files: FeedFile[] = readdirSync(dir)
  .sort()
  .map((n) => ({ name: n, bytes: readFileSync(join(dir, n)) }));
const result = redhatSecurityDataFeed.parse(files);

function advisory(id: string): Advisory {
  const a = result.advisories.find((x) => x.id === id);
  assert.ok(a, id);
  return a;
}
function find(id: string, namespace: string, name: string): AffectedPackage[] {
  return advisory(id).affected.filter((p) => p.namespace === namespace && p.packageName === name);
}

describe('Red Hat Security Data API records', () => {
  test('every real record parses', () => {
    assert.equal(result.skipped.length, 0);
    assert.equal(result.advisories.length, files.length);
    assert.ok(files.every((f) => redhatSecurityDataFeed.recognizes(f)));
  });

  test('CVE-2019-25059: fix states per release; flatpak components left out', () => {
    const a = advisory('CVE-2019-25059');
    assert.deepEqual(
      a.affected.map((p) => [p.namespace, p.packageName, p.nameKind, p.state, p.vendorStatus]),
      [
        ['rhel:6', 'ghostscript', 'source', 'not_affected', undefined],
        ['rhel:7', 'ghostscript', 'source', 'not_affected', undefined],
        ['rhel:8', 'ghostscript', 'source', 'unfixed', 'Will not fix'],
        ['rhel:9', 'ghostscript', 'source', 'unfixed', 'Will not fix'],
      ],
    );
    assert.deepEqual(a.affected[2]?.severity, { source: 'redhat', type: 'vendor', value: 'Moderate', normalized: 'Medium' });
    assert.deepEqual(a.severities[1], {
      source: 'redhat',
      type: 'CVSS_V3',
      value: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H',
      score: 7.8,
      normalized: 'High',
    });
  });

  test('CVE-2022-1921: a shipped erratum is a source fix; Out of support scope stays unfixed', () => {
    assert.deepEqual(find('CVE-2022-1921', 'rhel:9', 'gstreamer1-plugins-good').map((p) => [p.state, p.ranges]), [
      ['fixed', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.18.4-6.el9' }] }]],
    ]);
    assert.equal(find('CVE-2022-1921', 'rhel:7', 'gstreamer-plugins-good')[0]?.vendorStatus, 'Out of support scope');
  });

  test('CVE-2017-3511: epochs kept; layered-product errata (Oracle Java extras) left out', () => {
    const p = find('CVE-2017-3511', 'rhel:6', 'java-1.8.0-openjdk');
    assert.deepEqual(p[0]?.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:1.8.0.131-0.b11.el6_9' }] }]);
    assert.equal(advisory('CVE-2017-3511').affected.some((x) => x.packageName === 'java-1.8.0-oracle' && x.state === 'fixed'), false);
  });

  test('a rejected CVE is marked withdrawn', () => {
    assert.equal(advisory('CVE-2023-5129').withdrawn, '2023-09-25T00:00:00Z');
    assert.equal(advisory('CVE-2023-4863').withdrawn, undefined);
  });

  test('a malformed record among good ones is skipped and counted', () => {
    const broken = { name: 'CVE-2099-0001.json', bytes: Buffer.from('{"name": "not-a-cve", "package_state": []}') };
    const mid = Math.floor(files.length / 2);
    const r = parseRedhatSecurityData([...files.slice(0, mid), broken, ...files.slice(mid)]);
    assert.equal(r.skipped.length, 1);
    assert.deepEqual(r.advisories, result.advisories);
  });
});
