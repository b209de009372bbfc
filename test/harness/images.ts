/**
 * Access to the real test images built by test/harness/prepare.ts.
 *
 * The images live under `.cache/test-images/<recipe-hash>/`, where the hash covers the recipe's
 * source (prepare.ts and build-tools.ts), so editing the recipe makes the next `npm test` rebuild
 * them and a stale build is never used. Tests call {@link testImages}; it throws (never skips) when
 * the images for the current recipe have not been prepared.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const harnessDir = dirname(fileURLToPath(import.meta.url));

/** Repository root. */
export const repoRoot = resolve(harnessDir, '..', '..');

/** Where all test-image builds live (gitignored). */
export const testImagesCacheRoot = join(repoRoot, '.cache', 'test-images');

/** The recipe files whose content decides the cache key. */
export const recipeFiles = [join(harnessDir, 'prepare.ts'), join(harnessDir, 'build-tools.ts')] as const;

/** Names of the prepared images. */
export const TEST_IMAGE_NAMES = ['minbase', 'lang'] as const;
export type TestImageName = (typeof TEST_IMAGE_NAMES)[number];

/**
 * What each layer of a test image was made for:
 * - `debootstrap`: `debootstrap --variant=minbase bookworm` (the base layer);
 * - `removals`: deleted docs/man/locales, `dpkg --purge tzdata`, `dpkg --remove e2fsprogs` (file whiteouts);
 * - `packages`: `apt-get install` of a handful of packages with known CVEs;
 * - `opaque`: a hand-made layer with opaque-directory markers and a file whiteout;
 * - `lang-packages`: Debian python3 libraries, a Java jar package and a Go program;
 * - `npm-app`: /app installed by npm from the npm registry (with package-lock.json).
 */
export type LayerRole = 'debootstrap' | 'removals' | 'packages' | 'opaque' | 'lang-packages' | 'npm-app';

/** One layer of a test image, in the gzip OCI layout and in its zstd twin. */
export interface TestImageLayer {
  /** Position from the base (0) upwards. */
  index: number;
  role: LayerRole;
  /** Blob digest in the gzip OCI layout. */
  digest: string;
  /** Digest of the uncompressed tar (config rootfs.diff_ids); also the layer's digest in the docker-archive. */
  diffId: string;
  size: number;
  mediaType: string;
  /** The history entry's created_by. */
  createdBy: string;
  /** Blob digest, size and media type of the same layer in the zstd OCI layout. */
  zstdDigest: string;
  zstdSize: number;
  zstdMediaType: string;
  /** File with the layer's entry names in tar order, as listed by GNU `tar -t` (absolute path). */
  entriesFile: string;
  /** Paths (no leading slash) removed by `.wh.<name>` entries in this layer, sorted. [] when none. */
  whiteouts: string[];
  /** Directories (no leading slash) marked opaque by `.wh..wh..opq` in this layer, sorted. [] when none. */
  opaqueDirs: string[];
}

/** Outputs of real tools run on the image's final root filesystem (absolute file paths). */
export interface TestImageOracles {
  /** `dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Status}\n' --admindir=ROOT/var/lib/dpkg`, sorted (LC_ALL=C). */
  dpkg: string;
  /**
   * One file per layer index: the dpkg.tsv-format query of the database as it stood after that
   * layer was applied (so a package's first appearance names the layer that added it).
   */
  dpkgByLayer: string[];
  /** Same query with `${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}`, sorted. */
  dpkgSource: string;
  /**
   * `find . -mindepth 1 -printf '%P\t%y\t%#m\t%s\t%l\n'` on the rootfs, byte-sorted (so by path,
   * parents first). Columns: path without leading slash, type (f, d, l, ...), octal mode, size (set
   * to 0 for anything but regular files, since directory sizes depend on the host filesystem),
   * symlink target (empty for non-links).
   */
  files: string;
  /** `go version -m .` run inside the rootfs: every Go binary found, with its build info (empty file when none). */
  goVersionM: string;
  /** `npm ls --all --json --prefix ROOT/app` (lang only): the installed tree as npm sees it. */
  npmLs?: string;
  /**
   * JSON array of the Python distributions `importlib.metadata.distributions()` finds with the
   * image's own python3 (lang only): `{ name, version, path }`, path absolute inside the image.
   */
  python?: string;
  /**
   * JSON array of every `*.jar` in the image found by the image's python3 (lang only):
   * `{ path, linkTarget, pomProperties: [{ entry, groupId, artifactId, version }] }`;
   * symlinks have linkTarget set and no pomProperties.
   */
  jars?: string;
}

/** Facts of the recipe that tests assert against (what was asked for, not what was found). */
export interface TestImageFacts {
  /** Debian packages requested with apt-get in this image's own layers (not counting its base image's). */
  aptRequested: string[];
  /** Packages purged (gone from the dpkg database). */
  purgedPackages: string[];
  /** Packages removed without purge (left in state config-files). */
  configFilesPackages: string[];
  /** Directories made opaque by hand (no leading slash). */
  opaqueDirs: string[];
  /** Files removed by hand-made `.wh.` entries in the opaque layer. */
  handWhiteouts: string[];
  /** npm install specs given on the command line (lang only). */
  npmRequested: string[];
  /** npm project directory inside the image (lang only), e.g. `app`. */
  npmPrefix?: string;
  /** Go binaries the recipe installs (checked to carry a Go buildinfo header), no leading slash. */
  goBinaries: string[];
}

/** One prepared image in every form the scanner reads. All paths are absolute. */
export interface TestImage {
  name: TestImageName;
  /** OCI image layout directory (gzip layers), holding both images under their tags. */
  ociLayout: string;
  ociTag: string;
  /** `oci:<layout>:<tag>` reference. */
  ociReference: string;
  /** Same image with zstd-compressed layers (another OCI layout). */
  zstdOciLayout: string;
  zstdTag: string;
  zstdReference: string;
  /** `docker save`-style archive (uncompressed layer tars) written by skopeo. */
  dockerArchive: string;
  /** The same archive, gzip-compressed as a whole (like `docker save | gzip`). */
  dockerArchiveGzip: string;
  /** First RepoTags entry of the docker-archive's manifest.json (skopeo writes `docker.io/portcullis-test/<name>:latest`). */
  dockerArchiveRef: string;
  /** The final root filesystem (`umoci unpack` of the image), for `dir:` sources. */
  rootfs: string;
  manifestDigest: string;
  configDigest: string;
  zstdManifestDigest: string;
  layers: TestImageLayer[];
  /** Index of the layer playing each role (only roles this image has). */
  roleIndex: Partial<Record<LayerRole, number>>;
  oracles: TestImageOracles;
  facts: TestImageFacts;
}

/** Everything prepare.ts built. */
export interface TestImages {
  recipeHash: string;
  /** Directory of this build. */
  root: string;
  /** ISO time the build finished. */
  builtAt: string;
  /** Debian mirror the images were built from. */
  mirror: string;
  images: Record<TestImageName, TestImage>;
}

/** Version of images.json's shape; prepare.ts writes it and {@link testImages} checks it. */
export const MANIFEST_SCHEMA_VERSION = 1;

/** Hash of the recipe sources (first 16 hex digits of a SHA-256): the cache key of a build. */
export function recipeHash(): string {
  const h = createHash('sha256');
  for (const file of recipeFiles) {
    h.update(file.slice(harnessDir.length));
    h.update('\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Directory the build for the current recipe lives in (whether or not it exists yet). */
export function testImagesDir(hash: string = recipeHash()): string {
  return join(testImagesCacheRoot, hash);
}

/** Path of the manifest inside a build directory. */
export function manifestPath(dir: string): string {
  return join(dir, 'images.json');
}

// In images.json every path is relative to the build directory, so the cache stays valid when the
// temporary build directory is renamed into place (or the repository is moved).
function absolutise(root: string, img: TestImage): TestImage {
  const abs = (p: string): string => resolve(root, p);
  const oracles: TestImageOracles = {
    dpkg: abs(img.oracles.dpkg),
    dpkgSource: abs(img.oracles.dpkgSource),
    dpkgByLayer: img.oracles.dpkgByLayer.map(abs),
    files: abs(img.oracles.files),
    goVersionM: abs(img.oracles.goVersionM),
  };
  if (img.oracles.npmLs !== undefined) oracles.npmLs = abs(img.oracles.npmLs);
  if (img.oracles.python !== undefined) oracles.python = abs(img.oracles.python);
  if (img.oracles.jars !== undefined) oracles.jars = abs(img.oracles.jars);
  const ociLayout = abs(img.ociLayout);
  const zstdOciLayout = abs(img.zstdOciLayout);
  return {
    ...img,
    ociLayout,
    ociReference: `oci:${ociLayout}:${img.ociTag}`,
    zstdOciLayout,
    zstdReference: `oci:${zstdOciLayout}:${img.zstdTag}`,
    dockerArchive: abs(img.dockerArchive),
    dockerArchiveGzip: abs(img.dockerArchiveGzip),
    rootfs: abs(img.rootfs),
    layers: img.layers.map((l) => ({ ...l, entriesFile: abs(l.entriesFile) })),
    oracles,
  };
}

function pathsOf(img: TestImage): string[] {
  const paths = [img.ociLayout, img.zstdOciLayout, img.dockerArchive, img.dockerArchiveGzip, img.rootfs];
  for (const p of Object.values(img.oracles)) {
    if (typeof p === 'string') paths.push(p);
    else if (Array.isArray(p)) paths.push(...(p as string[]));
  }
  for (const l of img.layers) paths.push(l.entriesFile);
  return paths;
}

/**
 * Reads a build's manifest with absolute paths. Throws when it is missing, of another schema
 * version, or names files that no longer exist (a half-deleted cache must fail, not pass).
 */
export function loadTestImages(dir: string): TestImages {
  const file = manifestPath(dir);
  if (!existsSync(file)) {
    throw new Error(`test images: no manifest at ${file}`);
  }
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { schemaVersion?: number } & TestImages;
  if (raw.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new Error(`test images: ${file} has schema version ${String(raw.schemaVersion)}, expected ${MANIFEST_SCHEMA_VERSION}`);
  }
  const images = {} as Record<TestImageName, TestImage>;
  for (const name of TEST_IMAGE_NAMES) {
    const img = raw.images[name];
    if (img === undefined) throw new Error(`test images: ${file} has no image "${name}"`);
    images[name] = absolutise(dir, img);
    const missing = pathsOf(images[name]).filter((p) => !existsSync(p));
    if (missing.length > 0) {
      throw new Error(`test images: ${file} names missing files (delete ${dir} and prepare again): ${missing.join(', ')}`);
    }
  }
  return { recipeHash: raw.recipeHash, root: dir, builtAt: raw.builtAt, mirror: raw.mirror, images };
}

let cached: TestImages | undefined;

/**
 * The real test images for the current recipe. Throws a clear error when test/harness/prepare.ts
 * has not built them (so tests fail instead of skipping). The result is read once per process.
 */
export function testImages(): TestImages {
  if (cached !== undefined) return cached;
  const hash = recipeHash();
  const dir = testImagesDir(hash);
  if (!existsSync(manifestPath(dir))) {
    throw new Error(
      `test images are not prepared for recipe ${hash} (no ${manifestPath(dir)}). ` +
        'Run "npm test" (it builds them first) or "node --import tsx test/harness/prepare.ts".',
    );
  }
  cached = loadTestImages(dir);
  return cached;
}

interface OciIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

interface OciManifest {
  config: { digest: string };
  layers: { digest: string }[];
}

function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  if (alg === undefined || hex === undefined) throw new Error(`test images: bad digest ${digest}`);
  return join(layout, 'blobs', alg, hex);
}

/** Options of {@link copyOciLayout}. */
export interface CopyOciLayoutOptions {
  /** Copy the zstd layout instead of the gzip one. */
  zstd?: boolean;
  /** Parent of the new directory; defaults to the OS temp dir. */
  parent?: string;
}

/**
 * Copies one image's OCI layout (its index entry, manifest, config and layer blobs: real copies,
 * never links, so a test may corrupt them freely) into a new temporary directory and returns that
 * directory. The image keeps its tag there (`oci:<dir>:<image.ociTag>`). The caller removes it.
 */
export function copyOciLayout(name: TestImageName, opts: CopyOciLayoutOptions = {}): string {
  const img = testImages().images[name];
  const src = opts.zstd ? img.zstdOciLayout : img.ociLayout;
  const tag = opts.zstd ? img.zstdTag : img.ociTag;
  const index = JSON.parse(readFileSync(join(src, 'index.json'), 'utf8')) as OciIndex;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (entry === undefined) throw new Error(`test images: ${src} has no tag ${tag}`);
  const manifest = JSON.parse(readFileSync(blobPath(src, entry.digest), 'utf8')) as OciManifest;
  const dest = mkdtempSync(join(opts.parent ?? tmpdir(), `portcullis-oci-${name}-`));
  mkdirSync(join(dest, 'blobs', 'sha256'), { recursive: true });
  for (const digest of [entry.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    copyFileSync(blobPath(src, digest), blobPath(dest, digest));
  }
  copyFileSync(join(src, 'oci-layout'), join(dest, 'oci-layout'));
  writeFileSync(join(dest, 'index.json'), JSON.stringify({ ...index, manifests: [entry] }));
  return dest;
}
