import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dpkgFileListDetector, dpkgListOwner, parseDpkgFileList } from './file-list-detector.js';

const file = (path: string, text: string) => ({ path, size: text.length, mode: 0o644, bytes: Buffer.from(text) });

describe('dpkg file lists', () => {
  test('the package and, for Multi-Arch: same packages, the architecture come from the file name', () => {
    assert.deepEqual(dpkgListOwner('var/lib/dpkg/info/python3-requests.list'), { name: 'python3-requests' });
    assert.deepEqual(dpkgListOwner('var/lib/dpkg/info/libc6:amd64.list'), { name: 'libc6', arch: 'amd64' });
    for (const other of ['var/lib/dpkg/info/libc6:amd64.md5sums', 'var/lib/dpkg/info/.list', 'var/lib/dpkg/info/x/y.list', 'var/lib/dpkg/info/:amd64.list', 'usr/share/x.list', 'var/lib/dpkg/status']) {
      assert.equal(dpkgListOwner(other), undefined, other);
      assert.equal(dpkgFileListDetector.wants({ path: other, size: 1, mode: 0o644 }), false, other);
    }
    assert.equal(dpkgFileListDetector.wants({ path: 'var/lib/dpkg/info/fzf.list', size: 1, mode: 0o644 }), true);
  });

  test('lines become image paths; the root line, blank lines and paths out of the root are dropped', () => {
    // The first lines of python3-requests.list of the lang test image, and damage around them.
    const text = '/.\n/usr\n/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO\r\n\n/usr/../../etc/shadow\n/usr/share/doc/python3-requests\n';
    assert.deepEqual(parseDpkgFileList(text), ['usr', 'usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO', 'usr/share/doc/python3-requests']);
  });

  test('the detector reports the list as owned files and no packages', () => {
    const out = dpkgFileListDetector.parse(file('var/lib/dpkg/info/python3-yaml:amd64.list', '/.\n/usr/lib/python3/dist-packages/yaml/__init__.py\n'));
    assert.deepEqual(out, { ownedFiles: [{ ecosystem: 'deb', name: 'python3-yaml', arch: 'amd64', files: ['usr/lib/python3/dist-packages/yaml/__init__.py'] }] });
  });
});
