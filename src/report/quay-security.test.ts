import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { osvFeed } from '../feeds/osv/index.js';
import { matchInventory } from '../matching/matcher.js';
import { feedFiles, inventoryOf } from '../matching/test-support/real-data.js';
import { buildVulnDb, openVulnDb, type VulnDb } from '../vulndb/index.js';
import { sharedData } from '../../test/support/shared-data.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quaySecurityInformation, quayStatusOnly, type QuaySecurityResponse } from './quay-security.js';

/** Quay's own test sample of the security API's answer (quay/quay data/secscan_model/test). */
const quaySample = JSON.parse(readFileSync(sharedData('api-samples', 'quay', 'securityinformation.json'), 'utf8')) as QuaySecurityResponse;

/** The key set and JSON types of an object, to compare shapes with Quay's sample. */
function shape(o: object): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

describe('Quay security information from a Portcullis scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-quay-'));
  let db: VulnDb;
  before(async () => {
    const target = join(dir, 'vuln.db');
    await buildVulnDb(target, [{ feed: osvFeed, files: feedFiles('osv', 'PyPI', 'django'), source: 'test:osv', fetchedAt: '2026-11-20T00:00:00.000Z' }]);
    db = openVulnDb(target);
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const inventory = () =>
    inventoryOf([
      { ecosystem: 'pypi', name: 'Django', version: '1.8.5', path: 'usr/lib/python3/site-packages/Django-1.8.5.dist-info/METADATA' },
      { ecosystem: 'pypi', name: 'six', version: '1.16.0', path: 'usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA' },
    ]);

  test('the envelope, Layer, Feature and Vulnerability carry exactly the fields and types of Quay\'s sample', async () => {
    const inv = inventory();
    const { findings } = await matchInventory(inv, db);
    assert.ok(findings.length >= 2, `django 1.8.5 has real PyPA advisories (${findings.length})`);
    const ours = quaySecurityInformation('sha256:' + 'a'.repeat(64), inv, findings);
    const theirs = quaySample.data?.Layer;
    assert.ok(theirs !== undefined && ours.data !== null);
    assert.deepEqual(shape(ours), shape(quaySample));
    const { Features: ourFeatures, ...ourLayer } = ours.data.Layer;
    const { Features: theirFeatures, ...theirLayer } = theirs;
    assert.deepEqual(shape(ourLayer), shape(theirLayer));
    assert.deepEqual([ourLayer.ParentName, ourLayer.NamespaceName, ourLayer.IndexedByVersion], [theirLayer.ParentName, theirLayer.NamespaceName, theirLayer.IndexedByVersion]);
    const theirVulnerable = theirFeatures.find((f) => f.Vulnerabilities.length > 0);
    const ourVulnerable = ourFeatures.find((f) => f.Vulnerabilities.length > 0);
    assert.ok(theirVulnerable && ourVulnerable);
    assert.deepEqual(shape(ourVulnerable), shape(theirVulnerable));
    const theirVuln = theirVulnerable.Vulnerabilities[0];
    const ourVuln = ourVulnerable.Vulnerabilities[0];
    assert.ok(theirVuln && ourVuln);
    assert.deepEqual(shape(ourVuln), shape(theirVuln));
    const { NVD: _theirNvd, ...theirMeta } = theirVuln.Metadata;
    assert.deepEqual(Object.keys(ourVuln.Metadata).filter((k) => k !== 'NVD').sort(), Object.keys(theirMeta).sort());
  });

  test('every package is a feature; a vulnerable one lists its advisories once, with CVE ids sorted', async () => {
    const inv = inventory();
    const { findings } = await matchInventory(inv, db);
    const answer = quaySecurityInformation('sha256:' + 'b'.repeat(64), inv, [...findings, ...findings]);
    const features = answer.data?.Layer.Features ?? [];
    assert.deepEqual(features.map((f) => `${f.Name} ${f.Version} ${f.Vulnerabilities.length}`), [`Django 1.8.5 ${findings.length}`, 'six 1.16.0 0']);
    const django = features[0];
    assert.ok(django);
    assert.equal(django.AddedBy, inv.packages[0]?.layer);
    assert.deepEqual(django.CVEIds, [...new Set(findings.flatMap((f) => [f.id, ...f.aliases]).filter((a) => a.startsWith('CVE-')))].sort());
    for (const v of django.Vulnerabilities) {
      assert.match(v.Name, /^(PYSEC|CVE|GHSA)-/);
      assert.equal(v.Metadata.DistroName, '', 'no distribution for a PyPI package');
      assert.ok(v.FixedBy === '' || /^\d/.test(v.FixedBy));
      for (const link of v.Link.split(' ').filter((l) => l !== '')) assert.match(link, /^https?:\/\//);
    }
  });

  test('?vulnerabilities=false keeps the features and drops their vulnerabilities; other states carry no data', async () => {
    const inv = inventory();
    const answer = quaySecurityInformation('sha256:' + 'c'.repeat(64), inv, (await matchInventory(inv, db)).findings, { withVulnerabilities: false });
    assert.deepEqual(answer.data?.Layer.Features.map((f) => [f.Name, f.Vulnerabilities, f.CVEIds, f.BaseScores]), [
      ['Django', [], [], []],
      ['six', [], [], []],
    ]);
    assert.deepEqual(quayStatusOnly('queued'), { status: 'queued', data: null });
    assert.deepEqual(quayStatusOnly('unsupported'), { status: 'unsupported', data: null });
  });
});
