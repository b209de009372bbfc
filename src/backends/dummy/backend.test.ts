import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isPortcullisError } from '../../domain/errors.js';
import type { BackendScanOutput, ScannerBackend, ScanTarget } from '../types.js';
import { DummyBackend } from './backend.js';

const target: ScanTarget = {
  repository: 'team/app',
  digest: `sha256:${'c'.repeat(64)}`,
  tags: ['1.0'],
  registry: {
    reference: 'unused',
    imageOptions: {},
    layers: () => Promise.reject(new Error('the dummy backend reads no image')),
    authorization: () => Promise.reject(new Error('the dummy backend reads no image')),
  },
};
const signal = new AbortController().signal;

/** Scans through the ScannerBackend contract, as the service calls it. */
function scanWith(setting: string): Promise<BackendScanOutput> {
  const backend: ScannerBackend = DummyBackend.fromServerSetting(setting);
  return backend.scan(target, signal);
}

describe('dummy backend', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-dummy-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('builtin: the three advisories of Portus\'s default fixture, in the findings shape', async () => {
    const output = await scanWith('builtin');
    assert.deepEqual(output.packages.map((p) => `${p.name} ${p.version}`), ['openssl 1.0.2h']);
    assert.deepEqual(
      output.packages[0]?.vulnerabilities.map((v) => [v.id, v.severity, v.link]),
      [
        ['CVE-2016-6304', 'High', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-6304'],
        ['CVE-2016-7052', 'Medium', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-7052'],
        ['CVE-2016-2178', 'Low', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-2178'],
      ],
    );
  });

  test('fixture:<file>: the file\'s packages, severities normalized and the backend\'s word kept', async () => {
    const file = join(work, 'fixture.yaml');
    writeFileSync(
      file,
      ['packageCount: 40', 'packages:', '  - name: zlib', '    version: 1.2.13', '    namespace: debian:12', '    vulnerabilities:', '      - { id: CVE-2023-45853, severity: Defcon1, fixedBy: "1.3" }', '      - { id: CVE-2022-37434, severity: important }', ''].join('\n'),
    );
    const output = await scanWith(`fixture:${file}`);
    assert.equal(output.packageCount, 40);
    assert.deepEqual(
      output.packages[0]?.vulnerabilities.map((v) => `${v.id} ${v.severity}/${v.backendSeverity} ${v.fixedBy ?? '-'} ${v.namespace ?? '-'}`),
      ['CVE-2023-45853 Critical/Defcon1 1.3 debian:12', 'CVE-2022-37434 High/important - debian:12'],
    );
  });

  test('pending (the setting, or a fixture that says so): every scan is still working, never a result', async () => {
    await assert.rejects(scanWith('pending'), (err: unknown) => isPortcullisError(err, 'E_PENDING'));
    const file = join(work, 'pending.json');
    writeFileSync(file, JSON.stringify({ pending: true }));
    await assert.rejects(scanWith(`fixture:${file}`), (err: unknown) => isPortcullisError(err, 'E_PENDING') && err.message.includes(file));
  });

  test('a bad setting or fixture stops the service at start with E_CONFIG naming the key', () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ packages: [{ name: 'x', version: '1', vulnerabilities: [{ severity: 'High' }] }] }));
    const cases: [string, RegExp][] = [
      ['http://dummy.invalid', /expected "builtin", "pending" or "fixture:/],
      [`fixture:${join(work, 'missing.json')}`, /missing\.json: file not found/],
      [`fixture:${bad}`, /bad\.json: at packages\[0\]\.vulnerabilities\[0\]\.id: /],
    ];
    for (const [setting, reason] of cases) {
      assert.throws(
        () => DummyBackend.fromServerSetting(setting),
        (err: unknown) => isPortcullisError(err, 'E_CONFIG') && err.message.startsWith('config: security.dummy.server: ') && reason.test(err.message) && err.details['key'] === 'security.dummy.server',
        setting,
      );
    }
  });
});
