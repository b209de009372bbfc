import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidSarif, sarifSchema as schema } from '../../test/support/schemas.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { fixtureReport, IMAGE_NAME } from '../policy/test-support/scan-fixtures.js';
import { sarifFormat, securitySeverity, toSarif } from './sarif.js';
import { FIXTURE_OWNER, fixtureContext, ownedFixtureContext } from './test-support/context.js';


type Json = Record<string, unknown>;
interface Run {
  tool: { driver: { name: string; rules: Json[] } };
  results: Json[];
}

describe('sarif format', () => {
  const log = JSON.parse(sarifFormat.render(fixtureContext())) as { version: string; runs: Run[] };
  const run = log.runs[0];
  assert.ok(run);

  test('validates against the official SARIF 2.1.0 schema', () => {
    assert.equal(schema.title, 'Static Analysis Results Format (SARIF) Version 2.1.0-rtm.5 JSON Schema');
    assertValidSarif(log);
    assert.equal(log.version, '2.1.0');
  });

  test('the schema check can fail', () => {
    const broken = structuredClone(log) as unknown as { runs: { results: Json[] }[] };
    const first = broken.runs[0]?.results[0];
    assert.ok(first);
    first.level = 'critical';
    assert.throws(() => assertValidSarif(broken), /SARIF schema errors/);
  });

  test('one rule per vulnerability id, with security-severity for GitHub', () => {
    assert.deepEqual(run.tool.driver.rules.map((r) => r.id), ['CVE-2022-37434', 'CVE-2023-0286', 'CVE-2023-23916', 'GHSA-vfw5-hrgq-h5wf', 'PYSEC-2021-1', 'CVE-2022-32221', 'CVE-2023-50495']);
    const props = (id: string): Json => (run.tool.driver.rules.find((r) => r.id === id)?.properties ?? {}) as Json;
    assert.equal(props('CVE-2022-37434')['security-severity'], '9.8', 'CVSS 9.8 is in the Critical band');
    assert.equal(props('CVE-2023-0286')['security-severity'], '7.4');
    assert.equal(props('CVE-2023-23916')['security-severity'], '5.5', 'no CVSS: representative Medium score');
    assert.equal(props('PYSEC-2021-1')['security-severity'], undefined, 'Unknown severity has no score');
    assert.deepEqual(props('GHSA-vfw5-hrgq-h5wf').aliases, ['CVE-2018-17846', 'GO-2020-0014']);
  });

  test('results: level from severity, location at the package file, suppressions for VEX/ignore/whitelist', () => {
    const byRule = (id: string): Json => run.results.find((r) => r.ruleId === id) ?? {};
    assert.deepEqual(run.results.map((r) => [r.ruleId, r.level]), [
      ['CVE-2022-37434', 'error'],
      ['CVE-2023-0286', 'error'],
      ['CVE-2023-23916', 'warning'],
      ['GHSA-vfw5-hrgq-h5wf', 'error'],
      ['PYSEC-2021-1', 'note'],
      ['CVE-2022-32221', 'error'],
      ['CVE-2023-50495', 'note'],
    ]);
    const zlib = byRule('CVE-2022-37434');
    assert.deepEqual((zlib.locations as Json[])[0], {
      physicalLocation: { artifactLocation: { uri: 'var/lib/dpkg/status' }, region: { startLine: 1 } },
      message: { text: 'deb package zlib1g 1:1.2.11.dfsg-2+deb11u1 in layer 0 (sha256:a2318d6c47ec9cac5acc500c47c79602bcf953cec711a18bc898911a0984365b)' },
    });
    assert.equal((zlib.message as Json).text, 'Package zlib1g 1:1.2.11.dfsg-2+deb11u1 is affected by CVE-2022-37434 (Critical). Fixed in 1:1.2.11.dfsg-2+deb11u2.');
    assert.equal(zlib.suppressions, undefined);
    assert.equal(zlib.ruleIndex, 0);
    assert.deepEqual(byRule('CVE-2022-32221').suppressions, [{ kind: 'external', status: 'accepted', justification: 'VEX not_affected (vulnerable_code_not_in_execute_path): libcurl is only used for GET requests (by Team Web) [web.openvex.json]' }]);
    assert.deepEqual(byRule('GHSA-vfw5-hrgq-h5wf').suppressions, [{ kind: 'external', status: 'accepted', justification: 'whitelisted as CVE-2018-17846: html parser is not fed user input [whitelist.yaml (images.team/web)]' }]);
    assert.equal(byRule('CVE-2023-23916').suppressions, undefined, 'threshold approvals stay visible');
    assert.equal(new Set(run.results.map((r) => (r.partialFingerprints as Json)['portcullis/v1'])).size, 7);
  });

  test('an empty report is a valid log with no rules and no results', () => {
    const report = fixtureReport();
    report.findings = [];
    const empty = toSarif({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME });
    assertValidSarif(empty);
    const emptyRun = (empty.runs as Run[])[0];
    assert.deepEqual([emptyRun?.tool.driver.rules, emptyRun?.results], [[], []]);
  });

  test('securitySeverity bands', () => {
    const [zlib] = fixtureReport().findings;
    assert.ok(zlib);
    assert.equal(securitySeverity({ ...zlib, severity: 'High' }), 8.0, 'a 9.8 CVSS outside the High band gives the band score');
    assert.equal(securitySeverity({ ...zlib, severity: 'Low', ratings: [] }), 2.0);
    assert.equal(securitySeverity({ ...zlib, severity: 'Unknown' }), undefined);
  });
});

describe('sarif format: language packages an OS package installed', () => {
  test('the owner is a result property and named in the location message; the log stays valid', () => {
    const owned = JSON.parse(sarifFormat.render(ownedFixtureContext())) as { runs: Run[] };
    assertValidSarif(owned);
    const result = owned.runs[0]?.results.find((r) => r.ruleId === 'PYSEC-2021-1') as { properties: Json; locations: { message: { text: string } }[] } | undefined;
    assert.deepEqual(result?.properties.osOwner, FIXTURE_OWNER);
    assert.equal((result?.properties.why as Json).distro, 'deb ansible 2.9.10+dfsg-1: debian:11 has no record of CVE-2021-20228 for it; kept');
    assert.match(result?.locations[0]?.message.text ?? '', /^pypi package ansible 2\.9\.10, installed by deb ansible 2\.9\.10\+dfsg-1, in layer 1/);
    const plainLog = JSON.parse(sarifFormat.render(fixtureContext())) as { runs: Run[] };
    const plain = plainLog.runs[0]?.results.find((r) => r.ruleId === 'PYSEC-2021-1') as { properties: Json } | undefined;
    assert.equal(plain?.properties.osOwner, undefined);
  });
});
