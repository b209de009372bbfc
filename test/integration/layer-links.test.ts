import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDpkgStatus } from '../../src/package-db/dpkg/dpkg-status.js';
import { buildTar, writeOciLayout } from '../../src/test-support/tar-builder.js';
import { runCli } from '../support/run-cli.js';
import { sharedData } from '../support/shared-data.js';

// The hostile-image cases of links and special files at the dpkg database path, end to end through
// the CLI on real OCI layouts with a real Debian 12 status file.
const STATUS = readFileSync(sharedData('pkgdb', 'dpkg', 'debian12-machine.status'));
const WANTED = 'var/lib/dpkg/status';
const expected = parseDpkgStatus(STATUS, WANTED)
  .packages.map((p) => `${p.name}\t${p.version}`)
  .sort();

interface SbomJson {
  packages: { ecosystem: string; name: string; version: string; path: string; layerIndex: number }[];
  warnings: { code: string; path?: string }[];
}

describe('portcullis sbom follows links at package-database paths inside the image', () => {
  let work: string;
  let n = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-layer-links-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function sbom(layers: Parameters<typeof buildTar>[0][]): Promise<SbomJson> {
    const dir = join(work, `image-${n++}`);
    const reference = await writeOciLayout(dir, await Promise.all(layers.map((l) => buildTar(l))));
    const out = join(work, `out-${n++}.json`);
    const res = await runCli(['sbom', reference, '--no-cache', '--format', 'json', '--output', out]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(existsSync(out));
    return JSON.parse(readFileSync(out, 'utf8')) as SbomJson;
  }

  const debs = (inv: SbomJson): string[] =>
    inv.packages
      .filter((p) => p.ecosystem === 'deb')
      .map((p) => `${p.name}\t${p.version}`)
      .sort();

  test('an absolute symlink to the status file of an earlier layer, and a hardlink to it, give all 732 packages', async () => {
    const base = [{ name: 'usr/share/x/status', content: STATUS }];
    const viaSymlink = await sbom([base, [{ name: WANTED, type: 'symlink', linkname: '/usr/share/x/status' }]]);
    assert.equal(expected.length, 732);
    assert.deepEqual(debs(viaSymlink), expected);
    assert.ok(viaSymlink.packages.every((p) => p.path === WANTED && p.layerIndex === 1));
    const viaHardlink = await sbom([base, [{ name: WANTED, type: 'link', linkname: 'usr/share/x/status' }]]);
    assert.deepEqual(debs(viaHardlink), expected);
  });

  test('a FIFO replacing the status file in a later layer leaves none of the earlier packages', async () => {
    const inv = await sbom([[{ name: WANTED, content: STATUS }], [{ name: WANTED, type: 'fifo' }]]);
    assert.deepEqual(debs(inv), []);
    assert.deepEqual(
      inv.warnings.map((w) => [w.code, w.path]),
      [['not-a-regular-file', WANTED]],
    );
  });
});
