import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../test/support/shared-data.js';
import type { Inventory } from '../domain/inventory.js';
import { isPortcullisError } from '../domain/errors.js';
import { parseDpkgStatus } from '../package-db/dpkg/dpkg-status.js';
import { inventoryReference } from '../services/inventory-service.js';
import { buildTar, writeOciLayout, type TarEntry } from '../test-support/tar-builder.js';

// A real status file (3 packages) and a second real one, so a test can tell which file was read.
const STATUS = readFileSync(sharedData('pkgdb', 'dpkg', 'claircore-postgresql.status'));
const OTHER_STATUS = readFileSync(sharedData('pkgdb', 'dpkg', 'claircore-texlive.status'));
const EXPECTED = parseDpkgStatus(STATUS, 'var/lib/dpkg/status')
  .packages.map((p) => `${p.name}@${p.version}`)
  .sort();
const WANTED = 'var/lib/dpkg/status';

let work: string;
let n = 0;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'portcullis-links-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** An OCI layout whose layers are tars of these entries (base first); returns its reference. */
async function imageOf(layers: TarEntry[][]): Promise<string> {
  return writeOciLayout(join(work, `image-${n++}`), await Promise.all(layers.map((entries) => buildTar(entries))));
}

/** The inventory of an image, read with no cache or with the layer cache in `cache`. */
async function inventoryOfImage(reference: string, cache: string | false = false): Promise<Inventory> {
  const [inv] = await inventoryReference({ reference, cache });
  assert.ok(inv);
  return inv;
}

/** The inventory of a new image of these layers, read with no cache. */
async function inventoryOf(layers: TarEntry[][]): Promise<Inventory> {
  return inventoryOfImage(await imageOf(layers));
}

const dpkg = (inv: Inventory): string[] =>
  inv.packages
    .filter((p) => p.ecosystem === 'deb')
    .map((p) => `${p.name}@${p.version}`)
    .sort();

describe('links at wanted paths are followed inside the image, as a chroot would', () => {
  test('an absolute symlink to a file of the same layer (after the link in the tar) is read at the link path', async () => {
    const inv = await inventoryOf([
      [
        { name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' },
        { name: 'usr/share/x/status', content: STATUS },
      ],
    ]);
    assert.deepEqual(dpkg(inv), EXPECTED);
    assert.ok(inv.packages.every((p) => p.path === WANTED && p.layerIndex === 0));
  });

  test('a symlink to a file of an earlier layer, and one whose target a later layer adds, count in the later layer', async () => {
    const earlier = await inventoryOf([[{ name: 'usr/share/x/status', content: STATUS }], [{ name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' }]]);
    assert.deepEqual(dpkg(earlier), EXPECTED);
    assert.ok(earlier.packages.every((p) => p.layerIndex === 1));
    const later = await inventoryOf([[{ name: WANTED, type: 'symlink', linkname: '../../../usr/share/x/status' }], [{ name: 'usr/share/x/status', content: STATUS }]]);
    assert.deepEqual(dpkg(later), EXPECTED);
    assert.ok(later.packages.every((p) => p.layerIndex === 1));
  });

  test('the file the link leads to now counts: a later layer replacing the target changes the packages', async () => {
    const inv = await inventoryOf([
      [
        { name: 'usr/share/x/status', content: STATUS },
        { name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' },
      ],
      [{ name: 'usr/share/x/status', content: OTHER_STATUS }],
    ]);
    assert.deepEqual(
      dpkg(inv),
      parseDpkgStatus(OTHER_STATUS, WANTED)
        .packages.map((p) => `${p.name}@${p.version}`)
        .sort(),
    );
  });

  test('symlinked directories and chains on the way are followed; `..` resolves from where the links lead', async () => {
    const inv = await inventoryOf([
      [
        { name: 'srv', type: 'symlink', linkname: '/opt' },
        { name: WANTED, type: 'symlink', linkname: '/srv/store/../store/current' },
        { name: 'opt/store/current', type: 'symlink', linkname: 'v1/status' },
        { name: 'opt/store/v1/status', content: STATUS },
      ],
    ]);
    assert.deepEqual(dpkg(inv), EXPECTED);
  });

  test('a wanted path reached only through a symlinked directory is read, credited to the later layer', async () => {
    const inv = await inventoryOf([
      [{ name: 'opt/dpkg/status', content: STATUS }],
      [{ name: 'var/lib/dpkg', type: 'symlink', linkname: '/opt/dpkg' }],
    ]);
    assert.deepEqual(dpkg(inv), EXPECTED);
    assert.ok(inv.packages.every((p) => p.path === WANTED && p.layerIndex === 1));
  });

  test('a symlinked directory whose files the detector reads at their real path counts nothing twice (usrmerge)', async () => {
    const inv = await inventoryOf([
      [
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'usr/lib/apk/db/installed', content: readFileSync(sharedData('pkgdb', 'apk', 'syft-multiple-2.installed')) },
        { name: WANTED, content: STATUS },
      ],
    ]);
    const apk = inv.packages.filter((p) => p.ecosystem === 'apk');
    assert.ok(apk.length > 0);
    assert.ok(apk.every((p) => p.path === 'usr/lib/apk/db/installed'));
    assert.equal(new Set(apk.map((p) => `${p.name}@${p.version}`)).size, apk.length);
  });

  test('a link to a file its detector also reads at its own path counts that file once, there', async () => {
    const inv = await inventoryOf([
      [
        { name: WANTED, type: 'symlink', linkname: '/var/lib/dpkg/status.d/base' },
        { name: 'var/lib/dpkg/status.d/base', content: STATUS },
      ],
    ]);
    assert.deepEqual(
      inv.packages.map((p) => p.path),
      EXPECTED.map(() => 'var/lib/dpkg/status.d/base'),
    );
  });

  test('a hardlink to a file of an earlier layer is read from that layer', async () => {
    const inv = await inventoryOf([[{ name: 'usr/share/x/status', content: STATUS }], [{ name: WANTED, type: 'link', linkname: 'usr/share/x/status' }]]);
    assert.deepEqual(dpkg(inv), EXPECTED);
    assert.ok(inv.packages.every((p) => p.path === WANTED && p.layerIndex === 1));
  });

  test('a hardlink to a file of its own layer that no detector wanted is read too', async () => {
    const inv = await inventoryOf([
      [
        { name: 'usr/share/x/status', content: STATUS },
        { name: WANTED, type: 'link', linkname: './usr/share/x/status' },
      ],
    ]);
    assert.deepEqual(dpkg(inv), EXPECTED);
  });

  test('a hardlink to a file no layer holds is E_LAYER_CORRUPT, never an empty result', async () => {
    await assert.rejects(
      inventoryOf([[{ name: 'etc/hostname', content: 'x' }], [{ name: WANTED, type: 'link', linkname: 'usr/share/x/status' }]]),
      (err) => isPortcullisError(err, 'E_LAYER_CORRUPT') && /hardlink/.test(err.message),
    );
  });

  test('a symlink out of the image root is E_SYMLINK; a dangling one is a warning', async () => {
    await assert.rejects(
      inventoryOf([[{ name: WANTED, type: 'symlink', linkname: '../../../../../../usr/share/x/status' }]]),
      (err) => isPortcullisError(err, 'E_SYMLINK'),
    );
    const dangling = await inventoryOf([[{ name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' }]]);
    assert.deepEqual(dpkg(dangling), []);
    assert.deepEqual(
      dangling.warnings.map((w) => [w.code, w.path]),
      [['dangling-link', WANTED]],
    );
  });

  test('a warm run from the layer cache follows the same links without the cold run', async () => {
    const cache = join(work, 'cache');
    const layers: TarEntry[][] = [[{ name: 'usr/share/x/status', content: STATUS }], [{ name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' }]];
    // One image for both runs: tar-builder stamps entries with the time, so a rebuilt tar may differ.
    const image = await imageOf(layers);
    const cold = await inventoryOfImage(image, cache);
    const warm = await inventoryOfImage(image, cache);
    assert.ok(warm.layers.every((l) => l.readFrom === 'cache'));
    assert.deepEqual(dpkg(warm), EXPECTED);
    assert.deepEqual(warm.packages, cold.packages);
    // What was read through the link is cached too: with the layer blobs gone, a warm run still works.
    const layout = image.replace(/^oci:/, '').replace(/:latest$/, '');
    for (const layer of warm.layers) rmSync(join(layout, 'blobs', 'sha256', layer.digest.slice('sha256:'.length)));
    assert.deepEqual(dpkg(await inventoryOfImage(image, cache)), EXPECTED);
    await assert.rejects(inventoryOfImage(image, false), (err) => isPortcullisError(err));
  });
});

describe('a special file at a wanted path hides the lower file, as overlayfs does', () => {
  for (const type of ['fifo', 'character-device'] as const) {
    test(`a ${type} replacing the status file of an earlier layer leaves no packages from it, with a warning`, async () => {
      const inv = await inventoryOf([[{ name: WANTED, content: STATUS }], [{ name: WANTED, type }]]);
      assert.deepEqual(dpkg(inv), []);
      assert.deepEqual(
        inv.warnings.map((w) => [w.code, w.path]),
        [['not-a-regular-file', WANTED]],
      );
    });
  }

  test('a directory replacing the status file of an earlier layer leaves no packages from it', async () => {
    const inv = await inventoryOf([[{ name: WANTED, content: STATUS }], [{ name: WANTED, type: 'directory' }]]);
    assert.deepEqual(dpkg(inv), []);
    // A wanted name is often a directory in real images (`x.egg-info`): no warning for that.
    assert.deepEqual(inv.warnings, []);
  });

  test('a symlink replacing a directory of an earlier layer hides everything the directory held', async () => {
    // Layer 1 has the status file under var/lib/dpkg/; layer 2 makes var/lib/dpkg a symlink to an empty place.
    const inv = await inventoryOf([[{ name: WANTED, content: STATUS }], [{ name: 'srv/empty/', type: 'directory' }, { name: 'var/lib/dpkg', type: 'symlink', linkname: '/srv/empty' }]]);
    assert.deepEqual(dpkg(inv), []);
  });

  test('a regular file replacing a directory hides it too; a sibling directory stays', async () => {
    const inv = await inventoryOf([[{ name: WANTED, content: STATUS }, { name: 'opt/app/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }], [{ name: 'opt/app', content: 'now a file' }]]);
    assert.deepEqual(dpkg(inv), EXPECTED, 'the status file is not below opt/app');
    assert.deepEqual(inv.packages.filter((p) => p.ecosystem === 'npm'), []);
  });

  test('the same layers read again from the layer cache hide the same', async () => {
    const reference = await imageOf([[{ name: WANTED, content: STATUS }], [{ name: 'var/lib/dpkg', type: 'symlink', linkname: '/srv/empty' }]]);
    const cache = join(work, `cache-${n++}`);
    assert.deepEqual(dpkg(await inventoryOfImage(reference, cache)), []);
    const warm = await inventoryOfImage(reference, cache);
    assert.equal(warm.stats.layersFromCache, 2);
    assert.deepEqual(dpkg(warm), []);
  });

  test('a symlink that leads to a FIFO reads nothing, with a warning', async () => {
    const inv = await inventoryOf([[{ name: 'usr/share/x/status', content: STATUS }, { name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' }], [{ name: 'usr/share/x/status', type: 'fifo' }]]);
    assert.deepEqual(dpkg(inv), []);
    assert.deepEqual(
      inv.warnings.map((w) => w.code),
      ['not-a-regular-file'],
    );
  });
});

describe('dir: root filesystems', () => {
  test('an absolute symlink is resolved inside the root, not on the host', async () => {
    const root = join(work, 'rootfs');
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    mkdirSync(join(root, 'usr/share/x'), { recursive: true });
    writeFileSync(join(root, 'usr/share/x/status'), STATUS);
    symlinkSync('/usr/share/x/status', join(root, WANTED));
    const [inv] = await inventoryReference({ reference: `dir:${root}`, cache: false });
    assert.ok(inv);
    assert.deepEqual(dpkg(inv), EXPECTED);
  });

  test('a FIFO at a wanted path is reported, and nothing hangs reading it', async () => {
    const root = join(work, 'rootfs-fifo');
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    execFileSync('mkfifo', [join(root, WANTED)]);
    const [inv] = await inventoryReference({ reference: `dir:${root}`, cache: false });
    assert.ok(inv);
    assert.deepEqual(inv.packages, []);
    assert.deepEqual(
      inv.warnings.map((w) => w.code),
      ['not-a-regular-file'],
    );
  });
});
