import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import type { PackageRecord } from '../../domain/package.js';
import { normalizePythonName, parsePythonMetadata, pythonMetadataDetector } from './metadata-detector.js';

const root = sharedData('pkgdb', 'python');
const dirs = readdirSync(root).filter((d) => d.endsWith('.dist-info'));

function read(dir: string, imagePath = `usr/local/lib/python3.11/site-packages/${dir}/METADATA`): PackageRecord {
  const out = parsePythonMetadata(imagePath, readFileSync(join(root, dir, 'METADATA')));
  assert.equal(out.warnings, undefined, dir);
  assert.equal(out.packages?.length, 1, dir);
  const rec = out.packages?.[0];
  assert.ok(rec);
  return rec;
}

describe('pypi metadata detector on real METADATA files', () => {
  test('all 40 files parse; names and versions agree with a plain reading of each file', () => {
    assert.equal(dirs.length, 40);
    for (const dir of dirs) {
      const text = readFileSync(join(root, dir, 'METADATA'), 'latin1');
      // Independent check: the first Name:/Version: lines, and the wheel's folder name.
      const name = /^Name:[ \t]*(.*?)\r?$/m.exec(text)?.[1];
      const version = /^Version:[ \t]*(.*?)\r?$/m.exec(text)?.[1];
      const rec = read(dir);
      assert.equal(rec.attributes?.['displayName'], name, dir);
      assert.equal(rec.version, version, dir);
      const [folderName, folderVersion] = dir.replace(/\.dist-info$/, '').split('-');
      assert.equal(rec.name, folderName?.toLowerCase().replace(/_/g, '-'), dir);
      assert.equal(rec.version, folderVersion, dir);
      assert.equal(rec.ecosystem, 'pypi');
    }
  });

  test('entries checked by hand', () => {
    assert.deepEqual(read('pip-23.2.1.dist-info'), {
      ecosystem: 'pypi',
      name: 'pip',
      version: '23.2.1',
      path: 'usr/local/lib/python3.11/site-packages/pip-23.2.1.dist-info/METADATA',
      attributes: { displayName: 'pip' },
      license: 'MIT',
    });
    const ext = read('mypy_extensions-1.1.0.dist-info');
    assert.deepEqual([ext.name, ext.attributes?.['displayName'], ext.version, ext.license], ['mypy-extensions', 'mypy_extensions', '1.1.0', 'MIT']);
    const dateutil = read('python_dateutil-2.9.0.post0.dist-info');
    assert.deepEqual([dateutil.name, dateutil.version, dateutil.license], ['python-dateutil', '2.9.0.post0', 'Dual License']);
    // License-Expression wins; an UNKNOWN or absent License falls back to the classifiers.
    assert.equal(read('cryptography-48.0.0.dist-info').license, 'Apache-2.0 OR BSD-3-Clause');
    assert.equal(read('backcall-0.2.0.dist-info').license, 'BSD License');
    assert.equal(read('annotated_types-0.7.0.dist-info').license, 'MIT License');
    assert.equal(read('typing_extensions-4.15.0.dist-info').name, 'typing-extensions');
  });

  test('Debian python3-* packages in dist-packages are marked', () => {
    const rec = read('idna-3.13.dist-info', 'usr/lib/python3/dist-packages/idna-3.13.dist-info/METADATA');
    assert.equal(rec.attributes?.['distroPackaged'], 'debian');
    assert.equal(read('idna-3.13.dist-info', 'usr/local/lib/python3.11/dist-packages/idna-3.13.dist-info/METADATA').attributes?.['distroPackaged'], undefined);
  });
});

describe('pypi metadata detector on other inputs', () => {
  test('PKG-INFO with continuation lines and a long License text', () => {
    const pkgInfo = [
      'Metadata-Version: 1.1',
      'Name: Zope.Interface',
      'Version: 5.4.0',
      'License: Copyright (c) Someone',
      '        All rights reserved. Redistribution and use in source and binary forms are permitted.',
      'Classifier: License :: OSI Approved :: Zope Public License',
      '',
      'Name: not-a-header-any-more',
    ].join('\n');
    const out = parsePythonMetadata('usr/lib/python3/dist-packages/zope.interface-5.4.0.egg-info', Buffer.from(pkgInfo));
    assert.deepEqual(out.packages?.[0], {
      ecosystem: 'pypi',
      name: 'zope-interface',
      version: '5.4.0',
      path: 'usr/lib/python3/dist-packages/zope.interface-5.4.0.egg-info',
      attributes: { displayName: 'Zope.Interface', distroPackaged: 'debian' },
      license: 'Zope Public License',
    });
  });

  test('missing Name/Version is a warning; binary garbage a typed error', () => {
    const out = parsePythonMetadata('x.dist-info/METADATA', Buffer.from('Metadata-Version: 2.1\nName: foo\n'));
    assert.equal(out.packages, undefined);
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
    assert.equal(parsePythonMetadata('x.dist-info/METADATA', Buffer.alloc(0)).warnings?.length, 1);
    assert.throws(
      () => parsePythonMetadata('x.dist-info/METADATA', Buffer.from([0x4e, 0x61, 0, 1, 2, 0xff])),
      (err) => isPortcullisError(err, 'E_INPUT'),
    );
    // Truncations of a real file never throw.
    const real = readFileSync(join(root, 'requests-2.34.2.dist-info', 'METADATA'));
    for (let cut = 0; cut < 400; cut += 7) parsePythonMetadata('r.dist-info/METADATA', real.subarray(0, cut));
  });

  test('PEP 503 normalization', () => {
    assert.equal(normalizePythonName('Foo.Bar__baz--Qux'), 'foo-bar-baz-qux');
    assert.equal(normalizePythonName('requests'), 'requests');
  });

  test('wants metadata files only', () => {
    const yes = [
      'usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA',
      'usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO',
      'usr/lib/python3/dist-packages/six-1.16.0.egg-info',
      'opt/venv/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA',
    ];
    const no = [
      'usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD',
      'usr/lib/python3/dist-packages/six.py',
      'METADATA',
      'usr/lib/python3/dist-packages/foo.egg-info/SOURCES.txt',
    ];
    for (const p of yes) assert.ok(pythonMetadataDetector.wants({ path: p, size: 10, mode: 0o644 }), p);
    for (const p of no) assert.ok(!pythonMetadataDetector.wants({ path: p, size: 10, mode: 0o644 }), p);
  });
});
