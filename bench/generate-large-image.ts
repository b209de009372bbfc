/**
 * Generates a large (about 2 GB uncompressed) OCI image for the memory-flatness benchmark: the real
 * `lang` test image (Debian bookworm with dpkg, python, java, go and npm content) plus layers of
 * many small generated files, big incompressible blobs, big compressible blobs, and copies of real
 * package databases. The result is cached under `.cache/bench-images/<key>/` (the key covers this
 * generator, the test-image recipe and the requested size) and reused when present; it is built in a
 * temporary directory and renamed into place under a lock, like the test images.
 *
 * Run by hand: `node --import tsx bench/generate-large-image.ts [--bytes N]`.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listDir, removeLeftoverTree, removeTree, run, stderrLogger, withFileLock } from '../test/harness/build-tools.js';
import { repoRoot } from '../test/harness/images.js';
import { prepareTestImages } from '../test/harness/prepare.js';

/** Default uncompressed size of the whole image: 2 GiB. */
export const DEFAULT_LARGE_IMAGE_BYTES = 2 * 1024 ** 3;

/** Where generated benchmark images live (gitignored). */
export const benchImagesCacheRoot = join(repoRoot, '.cache', 'bench-images');

const GENERATOR_VERSION = 1;
const TAG = 'large';

/** What each layer of the large image holds. */
export type LargeLayerRole = 'base' | 'many-files' | 'incompressible' | 'compressible' | 'package-db-copies';

/** One layer of the large image. */
export interface LargeImageLayer {
  index: number;
  role: LargeLayerRole;
  digest: string;
  diffId: string;
  /** Stored (gzip) size in bytes. */
  size: number;
  /** Size of the uncompressed layer tar in bytes. */
  uncompressedSize: number;
  mediaType: string;
  createdBy: string;
}

/** The generated image. Paths are absolute. */
export interface LargeImage {
  /** OCI image layout directory. */
  ociLayout: string;
  tag: string;
  /** `oci:<layout>:<tag>`. */
  reference: string;
  manifestDigest: string;
  configDigest: string;
  layers: LargeImageLayer[];
  /** Sum of the stored layer sizes. */
  compressedBytes: number;
  /** Sum of the uncompressed layer tar sizes. */
  uncompressedBytes: number;
  /** Regular files added by the generated layers (not counting the base image's). */
  generatedFiles: number;
}

/** Options of {@link generateLargeImage}. */
export interface GenerateLargeImageOptions {
  /** Target uncompressed size of the whole image; default {@link DEFAULT_LARGE_IMAGE_BYTES}. */
  targetBytes?: number;
  /** Rebuild even when a cached image exists. */
  force?: boolean;
  log?: (message: string) => void;
}

const MiB = 1024 * 1024;

/**
 * Returns the large benchmark image, generating it first when no cached copy exists for this
 * generator, test-image recipe and size (building the test images too if needed). Throws with the
 * failing command and its stderr when a step fails. The base layers smaller than `targetBytes`
 * are always included, so a tiny target yields the base image plus small generated layers.
 */
export async function generateLargeImage(opts: GenerateLargeImageOptions = {}): Promise<LargeImage> {
  const log = opts.log ?? stderrLogger('bench-image');
  const targetBytes = opts.targetBytes ?? DEFAULT_LARGE_IMAGE_BYTES;
  const test = await prepareTestImages({ log });
  const base = test.images.lang;
  const key = createHash('sha256')
    .update(`${GENERATOR_VERSION}\0${targetBytes}\0${base.manifestDigest}\0`)
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  const finalDir = join(benchImagesCacheRoot, key);
  const manifestFile = (dir: string): string => join(dir, 'large.json');
  const load = (dir: string): LargeImage => {
    const raw = JSON.parse(readFileSync(manifestFile(dir), 'utf8')) as LargeImage;
    const ociLayout = join(dir, 'oci');
    return { ...raw, ociLayout, reference: `oci:${ociLayout}:${raw.tag}` };
  };
  if (!opts.force && existsSync(manifestFile(finalDir))) {
    log(`reusing ${finalDir}`);
    return load(finalDir);
  }
  mkdirSync(benchImagesCacheRoot, { recursive: true });
  return withFileLock(join(benchImagesCacheRoot, `${key}.lock`), 3600, log, async () => {
    if (!opts.force && existsSync(manifestFile(finalDir))) return load(finalDir);
    for (const name of listDir(benchImagesCacheRoot)) {
      if (name.startsWith(`.build-${key}-`)) removeLeftoverTree(join(benchImagesCacheRoot, name));
    }
    const buildDir = join(benchImagesCacheRoot, `.build-${key}-${process.pid}`);
    mkdirSync(buildDir);
    log(`generating a ~${(targetBytes / 1024 ** 3).toFixed(1)} GiB image in ${buildDir}`);
    const image = buildLarge(buildDir, targetBytes, base.ociReference, base.rootfs, base.layers.map((l) => l.digest), log);
    writeFileSync(manifestFile(buildDir), JSON.stringify({ ...image, ociLayout: 'oci', reference: '' }, null, 2) + '\n');
    removeTree(finalDir);
    renameSync(buildDir, finalDir);
    // Older generations (other keys) are 2 GB each: keep only the current one.
    for (const name of listDir(benchImagesCacheRoot)) {
      if (/^[0-9a-f]{16}$/.test(name) && name !== key) {
        log(`removing old benchmark image ${name}`);
        removeTree(join(benchImagesCacheRoot, name));
      }
    }
    log(`done: ${finalDir}`);
    return load(finalDir);
  });
}

function buildLarge(
  out: string,
  targetBytes: number,
  baseRef: string,
  baseRootfs: string,
  baseLayerDigests: string[],
  log: (m: string) => void,
): LargeImage {
  const baseLayerCount = baseLayerDigests.length;
  const layout = join(out, 'oci');
  const stageRoot = join(out, 'stage');
  // skopeo copies the base blobs unchanged (same digests), so the base layers are the real ones.
  run('skopeo', ['--insecure-policy', 'copy', '--quiet', baseRef, `oci:${layout}:${TAG}`]);

  const blob = (d: string): string => join(layout, 'blobs', ...d.split(':'));
  // Base layers: measured by decompressing (gzip -l is wrong above 4 GiB and for multi-member files).
  const baseSizes = readImage(layout).manifest.layers.map((l) => Number(run('sh', ['-c', 'gzip -dc < "$1" | wc -c', 'sh', blob(l.digest)]).trim()));
  const dbCopiesBytes = 20 * apparentSize(join(baseRootfs, 'app')) + apparentSize(join(baseRootfs, 'var', 'lib', 'dpkg', 'status'));
  const extra = Math.max(targetBytes - baseSizes.reduce((a, b) => a + b, 0) - dbCopiesBytes, 64 * MiB);
  const plan: { role: LargeLayerRole; bytes: number; createdBy: string; fill: (dir: string, bytes: number) => number }[] = [
    { role: 'many-files', bytes: Math.floor(extra * 0.12), createdBy: 'generated: many small files (node_modules-like trees, dist-info dirs)', fill: fillManyFiles },
    { role: 'incompressible', bytes: Math.floor(extra * 0.42), createdBy: 'generated: incompressible blobs (random bytes)', fill: fillRandom },
    { role: 'compressible', bytes: Math.floor(extra * 0.42), createdBy: 'generated: compressible blobs (log text and zeros)', fill: fillCompressible },
    {
      role: 'package-db-copies',
      bytes: 0,
      createdBy: 'generated: copies of the dpkg status database and of /app (lockfile, node_modules)',
      fill: (dir) => fillPackageDbCopies(dir, baseRootfs),
    },
  ];
  let generatedFiles = 0;
  const uncompressed: number[] = [];
  for (const step of plan) {
    const stage = join(stageRoot, step.role);
    mkdirSync(stage, { recursive: true });
    log(`layer ${step.role}: ${(step.bytes / MiB).toFixed(0)} MiB requested`);
    generatedFiles += step.fill(stage, step.bytes);
    const tarFile = `${stage}.tar`;
    // Top-level names listed explicitly so entries carry no "./" prefix, like docker's layers.
    run('tar', ['--create', '--file', tarFile, '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', stage, ...readdirSync(stage).sort()]);
    uncompressed.push(statSync(tarFile).size);
    removeTree(stage);
    run('umoci', ['raw', 'add-layer', '--image', `${layout}:${TAG}`, '--history.created_by', step.createdBy, tarFile]);
    removeTree(tarFile);
  }
  removeTree(stageRoot);

  const { manifestDigest, manifest, config } = readImage(layout);
  const history = (config.history ?? []).filter((h) => h.empty_layer !== true);
  if (manifest.layers.length !== baseLayerCount + plan.length) {
    throw new Error(`bench-image: expected ${baseLayerCount + plan.length} layers, found ${manifest.layers.length}`);
  }
  if (manifest.layers.slice(0, baseLayerCount).some((l, i) => l.digest !== baseLayerDigests[i])) {
    throw new Error('bench-image: skopeo changed the base layer blobs; the benchmark would not scan the real test layers');
  }
  const layers: LargeImageLayer[] = manifest.layers.map((l, index) => {
    const generated = index - baseLayerCount;
    const step = generated >= 0 ? plan[generated] : undefined;
    return {
      index,
      role: step?.role ?? 'base',
      digest: l.digest,
      diffId: config.rootfs.diff_ids[index] ?? '',
      size: l.size,
      uncompressedSize: (step ? uncompressed[generated] : baseSizes[index]) ?? 0,
      mediaType: l.mediaType,
      createdBy: history[index]?.created_by ?? '',
    };
  });
  return {
    ociLayout: layout,
    tag: TAG,
    reference: `oci:${layout}:${TAG}`,
    manifestDigest,
    configDigest: manifest.config.digest,
    layers,
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    uncompressedBytes: layers.reduce((a, l) => a + l.uncompressedSize, 0),
    generatedFiles,
  };
}

function apparentSize(path: string): number {
  // du --apparent-size: the byte count a tar of this tree roughly holds.
  return Number(run('du', ['-s', '--apparent-size', '--block-size=1', path]).split('\t')[0]);
}

interface ImageFiles {
  manifestDigest: string;
  manifest: { config: { digest: string }; layers: { digest: string; size: number; mediaType: string }[] };
  config: { rootfs: { diff_ids: string[] }; history?: { created_by?: string; empty_layer?: boolean }[] };
}

function readImage(layout: string): ImageFiles {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === TAG);
  if (entry === undefined) throw new Error(`bench-image: ${layout} has no tag ${TAG}`);
  const blob = (d: string): string => join(layout, 'blobs', ...d.split(':'));
  const manifest = JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as ImageFiles['manifest'];
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as ImageFiles['config'];
  return { manifestDigest: entry.digest, manifest, config };
}

/** Writes `bytes` bytes produced chunk by chunk by `chunk` into `file`. */
function writeStream(file: string, bytes: number, chunk: (buf: Buffer) => void): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(4 * MiB);
  try {
    for (let left = bytes; left > 0; left -= buf.length) {
      chunk(buf);
      writeSync(fd, buf, 0, Math.min(left, buf.length));
    }
  } finally {
    closeSync(fd);
  }
}

/** Big blobs of random bytes (gzip cannot shrink them): 256 MiB files. */
function fillRandom(dir: string, bytes: number): number {
  let n = 0;
  for (let left = bytes; left > 0; left -= 256 * MiB, n++) {
    writeStream(join(dir, 'opt', 'bench', 'blobs', `random-${n}.bin`), Math.min(left, 256 * MiB), (b) => randomFillSync(b));
  }
  return n;
}

/** Big compressible blobs: half log-like text (about 10:1), half zeros (about 1000:1). */
function fillCompressible(dir: string, bytes: number): number {
  let n = 0;
  let line = 0;
  const fillText = (b: Buffer): void => {
    let off = 0;
    while (off < b.length) {
      const s = `2026-01-01T00:00:${String(line % 60).padStart(2, '0')}Z INFO request id=${line} path=/api/v1/items/${line % 977} status=200 bytes=${(line * 7919) % 65536}\n`;
      off += b.write(s, off);
      line++;
    }
  };
  const half = Math.floor(bytes / 2);
  for (let left = half; left > 0; left -= 256 * MiB, n++) {
    writeStream(join(dir, 'var', 'log', 'bench', `app-${n}.log`), Math.min(left, 256 * MiB), fillText);
  }
  for (let left = bytes - half; left > 0; left -= 256 * MiB, n++) {
    writeStream(join(dir, 'opt', 'bench', 'zeros', `zeros-${n}.img`), Math.min(left, 256 * MiB), (b) => b.fill(0));
  }
  return n;
}

/** Many small files: npm-package-like trees and python dist-info directories, ~4 KiB each. */
function fillManyFiles(dir: string, bytes: number): number {
  const filesPerPackage = 40;
  const fileSize = 4096;
  const packages = Math.max(1, Math.floor(bytes / (filesPerPackage * fileSize)));
  const body = Buffer.alloc(fileSize);
  let n = 0;
  for (let p = 0; p < packages; p++) {
    const pkgDir = join(dir, 'srv', 'monorepo', 'node_modules', `bench-pkg-${p}`);
    mkdirSync(join(pkgDir, 'lib'), { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: `bench-pkg-${p}`, version: `1.${p % 50}.${p % 7}`, main: 'lib/f0.js' }, null, 2) + '\n');
    n++;
    for (let f = 1; f < filesPerPackage; f++) {
      // Distinct content per file so nothing deduplicates.
      body.fill(`// bench-pkg-${p} file ${f}\nmodule.exports = ${p * filesPerPackage + f};\n`);
      writeFileSync(join(pkgDir, 'lib', `f${f}.js`), body);
      n++;
    }
    if (p % 10 === 0) {
      const dist = join(dir, 'usr', 'local', 'lib', 'python3.11', 'dist-packages', `bench_dist_${p}-1.${p % 50}.dist-info`);
      mkdirSync(dist, { recursive: true });
      writeFileSync(join(dist, 'METADATA'), `Metadata-Version: 2.1\nName: bench-dist-${p}\nVersion: 1.${p % 50}\n`);
      writeFileSync(join(dist, 'RECORD'), '');
      n += 2;
    }
  }
  return n;
}

/** The base image's dpkg status rewritten in place (as a later apt run would) and /app copied 20 times. */
function fillPackageDbCopies(dir: string, baseRootfs: string): number {
  mkdirSync(join(dir, 'var', 'lib', 'dpkg'), { recursive: true });
  cpSync(join(baseRootfs, 'var', 'lib', 'dpkg', 'status'), join(dir, 'var', 'lib', 'dpkg', 'status'));
  let n = 1;
  for (let i = 0; i < 20; i++) {
    cpSync(join(baseRootfs, 'app'), join(dir, 'srv', `app-copy-${i}`), { recursive: true, verbatimSymlinks: true });
  }
  n += Number(run('sh', ['-c', 'find "$1" -type f | wc -l', 'sh', join(dir, 'srv')]).trim());
  return n;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--bytes');
  const targetBytes = i > 0 ? Number(process.argv[i + 1]) : undefined;
  generateLargeImage({ targetBytes, force: process.argv.includes('--force') }).then(
    (img) => {
      process.stdout.write(`${JSON.stringify({ reference: img.reference, compressedBytes: img.compressedBytes, uncompressedBytes: img.uncompressedBytes, layers: img.layers.length }, null, 2)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
