import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { FeedFile } from '../types.js';
import { parseUctFile, parseUctFiles, ubuntuUctFeed } from './uct.js';
import { ubuntuNamespace } from './releases.js';

const dir = sharedData('feeds', 'ubuntu', 'uct-active');
const files: FeedFile[] = readdirSync(dir)
  .sort()
  .map((n) => ({ name: `active/${n}`, bytes: readFileSync(join(dir, n)) }));
const result = ubuntuUctFeed.parse(files);

function advisory(id: string): Advisory {
  const a = result.advisories.find((x) => x.id === id);
  assert.ok(a, id);
  return a;
}
function pkg(id: string, name: string, namespace: string): AffectedPackage | undefined {
  return advisory(id).affected.find((p) => p.packageName === name && p.namespace === namespace);
}
const fixed = (v: string) => [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }];

describe('Ubuntu CVE Tracker', () => {
  test('every real tracker file parses, one advisory per file', () => {
    assert.equal(result.skipped.length, 0);
    assert.equal(result.advisories.length, readdirSync(dir).filter((n) => /^CVE-/.test(n)).length);
    assert.equal(result.newestRecord, '2020-04-02T21:15:00Z');
  });

  test('status lines of installable releases become packages; DNE and non-release keys do not', () => {
    // Counted from the text with the rules stated in parseUctFile, independently of it.
    const skip = new Set(['upstream', 'devel', 'vivid/ubuntu-core', 'vivid/stable-phone-overlay', 'Patches', 'Tags', 'Priority']);
    let expected = 0;
    for (const f of files) {
      for (const line of f.bytes.toString('utf8').split('\n')) {
        const m = /^([a-z/]+)_[^:\s]+:\s*(\S+)?(?:\s+\(([^)]*))?/.exec(line);
        if (!m || skip.has(m[1] ?? '') || m[2] === undefined || m[2] === 'DNE') continue;
        // dpkg versions have no `_`; one real line has `1:1.12_1.12.6-1+deb9u1build0.18.04.1`.
        if (m[2] === 'released' && !/^(\d+:)?\d[A-Za-z0-9.+~:-]*$/.test(m[3] ?? '')) continue;
        expected++;
      }
    }
    assert.equal(
      result.advisories.reduce((n, a) => n + a.affected.length, 0),
      expected,
    );
  });

  test('CVE-2018-12387: released versions per release, package priority overrides the file priority', () => {
    const a = advisory('CVE-2018-12387');
    assert.equal(a.published, '2018-10-18T13:29:00Z');
    assert.match(a.description ?? '', /^A vulnerability where the JavaScript JIT compiler inlines Array\.prototype\.push/);
    assert.deepEqual(a.severities[0], { source: 'ubuntu', type: 'vendor', value: 'medium', normalized: 'Medium' });
    assert.equal(a.severities[1]?.type, 'CVSS_V3');
    assert.equal(a.severities[1]?.value, 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H');
    assert.ok(a.references.includes('https://usn.ubuntu.com/usn/usn-3778-1'));
    assert.deepEqual(pkg('CVE-2018-12387', 'firefox', 'ubuntu:14.04'), {
      ecosystem: 'deb',
      namespace: 'ubuntu:14.04',
      packageName: 'firefox',
      nameKind: 'source',
      scheme: 'dpkg',
      state: 'fixed',
      ranges: fixed('62.0.3+build1-0ubuntu0.14.04.2'),
      versions: [],
      severity: { source: 'ubuntu', type: 'vendor', value: 'medium', normalized: 'Medium' },
    });
    const tb = pkg('CVE-2018-12387', 'thunderbird', 'ubuntu:18.10');
    assert.deepEqual(tb?.ranges, fixed('1:60.4.0+build2-0ubuntu0.18.10.1'));
    assert.deepEqual(tb?.severity, { source: 'ubuntu', type: 'vendor', value: 'low', normalized: 'Low' });
    const mozjs52 = pkg('CVE-2018-12387', 'mozjs52', 'ubuntu:18.10');
    assert.equal(mozjs52?.state, 'unfixed');
    assert.equal(mozjs52?.vendorStatus, 'ignored');
    assert.equal(pkg('CVE-2018-12387', 'mozjs38', 'ubuntu:18.04')?.vendorStatus, 'needs-triage');
    // `trusty/esm_firefox: DNE` and `precise/esm_firefox: DNE` are left out.
    assert.equal(pkg('CVE-2018-12387', 'firefox', 'ubuntu:14.04:esm'), undefined);
    assert.equal(pkg('CVE-2018-12387', 'mozjs38', 'ubuntu:16.04'), undefined);
  });

  test('CVE-2012-6708: ESM lines get the :esm namespace; not-affected with or without a version', () => {
    const esm = pkg('CVE-2012-6708', 'jquery', 'ubuntu:14.04:esm');
    assert.equal(esm?.state, 'unfixed');
    assert.equal(esm?.vendorStatus, 'needed');
    assert.deepEqual(esm?.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]);
    assert.equal(pkg('CVE-2012-6708', 'jquery', 'ubuntu:12.04:esm')?.vendorStatus, 'needed');
    assert.equal(pkg('CVE-2012-6708', 'jquery', 'ubuntu:14.04')?.vendorStatus, 'ignored');
    for (const ns of ['ubuntu:16.04', 'ubuntu:17.10', 'ubuntu:18.04', 'ubuntu:19.10']) {
      const p = pkg('CVE-2012-6708', 'jquery', ns);
      assert.equal(p?.state, 'not_affected', ns);
      assert.deepEqual(p?.ranges, []);
      assert.equal(p?.vendorStatus, undefined);
    }
    assert.equal(advisory('CVE-2012-6708').affected.length, 9);
  });

  test('CVE-2019-13722: a released version with its closing parenthesis missing is still read', () => {
    assert.deepEqual(pkg('CVE-2019-13722', 'thunderbird', 'ubuntu:18.04')?.ranges, fixed('1:68.4.1+build1-0ubuntu0.18.04.1'));
    assert.equal(pkg('CVE-2019-13722', 'firefox', 'ubuntu:16.04')?.state, 'not_affected');
    assert.equal(pkg('CVE-2019-13722', 'thunderbird', 'ubuntu:16.04')?.vendorStatus, 'needed');
  });

  test('CVE-2018-1999023: a released version dpkg cannot read is left out, not guessed', () => {
    assert.equal(pkg('CVE-2018-1999023', 'wesnoth-1.12', 'ubuntu:18.04'), undefined);
    assert.equal(pkg('CVE-2018-1999023', 'wesnoth-1.12', 'ubuntu:16.04')?.vendorStatus, 'needed');
  });

  test('CVE-2009-3850: needs-triage on supported releases, ignored on end-of-life ones', () => {
    assert.equal(pkg('CVE-2009-3850', 'blender', 'ubuntu:16.04')?.vendorStatus, 'needs-triage');
    assert.equal(pkg('CVE-2009-3850', 'blender', 'ubuntu:8.04')?.vendorStatus, 'ignored');
    assert.deepEqual(advisory('CVE-2009-3850').severities, [{ source: 'ubuntu', type: 'vendor', value: 'low', normalized: 'Low' }]);
  });

  test('a malformed file in the middle is skipped and counted, the rest loads', () => {
    const mid = Math.floor(files.length / 2);
    const broken = { name: 'active/CVE-2099-0001', bytes: Buffer.from('PublicDate: 2099-01-01\nDescription:\n nothing\n') };
    const r = parseUctFiles([...files.slice(0, mid), broken, ...files.slice(mid)]);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]?.record, 'active/CVE-2099-0001');
    assert.deepEqual(r.advisories, result.advisories);
  });

  test('an unknown status word is kept as unfixed; files that are not CVE files are ignored', () => {
    const a = parseUctFile('Candidate: CVE-2024-0001\nPriority: high\n\nPatches_foo:\nnoble_foo: some-new-state (x)\nfocal_foo: released\n');
    assert.deepEqual(a.affected.map((p) => [p.namespace, p.state, p.vendorStatus]), [['ubuntu:24.04', 'unfixed', 'some-new-state']]);
    assert.deepEqual(parseUctFiles([{ name: 'README', bytes: Buffer.from('hello') }]), { advisories: [], skipped: [] });
  });

  test('release keys map to namespaces', () => {
    assert.equal(ubuntuNamespace('focal'), 'ubuntu:20.04');
    assert.equal(ubuntuNamespace('jammy'), 'ubuntu:22.04');
    assert.equal(ubuntuNamespace('noble'), 'ubuntu:24.04');
    assert.equal(ubuntuNamespace('trusty/esm'), 'ubuntu:14.04:esm');
    assert.equal(ubuntuNamespace('esm-infra/xenial'), 'ubuntu:16.04:esm');
    assert.equal(ubuntuNamespace('esm-apps/focal'), 'ubuntu:20.04:esm');
    assert.equal(ubuntuNamespace('devel'), undefined);
    assert.equal(ubuntuNamespace('upstream'), undefined);
    assert.equal(ubuntuNamespace('vivid/ubuntu-core'), undefined);
  });

  test('recognizes tracker files by name and first bytes', () => {
    const first = files[0] as FeedFile;
    assert.equal(ubuntuUctFeed.recognizes(first), true);
    assert.equal(ubuntuUctFeed.recognizes({ name: 'CVE-2009-3850.json', bytes: first.bytes }), false);
    assert.equal(ubuntuUctFeed.recognizes({ name: 'CVE-2009-3850', bytes: Buffer.from('{"id": "CVE-2009-3850"}') }), false);
    assert.ok(files.every((f) => ubuntuUctFeed.recognizes(f)));
  });
});
