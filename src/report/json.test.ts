import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy } from '../policy/evaluate.js';
import { fixtureReport, IMAGE_NAME } from '../policy/test-support/scan-fixtures.js';
import { jsonFormat, SCAN_RESULT_SCHEMA, type ScanResultJson } from './json.js';
import { FIXTURE_OWNER, fixtureContext, ownedFixtureContext } from './test-support/context.js';

describe('json format', () => {
  test('the ScanReport unchanged plus one policy decision per finding', () => {
    const ctx = fixtureContext();
    const doc = JSON.parse(jsonFormat.render(ctx)) as ScanResultJson;
    assert.equal(doc.schema, SCAN_RESULT_SCHEMA);
    assert.equal(doc.schemaVersion, 1);
    assert.deepEqual(doc.report, JSON.parse(JSON.stringify(ctx.report)));
    assert.deepEqual(doc.policy.counts, { approved: 3, unapproved: 2, suppressed: 2, filtered: 0 });
    assert.equal(doc.policy.verdict, 'fail');
    assert.equal(doc.policy.imageName, IMAGE_NAME);
    assert.deepEqual(
      doc.policy.decisions.map((d) => [d.finding, d.id, d.status, d.source ?? null]),
      [
        [0, 'CVE-2022-37434', 'unapproved', null],
        [1, 'CVE-2023-0286', 'unapproved', null],
        [2, 'CVE-2022-32221', 'suppressed', 'web.openvex.json'],
        [3, 'CVE-2023-23916', 'approved', 'threshold'],
        [4, 'CVE-2023-50495', 'suppressed', '.portcullisignore:2'],
        [5, 'GHSA-vfw5-hrgq-h5wf', 'approved', 'whitelist.yaml (images.team/web)'],
        [6, 'PYSEC-2021-1', 'approved', 'threshold'],
      ],
    );
    assert.deepEqual(doc.policy.decisions[2], {
      finding: 2,
      id: 'CVE-2022-32221',
      purl: 'pkg:deb/debian/libcurl4@7.74.0-1.3%2Bdeb11u3?arch=amd64&distro=debian-11&upstream=curl',
      status: 'suppressed',
      reason: 'VEX not_affected (vulnerable_code_not_in_execute_path): libcurl is only used for GET requests (by Team Web)',
      source: 'web.openvex.json',
      kind: 'vex',
      vex: { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' },
    });
  });

  test('findings dropped by view filters are marked filtered', () => {
    const report = fixtureReport();
    const policy = evaluatePolicy(report, { imageName: IMAGE_NAME, severities: ['Critical'] });
    const doc = JSON.parse(jsonFormat.render({ report, policy, imageName: IMAGE_NAME })) as ScanResultJson;
    assert.deepEqual(doc.policy.decisions.map((d) => d.status), ['unapproved', 'filtered', 'unapproved', 'filtered', 'filtered', 'filtered', 'filtered']);
    assert.equal(doc.policy.counts.filtered, 5);
  });
});

describe('json format: language packages an OS package installed', () => {
  test('the finding and the inventory package carry osOwner; why carries the distribution verdict', () => {
    const doc = JSON.parse(jsonFormat.render(ownedFixtureContext())) as ScanResultJson;
    const f = doc.report.findings.find((x) => x.id === 'PYSEC-2021-1');
    assert.deepEqual(f?.package.osOwner, FIXTURE_OWNER);
    assert.match(f?.why.distro ?? '', /^deb ansible 2\.9\.10\+dfsg-1: /);
    assert.deepEqual(doc.report.inventory?.packages.find((p) => p.name === 'ansible')?.osOwner, FIXTURE_OWNER);
  });
});
