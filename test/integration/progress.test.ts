import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importFeeds } from '../../src/vulndb/index.js';
import { writeTinyLayout } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';
import { sharedData } from '../support/shared-data.js';

const run = promisify(execFile);

const STATUS = 'Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n';

/**
 * What `sbom`/`scan` print on stderr: a live display (forced here with PORTCULLIS_PROGRESS=1, since
 * the tests' stderr is a pipe) with files/bytes walked and layer bytes in human units and a rate;
 * without a TTY only the end summary and the warnings, each warning once; with -q nothing.
 */
describe('progress, summary and warnings on stderr', () => {
  let work: string;
  let rootfs: string;
  let archive: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-progress-'));
    rootfs = join(work, 'rootfs');
    await mkdir(join(rootfs, 'var', 'lib', 'dpkg'), { recursive: true });
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await mkdir(join(rootfs, 'usr', 'share', 'data'), { recursive: true });
    await writeFile(join(rootfs, 'var', 'lib', 'dpkg', 'status'), STATUS);
    await writeFile(join(rootfs, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\n');
    // 400 files of 3 KiB: enough bytes that sizes print in KiB or MiB, never as a raw byte count.
    for (let i = 0; i < 400; i++) await writeFile(join(rootfs, 'usr', 'share', 'data', `f${i}`), randomBytes(3 * 1024));
    const layout = join(work, 'layout');
    await writeTinyLayout(layout, { layers: [[{ path: 'var/lib/dpkg/status', content: STATUS }], [{ path: 'app/blob.bin', content: randomBytes(512 * 1024) }]] }, 'v1');
    archive = join(work, 'image.tar');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layout}:v1`, `docker-archive:${archive}:tiny/app:v1`]);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const quietEnv = { PORTCULLIS_PROGRESS: '' };

  test('dir: without a TTY: stdout is the inventory, stderr only the summary line with files walked, bytes and rate', async () => {
    const res = await runCli(['sbom', `dir:${rootfs}`, '--no-cache'], { env: quietEnv });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { packages: unknown[] }).packages.length, 2);
    assert.match(res.stderr, /^portcullis: dir:\S+: 2 packages; walked 402 files, 1\.\d+ MiB in [\d.]+ m?s \([\d.]+ [KMG]iB\/s\)\n$/);
  });

  test('dir: with progress forced: a live line of files walked, human bytes and a rate, then the summary', async () => {
    const res = await runCli(['sbom', `dir:${rootfs}`, '--no-cache'], { env: { PORTCULLIS_PROGRESS: '1' } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, / walking: [\d,]+ files, [\d.]+ (B|KiB|MiB) \| ([\d.]+ [KMG]?i?B\/s|-) \| /);
    assert.match(res.stderr, /portcullis: dir:\S+: 2 packages; walked 402 files/);
    assert.doesNotMatch(res.stdout, /walking/, 'progress never goes to stdout');
  });

  test('docker-archive: with progress forced: layer lines in human units with a rate, never raw byte counts', async () => {
    const res = await runCli(['sbom', `docker-archive:${archive}`, '--no-cache'], { env: { PORTCULLIS_PROGRESS: '1' } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, / [0-9a-f]{12} \[[#-]+\] 100% \| [\d.]+ KiB \/ [\d.]+ KiB \| [\d.]+ [KMG]iB\/s/);
    assert.doesNotMatch(res.stderr, /\d+\/\d+ bytes/);
    assert.match(res.stderr, /docker-archive:\S+: 2 packages; 2 layers, [\d.]+ [KM]iB read in /);
  });

  test('-q keeps sbom silent on stderr, even with progress forced', async () => {
    const res = await runCli(['sbom', `dir:${rootfs}`, '--no-cache', '-q'], { env: { PORTCULLIS_PROGRESS: '1' } });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
  });

  describe('scan', () => {
    let db: string;
    let inventoryFile: string;
    before(async () => {
      db = join(work, 'go.db');
      await importFeeds([sharedData('feeds', 'osv', 'Go')], { target: db });
      // A stored inventory with the same development build of a module in three binaries: the
      // matcher cannot read "(devel)" and says so once per binary, with the same words.
      const res = await runCli(['sbom', `dir:${rootfs}`, '--no-cache', '-q']);
      const inv = JSON.parse(res.stdout) as { packages: object[] };
      for (const bin of ['usr/bin/a', 'usr/bin/b', 'usr/bin/c']) {
        inv.packages.push({ ecosystem: 'golang', name: 'golang.org/x/net', version: '(devel)', path: bin, purl: 'pkg:golang/golang.org/x/net@%28devel%29', layer: 'rootfs', layerIndex: 0 });
      }
      inventoryFile = join(work, 'devel.inventory.json');
      await writeFile(inventoryFile, JSON.stringify(inv));
    });

    test('warnings are printed once each, with how often they occurred', async () => {
      const res = await runCli(['scan', `inventory:${inventoryFile}`, '--db', db, '--offline', '--max-db-age', '36500d', '--format', 'json'], { env: quietEnv });
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stderr.split('\n').filter((l) => l !== '');
      const devel = lines.filter((l) => l.includes('"(devel)"'));
      assert.equal(devel.length, 1, res.stderr);
      assert.match(devel[0]!, /^portcullis: warning: matcher: .*golang\.org\/x\/net.* \(3 times\)$/);
    });

    test('dir: scan without a TTY prints the summary too; -q prints nothing', async () => {
      const res = await runCli(['scan', `dir:${rootfs}`, '--db', db, '--offline', '--max-db-age', '36500d', '--format', 'json', '--no-cache'], { env: quietEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /^portcullis: dir:\S+: 2 packages; walked 402 files, 1\.\d+ MiB in /m);
      const quiet = await runCli(['scan', `dir:${rootfs}`, '--db', db, '--offline', '--max-db-age', '36500d', '--format', 'json', '--no-cache', '-q'], { env: quietEnv });
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stderr, '');
    });
  });
});
