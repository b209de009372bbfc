import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { writeTinyLayout, type WrittenImage } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';

const run = promisify(execFile);

/** The uid/gid the CLI runs as for the permission case when the tests run as root (root reads anything). */
const NOBODY = { uid: 65534, gid: 65534 };

/**
 * Every image source that reads a user's file, fed the broken files a first run meets (an empty
 * `docker save` output, a copy cut short, a gzip of something else, a directory, an unreadable
 * file): each must give its own typed error naming the user's path, exit 2, write no output and
 * leave no temporary file behind.
 */
describe('bad input files: a typed error naming the file, exit 2, nothing written, no temp files left', () => {
  let work: string;
  let privateTmp: string;
  let layoutDir: string;
  let written: WrittenImage;
  let dockerArchive: Buffer;
  let ociArchive: Buffer;
  let n = 0;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-bad-files-'));
    privateTmp = join(work, 'tmp');
    await mkdir(privateTmp);
    // The permission case runs the CLI as another user, who needs its own tsx cache there.
    await chmod(work, 0o755);
    await chmod(privateTmp, 0o777);
    layoutDir = join(work, 'layout');
    // An incompressible 256 KiB file makes the archive's largest member a layer, so a cut in the
    // middle of the archive lands inside a layer.
    written = await writeTinyLayout(
      layoutDir,
      { layers: [[{ path: 'etc/os-release', content: 'ID=tiny\nVERSION_ID=1\n' }], [{ path: 'app/blob.bin', content: randomBytes(256 * 1024) }]] },
      'v1',
    );
    const dockerTar = join(work, 'image.tar');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layoutDir}:v1`, `docker-archive:${dockerTar}:tiny/app:v1`]);
    dockerArchive = await readFile(dockerTar);
    const ociTar = join(work, 'image-oci.tar');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layoutDir}:v1`, `oci-archive:${ociTar}:v1`]);
    ociArchive = await readFile(ociTar);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A new file under the work dir holding `bytes`. */
  const file = async (name: string, bytes: Buffer | string): Promise<string> => {
    const path = join(work, `${n++}-${name}`);
    await writeFile(path, bytes);
    return path;
  };

  async function expectError(args: string[], code: string, mentions: string, message: RegExp, user?: { uid: number; gid: number }): Promise<void> {
    const out = join(work, `out-${n++}.json`);
    const res = await runCli([...args, '--output', args[0] === 'scan' ? `json=${out}` : out], { env: { TMPDIR: privateTmp }, ...(user ? { user } : {}) });
    assert.equal(res.code, 2, `${args.join(' ')}: exit code; stderr: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(`^portcullis: .*\\[${code}\\]\\n$`), res.stderr);
    assert.ok(res.stderr.includes(mentions), `the message names ${mentions}: ${res.stderr}`);
    assert.match(res.stderr, message);
    assert.doesNotMatch(res.stderr, /portcullis-archive-/, 'never names the temporary copy');
    assert.equal(existsSync(out), false, 'no partial output');
    // tsx (which runs the CLI from source in tests) keeps its own compile cache there; ours must be gone.
    assert.deepEqual((await readdir(privateTmp)).filter((f) => !f.startsWith('tsx-')), [], 'temporary files removed');
  }
  const sbom = (reference: string): string[] => ['sbom', reference, '--no-cache'];
  // No DB exists: a bad file must be reported before the DB is looked at (or updated for minutes).
  const scan = (reference: string): string[] => ['scan', reference, '--offline', '--db', join(work, 'absent.db'), '--format', 'json'];

  test('the archives the cases below cut up are readable whole', async () => {
    const whole = await file('whole.tar', dockerArchive);
    const res = await runCli(['sbom', `docker-archive:${whole}`, '--no-cache'], { env: { TMPDIR: privateTmp } });
    assert.equal(res.code, 0, res.stderr);
    const ociWhole = await file('whole-oci.tar', ociArchive);
    assert.equal((await runCli(['sbom', `oci-archive:${ociWhole}`, '--no-cache'])).code, 0);
  });

  test('docker-archive: an empty (0-byte) file, as a failed `docker save > app.tar` leaves', async () => {
    const path = await file('empty.tar', '');
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /empty \(0 bytes\).*docker save/);
  });

  test('docker-archive: truncated inside the first header', async () => {
    const path = await file('header-cut.tar', dockerArchive.subarray(0, 300));
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /truncated/);
  });

  test('docker-archive: truncated in the middle of a layer', async () => {
    const path = await file('mid-cut.tar', dockerArchive.subarray(0, Math.floor(dockerArchive.length * 0.6)));
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /truncated: .* needs \d+ bytes/);
  });

  test('docker-archive: a gzip archive cut short', async () => {
    const gz = gzipSync(dockerArchive);
    const path = await file('cut.tar.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /not a valid gzip file: truncated/);
  });

  test('docker-archive: a gzip file whose content is not a tar names the user file, not the temporary copy', async () => {
    const path = await file('not-a-tar.tar.gz', gzipSync(Buffer.from('{"this": "is json, not a tar"}\n'.repeat(40))));
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /valid gzip file, but what it holds is not a readable tar archive/);
  });

  test('docker-archive: an empty gzip archive (gzip of nothing)', async () => {
    const path = await file('nothing.tar.gz', gzipSync(Buffer.alloc(0)));
    await expectError(sbom(`docker-archive:${path}`), 'E_MANIFEST', path, /no manifest\.json/);
  });

  test('docker-archive: a directory', async () => {
    const path = join(work, `${n++}-dir.tar`);
    await mkdir(path);
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /is a directory, not an archive file/);
  });

  test('docker-archive: a file without read permission', async () => {
    const path = await file('unreadable.tar', dockerArchive);
    await chmod(path, 0o000);
    const asRoot = process.getuid?.() === 0;
    await expectError(sbom(`docker-archive:${path}`), 'E_INPUT', path, /cannot read .*: permission denied/, asRoot ? NOBODY : undefined);
  });

  test('oci-archive: an empty file and a truncated one', async () => {
    const empty = await file('empty-oci.tar', '');
    await expectError(sbom(`oci-archive:${empty}`), 'E_INPUT', empty, /^portcullis: oci-archive: .* is empty \(0 bytes\)/);
    const cut = await file('cut-oci.tar', ociArchive.subarray(0, Math.floor(ociArchive.length * 0.6)));
    await expectError(sbom(`oci-archive:${cut}`), 'E_INPUT', cut, /^portcullis: oci-archive: .*truncated/);
  });

  describe('OCI layout directory', () => {
    const copyLayout = async (): Promise<string> => {
      const dir = join(work, `${n++}-layout`);
      await run('cp', ['-r', layoutDir, dir]);
      return dir;
    };

    test('an empty index.json', async () => {
      const dir = await copyLayout();
      await writeFile(join(dir, 'index.json'), '');
      await expectError(sbom(`oci:${dir}:v1`), 'E_MANIFEST', dir, /index\.json in .* is empty \(0 bytes\)/);
    });

    test('a truncated index.json', async () => {
      const dir = await copyLayout();
      const index = await readFile(join(dir, 'index.json'));
      await writeFile(join(dir, 'index.json'), index.subarray(0, Math.floor(index.length / 2)));
      await expectError(sbom(`oci:${dir}:v1`), 'E_MANIFEST', dir, /index\.json in .* is not valid JSON \(truncated\?\)/);
    });

    test('a truncated layer blob and a truncated manifest blob', async () => {
      const layer = written.layers[1]!;
      const dir = await copyLayout();
      await truncate(join(dir, 'blobs', 'sha256', layer.digest.slice(7)), 1000);
      await expectError(sbom(`oci:${dir}:v1`), 'E_INPUT', dir, new RegExp(`blobs/sha256/${layer.digest.slice(7)} in .* is truncated: 1000 of ${layer.size} bytes`));
      const dir2 = await copyLayout();
      await truncate(join(dir2, 'blobs', 'sha256', written.manifest.digest.slice(7)), 10);
      await expectError(sbom(`oci:${dir2}:v1`), 'E_INPUT', dir2, /is truncated: 10 of \d+ bytes/);
    });
  });

  describe('scan sbom:FILE and inventory:FILE', () => {
    let inventoryJson: string;
    let cyclonedxJson: string;
    before(async () => {
      const whole = await file('for-sbom.tar', dockerArchive);
      const inv = await runCli(['sbom', `docker-archive:${whole}`, '--no-cache']);
      const cdx = await runCli(['sbom', `docker-archive:${whole}`, '--no-cache', '--format', 'cyclonedx']);
      assert.equal(inv.code, 0, inv.stderr);
      assert.equal(cdx.code, 0, cdx.stderr);
      inventoryJson = inv.stdout;
      cyclonedxJson = cdx.stdout;
    });

    for (const kind of ['sbom', 'inventory'] as const) {
      test(`${kind}: an empty (0-byte) file`, async () => {
        const path = await file(`empty-${kind}.json`, '');
        await expectError(scan(`${kind}:${path}`), 'E_INPUT', path, new RegExp(`^portcullis: ${kind}: .* is empty \\(0 bytes\\)`));
      });

      test(`${kind}: a truncated file`, async () => {
        const text = kind === 'sbom' ? cyclonedxJson : inventoryJson;
        const path = await file(`cut-${kind}.json`, text.slice(0, Math.floor(text.length / 2)));
        await expectError(scan(`${kind}:${path}`), 'E_INPUT', path, /is not complete JSON \(truncated\?\)/);
      });
    }

    test('sbom: a JSON document that is not CycloneDX names the file', async () => {
      const path = await file('not-cdx.json', '{"hello": "world"}');
      await expectError(scan(`sbom:${path}`), 'E_INPUT', path, /not a CycloneDX JSON BOM/);
    });
  });
});
