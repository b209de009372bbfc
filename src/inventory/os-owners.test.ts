import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InventoryPackage, OwnedFiles } from '../domain/package.js';
import { attachOsOwners } from './os-owners.js';

/** Packages as the lang test image holds them (dpkg-query and the egg-info of python3-requests). */
const base = { layer: 'sha256:aa', layerIndex: 0 };
const requestsDeb: InventoryPackage = {
  ...base,
  ecosystem: 'deb',
  name: 'python3-requests',
  version: '2.28.1+dfsg-1',
  sourceName: 'requests',
  sourceVersion: '2.28.1+dfsg-1',
  arch: 'all',
  path: 'var/lib/dpkg/status',
  purl: 'pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all&distro=debian-12',
};
const requestsPy: InventoryPackage = {
  ...base,
  ecosystem: 'pypi',
  name: 'requests',
  version: '2.28.1',
  path: 'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
  purl: 'pkg:pypi/requests@2.28.1',
  attributes: { displayName: 'requests', distroPackaged: 'debian' },
};
const pipPy: InventoryPackage = { ...base, ecosystem: 'pypi', name: 'idna', version: '3.13', path: 'usr/local/lib/python3.11/dist-packages/idna-3.13.dist-info/METADATA', purl: 'pkg:pypi/idna@3.13' };
const fzfDeb: InventoryPackage = { ...base, ecosystem: 'deb', name: 'fzf', version: '0.38.0-1+b1', sourceName: 'fzf', sourceVersion: '0.38.0-1', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/fzf@0.38.0-1%2Bb1' };
const fzfGo: InventoryPackage = { ...base, ecosystem: 'golang', name: 'stdlib', version: 'v1.19.8', path: 'usr/bin/fzf', purl: 'pkg:golang/stdlib@v1.19.8' };

const requestsList: OwnedFiles = { ecosystem: 'deb', name: 'python3-requests', files: ['usr', 'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO'] };

describe('attachOsOwners', () => {
  test('a language package whose file an OS package lists gets that package, version and source as owner', () => {
    const [, , py] = attachOsOwners([requestsDeb, pipPy, requestsPy], [requestsList]);
    assert.deepEqual(py?.osOwner, { ecosystem: 'deb', name: 'python3-requests', version: '2.28.1+dfsg-1', sourceName: 'requests', sourceVersion: '2.28.1+dfsg-1', arch: 'all' });
    // The real owner replaces the path heuristic; other attributes stay.
    assert.deepEqual(py?.attributes, { displayName: 'requests' });
  });

  test('a package no list holds has no owner, and the heuristic mark goes once the image has file lists', () => {
    const marked = { ...pipPy, path: 'usr/lib/python3/dist-packages/idna-3.13.dist-info/METADATA', attributes: { distroPackaged: 'debian' } };
    const [, out] = attachOsOwners([requestsDeb, marked], [requestsList]);
    assert.equal(out?.osOwner, undefined);
    assert.equal(out?.attributes, undefined);
  });

  test('without any file list (distroless, a stored inventory) nothing changes and the heuristic stays', () => {
    const packages = [requestsDeb, requestsPy];
    assert.equal(attachOsOwners(packages, []), packages);
  });

  test('a list left behind by a package that is no longer installed owns nothing', () => {
    const [py] = attachOsOwners([requestsPy], [requestsList]);
    assert.equal(py?.osOwner, undefined);
  });

  test('merged /usr: a package listing bin/fzf owns the usr/bin/fzf the walk found', () => {
    const [, go] = attachOsOwners([fzfDeb, fzfGo], [{ ecosystem: 'deb', name: 'fzf', files: ['bin/fzf'] }]);
    assert.equal(go?.osOwner?.name, 'fzf');
    assert.equal(go?.osOwner?.version, '0.38.0-1+b1');
  });

  test('an architecture-qualified list (libfoo:i386.list) meets only the package of that architecture', () => {
    const i386 = { ...fzfDeb, arch: 'i386', version: '0.38.0-1' };
    const [, , go] = attachOsOwners([fzfDeb, i386, fzfGo], [{ ecosystem: 'deb', name: 'fzf', arch: 'i386', files: ['usr/bin/fzf'] }]);
    assert.equal(go?.osOwner?.arch, 'i386');
    assert.equal(go?.osOwner?.version, '0.38.0-1');
  });

  test('apk and rpm lists carry a version: only the installed package of that version owns', () => {
    const apk: InventoryPackage = { ...base, ecosystem: 'apk', name: 'py3-requests', version: '2.32.3-r0', arch: 'x86_64', path: 'lib/apk/db/installed', purl: 'pkg:apk/alpine/py3-requests@2.32.3-r0' };
    const py: InventoryPackage = { ...requestsPy, version: '2.32.3', path: 'usr/lib/python3.12/site-packages/requests-2.32.3.dist-info/METADATA' };
    const stale: OwnedFiles = { ecosystem: 'apk', name: 'py3-requests', version: '2.31.0-r1', files: [py.path] };
    assert.equal(attachOsOwners([apk, py], [stale])[1]?.osOwner, undefined);
    assert.equal(attachOsOwners([apk, py], [{ ...stale, version: '2.32.3-r0' }])[1]?.osOwner?.version, '2.32.3-r0');
  });
});
