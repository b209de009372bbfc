/**
 * Builds the real test images once per recipe: Debian bookworm root filesystems made by
 * debootstrap and apt-get, layered by umoci (which diffs the rootfs and emits whiteouts), copied by
 * skopeo into a docker-archive (plain and gzip) and a zstd OCI layout, plus the outputs of real tools
 * (dpkg-query, npm ls, python's importlib.metadata, go version -m, find, tar -t) on the result.
 *
 * Output: `.cache/test-images/<recipe-hash>/images.json` and the files it names (see images.ts).
 * A build goes into `.cache/test-images/.build-<hash>-<pid>/` and is renamed into place only when
 * complete, under a flock on `.cache/test-images/<hash>.lock`, so a killed build is never trusted and
 * concurrent runs wait for each other instead of colliding.
 *
 * Needs root (chroot, debootstrap), network access to the Debian mirror and the npm registry, and
 * the tools .ci/run installs. Run: `node --import tsx test/harness/prepare.ts [--force]`.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  listDir,
  removeLeftoverTree,
  removeTree,
  requireCommands,
  run,
  stderrLogger,
  tryLock,
  withFileLock,
} from './build-tools.js';
import {
  MANIFEST_SCHEMA_VERSION,
  loadTestImages,
  manifestPath,
  recipeHash,
  testImagesCacheRoot,
  testImagesDir,
  type LayerRole,
  type TestImage,
  type TestImageFacts,
  type TestImageLayer,
  type TestImageName,
  type TestImageOracles,
  type TestImages,
} from './images.js';

/** Debian mirror: the same one the build machine's /etc/apt/sources.list.d uses. */
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const SUITE = 'bookworm';

// minbase, layer 2: what the "slimming" layer takes away.
const DELETED_TREES = ['usr/share/doc/*', 'usr/share/man', 'usr/share/locale/*'];
const PURGED = ['tzdata']; // nothing in minbase depends on it
const REMOVED_KEEP_CONFIG = ['e2fsprogs']; // nothing depends on it; left as "config-files"

// minbase, layer 3: packages with a long CVE history in Debian's tracker.
const MINBASE_APT = ['curl', 'ca-certificates', 'openssl', 'libexpat1', 'libxml2', 'libsqlite3-0'];

// minbase, layer 4 (made by hand, because umoci only ever emits per-file whiteouts): directories
// whose lower-layer contents are replaced, and a file deleted by a plain whiteout.
const OPAQUE_DIRS = ['etc/apt/apt.conf.d', 'usr/share/doc'];
const HAND_WHITEOUTS = ['etc/motd'];
const OPAQUE_LAYER_FILES: Record<string, string> = {
  'etc/apt/apt.conf.d/99portcullis-test': 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n',
  'usr/share/doc/portcullis-test/README': 'Documentation of the base image was replaced by this opaque directory.\n',
};
// Fixed mtime for the hand-made layer (2024-01-01T00:00:00Z), so its tar is byte-reproducible.
const HAND_LAYER_MTIME = 1704067200;

// lang, layer 5: language ecosystems installed the Debian way. fzf is a Go program.
const LANG_APT = ['python3', 'python3-yaml', 'python3-requests', 'libcommons-lang3-java', 'fzf'];
const GO_BINARIES = ['usr/bin/fzf'];

// lang, layer 6: old versions with advisories in the npm security-wg feed (lodash, semver, qs,
// brace-expansion, url-parse, handlebars, mustache), a scoped package, and pairs that force
// nested duplicates (balanced-match, minimist) so node_modules is not flat.
const NPM_PREFIX = 'app';
const NPM_PACKAGES = [
  'lodash@4.17.15',
  'semver@4.3.1',
  'qs@0.6.6',
  'brace-expansion@1.1.6',
  'balanced-match@1.0.2',
  'url-parse@1.4.0',
  'handlebars@4.5.3',
  'mustache@2.2.0',
  'minimist@1.2.5',
  '@sindresorhus/is@4.0.0',
];

const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const APT_OPTS = ['-o', 'Acquire::Languages=none', '-o', 'APT::Install-Recommends=false', '-q'];
const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

const REQUIRED_TOOLS = {
  debootstrap: 'debootstrap',
  umoci: 'umoci',
  skopeo: 'skopeo',
  chroot: 'coreutils',
  'dpkg-query': 'dpkg',
  tar: 'tar',
  gzip: 'gzip',
  find: 'findutils',
  flock: 'util-linux',
  npm: 'npm (or Node.js from nodesource)',
  go: 'golang-go',
} as const;

type Log = (message: string) => void;

/** Options of {@link prepareTestImages}. */
export interface PrepareOptions {
  /** Rebuild even when a complete build for the current recipe exists. */
  force?: boolean;
  log?: Log;
}

/**
 * Returns the test images for the current recipe, building them first when no complete build
 * exists (or when `force` is set). Throws with the failing command and its stderr when a step fails;
 * the partial build is left in `.cache/test-images/.build-*` for inspection and deleted by the next run.
 */
export async function prepareTestImages(opts: PrepareOptions = {}): Promise<TestImages> {
  const log = opts.log ?? stderrLogger('test-images');
  const hash = recipeHash();
  const finalDir = testImagesDir(hash);
  if (!opts.force && existsSync(manifestPath(finalDir))) {
    const images = loadTestImages(finalDir);
    log(`reusing images of recipe ${hash} in ${finalDir}`);
    return images;
  }
  if (process.getuid?.() !== 0) {
    throw new Error('test-images: building the test images needs root (chroot, debootstrap); run as root');
  }
  requireCommands('test-images', REQUIRED_TOOLS);
  mkdirSync(testImagesCacheRoot, { recursive: true });
  return withFileLock(join(testImagesCacheRoot, `${hash}.lock`), 1800, log, async () => {
    // Someone else may have finished the same build while we waited for the lock.
    if (!opts.force && existsSync(manifestPath(finalDir))) {
      log(`another run built recipe ${hash}; reusing it`);
      return loadTestImages(finalDir);
    }
    // We hold the lock, so any build directory of this recipe is a leftover of a killed run.
    for (const name of listDir(testImagesCacheRoot)) {
      if (name.startsWith(`.build-${hash}-`)) {
        log(`removing leftover partial build ${name}`);
        removeLeftoverTree(join(testImagesCacheRoot, name));
      }
    }
    const buildDir = join(testImagesCacheRoot, `.build-${hash}-${process.pid}`);
    mkdirSync(buildDir);
    log(`building test images (recipe ${hash}) in ${buildDir}`);
    try {
      build(buildDir, hash, log);
    } catch (err) {
      log(`build failed; partial build left in ${buildDir} (the next run deletes it)`);
      throw err;
    }
    removeTree(finalDir); // a directory without images.json is not a build anyone trusts
    renameSync(buildDir, finalDir);
    log(`done: ${manifestPath(finalDir)}`);
    pruneOldBuilds(hash, log);
    return loadTestImages(finalDir);
  });
}

/** Keeps the two newest complete builds; removes older ones and abandoned builds of other recipes. */
function pruneOldBuilds(currentHash: string, log: Log): void {
  const complete: { dir: string; mtime: number }[] = [];
  for (const name of listDir(testImagesCacheRoot)) {
    const full = join(testImagesCacheRoot, name);
    const building = /^\.build-([0-9a-f]{16})-\d+$/.exec(name);
    if (building !== null && building[1] !== currentHash) {
      // Only delete it when nobody is building that recipe right now.
      const release = tryLock(join(testImagesCacheRoot, `${building[1]}.lock`));
      if (release === undefined) continue;
      try {
        log(`removing abandoned build ${name}`);
        removeLeftoverTree(full);
      } finally {
        release();
      }
      continue;
    }
    if (/^[0-9a-f]{16}$/.test(name) && name !== currentHash && existsSync(manifestPath(full))) {
      complete.push({ dir: full, mtime: statSync(manifestPath(full)).mtimeMs });
    }
  }
  complete.sort((a, b) => b.mtime - a.mtime);
  for (const old of complete.slice(1)) {
    log(`removing old build ${old.dir}`);
    removeTree(old.dir);
  }
}

// ---------------------------------------------------------------------------------------------
// The recipe.

function build(out: string, hash: string, log: Log): void {
  const work = join(out, 'work');
  const layout = join(out, 'oci');
  const zstdLayout = join(out, 'oci-zstd');
  mkdirSync(work);
  const history: Record<TestImageName, { role: LayerRole; createdBy: string }[]> = { minbase: [], lang: [] };
  // dpkg database as it stands after each layer, in layer order across both images (lang's first
  // layers are minbase's), for tests of which layer added a package.
  const dpkgAfterLayer: string[] = [];

  // --- minbase -------------------------------------------------------------------------------
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:minbase`]);
  const bundle = join(work, 'minbase-bundle');
  run('umoci', ['unpack', '--image', `${layout}:minbase`, bundle]);
  const root = join(bundle, 'rootfs');

  const debootstrapCmd = `debootstrap --variant=minbase ${SUITE} / ${DEBIAN_MIRROR}`;
  log(`[minbase] layer 1: ${debootstrapCmd} (about 30 s)`);
  const debCache = join(testImagesCacheRoot, 'debootstrap-debs');
  mkdirSync(debCache, { recursive: true });
  run('debootstrap', ['--variant=minbase', `--cache-dir=${debCache}`, SUITE, root, DEBIAN_MIRROR], { label: 'debootstrap' });
  assertNoMounts(root);
  // Like the official Debian images: no device nodes, no apt caches, no host identity.
  for (const name of listDir(join(root, 'dev'))) rmSync(join(root, 'dev', name), { recursive: true, force: true });
  cleanApt(root);
  rmSync(join(root, 'etc', 'resolv.conf'), { force: true });
  writeFileSync(join(root, 'etc', 'hostname'), 'portcullis-test\n');
  repack(layout, 'minbase', bundle, debootstrapCmd);
  dpkgAfterLayer.push(dpkgQuery(root, DPKG_STATUS_FORMAT));
  history.minbase.push({ role: 'debootstrap', createdBy: debootstrapCmd });

  const removalsCmd = `rm -rf ${DELETED_TREES.map((p) => '/' + p).join(' ')} && dpkg --purge ${PURGED.join(' ')} && dpkg --remove ${REMOVED_KEEP_CONFIG.join(' ')}`;
  log(`[minbase] layer 2: ${removalsCmd}`);
  withChroot(root, () => {
    for (const pattern of DELETED_TREES) removeGlob(root, pattern);
    chrootRun(root, ['dpkg', '--purge', ...PURGED]);
    chrootRun(root, ['dpkg', '--remove', ...REMOVED_KEEP_CONFIG]);
  });
  repack(layout, 'minbase', bundle, removalsCmd);
  dpkgAfterLayer.push(dpkgQuery(root, DPKG_STATUS_FORMAT));
  history.minbase.push({ role: 'removals', createdBy: removalsCmd });

  const minbaseAptCmd = `apt-get install -y --no-install-recommends ${MINBASE_APT.join(' ')}`;
  log(`[minbase] layer 3: ${minbaseAptCmd}`);
  withChroot(root, () => aptInstall(root, MINBASE_APT));
  repack(layout, 'minbase', bundle, minbaseAptCmd);
  dpkgAfterLayer.push(dpkgQuery(root, DPKG_STATUS_FORMAT));
  history.minbase.push({ role: 'packages', createdBy: minbaseAptCmd });

  const opaqueCmd = `hand-made layer: opaque ${OPAQUE_DIRS.map((d) => '/' + d).join(', ')}; whiteout ${HAND_WHITEOUTS.map((f) => '/' + f).join(', ')}`;
  log(`[minbase] layer 4: ${opaqueCmd}`);
  const opaqueTar = writeOpaqueLayerTar(join(work, 'opaque-layer'));
  run('umoci', ['raw', 'add-layer', '--image', `${layout}:minbase`, '--history.created_by', opaqueCmd, opaqueTar]);
  history.minbase.push({ role: 'opaque', createdBy: opaqueCmd });
  dpkgAfterLayer.push(dpkgAfterLayer[dpkgAfterLayer.length - 1] ?? ''); // the hand-made layer leaves dpkg alone
  run('umoci', [
    'config',
    '--image',
    `${layout}:minbase`,
    '--config.env',
    `PATH=${CHROOT_PATH}`,
    '--config.cmd',
    'bash',
    '--config.label',
    'org.opencontainers.image.title=portcullis-test-minbase',
    '--history.created_by',
    'CMD ["bash"]',
  ]);
  removeTree(bundle);

  // --- lang: on top of minbase's layers (same blobs, same digests) ----------------------------
  const langBundle = join(work, 'lang-bundle');
  run('umoci', ['unpack', '--image', `${layout}:minbase`, langBundle]);
  const langRoot = join(langBundle, 'rootfs');
  const langAptCmd = `apt-get install -y --no-install-recommends ${LANG_APT.join(' ')}`;
  log(`[lang] layer 5: ${langAptCmd}`);
  withChroot(langRoot, () => aptInstall(langRoot, LANG_APT));
  for (const bin of GO_BINARIES) assertGoBinary(join(langRoot, bin));
  repack(layout, 'lang', langBundle, langAptCmd);
  dpkgAfterLayer.push(dpkgQuery(langRoot, DPKG_STATUS_FORMAT));
  history.lang.push({ role: 'lang-packages', createdBy: langAptCmd });

  const npmCmd = `npm install --prefix /${NPM_PREFIX} ${NPM_PACKAGES.join(' ')}`;
  log(`[lang] layer 6: ${npmCmd}`);
  npmInstall(join(langRoot, NPM_PREFIX));
  repack(layout, 'lang', langBundle, npmCmd);
  dpkgAfterLayer.push(dpkgQuery(langRoot, DPKG_STATUS_FORMAT));
  history.lang.push({ role: 'npm-app', createdBy: npmCmd });
  run('umoci', [
    'config',
    '--image',
    `${layout}:lang`,
    '--config.workingdir',
    `/${NPM_PREFIX}`,
    '--config.env',
    'LANG=C.UTF-8',
    '--config.label',
    'org.opencontainers.image.title=portcullis-test-lang',
    '--history.created_by',
    `WORKDIR /${NPM_PREFIX}`,
  ]);
  removeTree(langBundle);

  // --- other forms, final root filesystems, oracles ------------------------------------------
  const facts: Record<TestImageName, TestImageFacts> = {
    minbase: {
      aptRequested: MINBASE_APT,
      purgedPackages: PURGED,
      configFilesPackages: REMOVED_KEEP_CONFIG,
      opaqueDirs: OPAQUE_DIRS,
      handWhiteouts: HAND_WHITEOUTS,
      npmRequested: [],
      goBinaries: [],
    },
    lang: {
      aptRequested: LANG_APT,
      purgedPackages: [],
      configFilesPackages: [],
      opaqueDirs: [],
      handWhiteouts: [],
      npmRequested: NPM_PACKAGES,
      npmPrefix: NPM_PREFIX,
      goBinaries: GO_BINARIES,
    },
  };
  const images = {} as Record<TestImageName, TestImage>;
  for (const name of ['minbase', 'lang'] as const) {
    const imgDir = join(out, name);
    mkdirSync(join(imgDir, 'oracle', 'layers'), { recursive: true });

    log(`[${name}] final root filesystem: umoci unpack`);
    const finalBundle = join(work, `${name}-final`);
    run('umoci', ['unpack', '--image', `${layout}:${name}`, finalBundle]);
    renameSync(join(finalBundle, 'rootfs'), join(imgDir, 'rootfs'));
    removeTree(finalBundle);
    chmodSync(join(imgDir, 'rootfs'), 0o755);

    log(`[${name}] docker-archive, gzip docker-archive, zstd OCI layout (skopeo)`);
    const archive = join(imgDir, 'docker-archive.tar');
    run('skopeo', ['--insecure-policy', 'copy', '--quiet', `oci:${layout}:${name}`, `docker-archive:${archive}:portcullis-test/${name}:latest`]);
    // skopeo normalises the name (docker.io/...); record what the archive really says.
    const archiveManifest = JSON.parse(run('tar', ['-xOf', archive, 'manifest.json'])) as { RepoTags?: string[] }[];
    const archiveRef = archiveManifest[0]?.RepoTags?.[0];
    if (archiveRef === undefined) throw new Error(`test-images: ${archive} has no RepoTags in manifest.json`);
    run('gzip', ['-1', '-c', archive], { stdoutFile: `${archive}.gz` });
    run('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--dest-compress',
      '--dest-compress-format',
      'zstd',
      `oci:${layout}:${name}`,
      `oci:${zstdLayout}:${name}`,
    ]);

    log(`[${name}] oracles`);
    const oracles = writeOracles(imgDir, name, dpkgAfterLayer.slice(0, history.minbase.length + (name === 'lang' ? history.lang.length : 0)));
    const desc = describeImage(out, layout, zstdLayout, name, history);
    images[name] = {
      name,
      ociLayout: relative(out, layout),
      ociTag: name,
      ociReference: '',
      zstdOciLayout: relative(out, zstdLayout),
      zstdTag: name,
      zstdReference: '',
      dockerArchive: relative(out, archive),
      dockerArchiveGzip: relative(out, `${archive}.gz`),
      dockerArchiveRef: archiveRef,
      rootfs: relative(out, join(imgDir, 'rootfs')),
      ...desc,
      oracles: relativeOracles(out, oracles),
      facts: facts[name],
    };
  }
  removeTree(work);

  checkBuild(out, images);
  const manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    recipeHash: hash,
    builtAt: new Date().toISOString(),
    mirror: DEBIAN_MIRROR,
    images,
  };
  writeFileSync(manifestPath(out), JSON.stringify(manifest, null, 2) + '\n');
}

function repack(layout: string, tag: string, bundle: string, createdBy: string): void {
  run('umoci', ['repack', '--refresh-bundle', '--history.created_by', createdBy, '--image', `${layout}:${tag}`, bundle]);
}

/** rm -rf of `pattern` below root; `*` only as the last component (e.g. usr/share/doc/*). */
function removeGlob(root: string, pattern: string): void {
  if (pattern.endsWith('/*')) {
    const dir = join(root, pattern.slice(0, -2));
    for (const name of listDir(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    return;
  }
  rmSync(join(root, pattern), { recursive: true, force: true });
}

function assertNoMounts(root: string): void {
  // removeTree refuses mounted trees; check right away so the message names the step.
  const text = readFileSync('/proc/self/mounts', 'utf8');
  const abs = resolve(root);
  const bad = text.split('\n').filter((l) => (l.split(' ')[1] ?? '').startsWith(abs + '/'));
  if (bad.length > 0) throw new Error(`test-images: debootstrap left mounts in ${root}:\n${bad.join('\n')}`);
}

function cleanApt(root: string): void {
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const name of listDir(join(root, dir))) {
      if (name === 'partial' || name === 'lock') continue;
      rmSync(join(root, dir, name), { recursive: true, force: true });
    }
  }
  for (const name of listDir(join(root, 'var/cache/apt'))) {
    if (name.endsWith('.bin')) rmSync(join(root, 'var/cache/apt', name), { force: true });
  }
}

function chrootRun(root: string, cmd: string[], label?: string): string {
  // env -i: the host's environment (npm_config_*, proxies, locales) must not leak into the image.
  return run(
    'chroot',
    [root, '/usr/bin/env', '-i', `PATH=${CHROOT_PATH}`, 'HOME=/root', 'LC_ALL=C', 'DEBIAN_FRONTEND=noninteractive', ...cmd],
    { label: label ?? `chroot ${cmd[0] ?? ''}` },
  );
}

const DEV_NODES: [string, number, number][] = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
];

/**
 * Makes a root filesystem usable for apt/dpkg inside chroot for the duration of `fn`, then puts it
 * back exactly: device nodes (made with mknod rather than a bind mount of /dev, so a killed build
 * can never leave a mount that a later `rm -rf` would follow into the host), the host's
 * resolv.conf, and a policy-rc.d that forbids starting services.
 */
function withChroot(root: string, fn: () => void): void {
  const created: string[] = [];
  const devDir = join(root, 'dev');
  mkdirSync(devDir, { recursive: true });
  const resolvConf = join(root, 'etc', 'resolv.conf');
  const policy = join(root, 'usr', 'sbin', 'policy-rc.d');
  if (existsSync(resolvConf) || existsSync(policy)) {
    throw new Error(`test-images: ${root} already has etc/resolv.conf or usr/sbin/policy-rc.d; the recipe does not expect that`);
  }
  try {
    for (const [name, major, minor] of DEV_NODES) {
      const path = join(devDir, name);
      if (existsSync(path)) throw new Error(`test-images: ${path} exists before chroot setup`);
      run('mknod', ['-m', '666', path, 'c', String(major), String(minor)]);
      created.push(path);
    }
    writeFileSync(resolvConf, readFileSync('/etc/resolv.conf'));
    writeFileSync(policy, '#!/bin/sh\n# test image build: never start services\nexit 101\n', { mode: 0o755 });
    fn();
  } finally {
    for (const path of created) rmSync(path, { force: true });
    rmSync(resolvConf, { force: true });
    rmSync(policy, { force: true });
  }
}

/** Runs a network step, retrying once after 5 s: a mirror hiccup should not fail the whole test run. */
function withRetry(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`test-images: ${what} failed (${first}); retrying once in 5 s\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
    fn();
  }
}

function aptInstall(root: string, packages: string[]): void {
  withRetry('apt-get update', () => chrootRun(root, ['apt-get', ...APT_OPTS, 'update'], 'apt-get update'));
  withRetry('apt-get install', () =>
    chrootRun(root, ['apt-get', ...APT_OPTS, 'install', '-y', '--no-install-recommends', ...packages], 'apt-get install'),
  );
  chrootRun(root, ['apt-get', 'clean'], 'apt-get clean');
  cleanApt(root);
}

function npmInstall(prefix: string): void {
  mkdirSync(prefix, { recursive: true });
  writeFileSync(
    join(prefix, 'package.json'),
    JSON.stringify({ name: 'portcullis-test-app', version: '1.0.0', private: true, description: 'test image app' }, null, 2) + '\n',
  );
  withRetry('npm install', () =>
    run(
      'npm',
      ['install', '--prefix', prefix, '--save-exact', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=warn', ...NPM_PACKAGES],
      { label: 'npm install', env: { npm_config_update_notifier: 'false' } },
    ),
  );
  if (!existsSync(join(prefix, 'package-lock.json'))) throw new Error(`test-images: npm wrote no package-lock.json in ${prefix}`);
}

function assertGoBinary(path: string): void {
  // Go linkers write this header into every binary built with module or GOPATH build info.
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const buf = Buffer.alloc(Math.min(size, 64 * 1024 * 1024));
    readSync(fd, buf, 0, buf.length, 0);
    if (buf.indexOf(GO_BUILDINFO_MAGIC) < 0) throw new Error(`test-images: ${path} has no Go buildinfo header; pick another Go program`);
  } finally {
    closeSync(fd);
  }
}

/** Writes the hand-made layer (opaque dirs + a file whiteout) as an uncompressed tar; returns its path. */
function writeOpaqueLayerTar(stage: string): string {
  const entries = new Set<string>();
  const addDirs = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) entries.add(parts.slice(0, i).join('/') + '/');
  };
  for (const dir of OPAQUE_DIRS) {
    mkdirSync(join(stage, dir), { recursive: true });
    writeFileSync(join(stage, dir, '.wh..wh..opq'), '');
    addDirs(`${dir}/.wh..wh..opq`);
    entries.add(`${dir}/.wh..wh..opq`);
  }
  for (const file of HAND_WHITEOUTS) {
    const wh = join(dirname(file), `.wh.${file.split('/').pop() ?? ''}`);
    mkdirSync(join(stage, dirname(file)), { recursive: true });
    writeFileSync(join(stage, wh), '');
    addDirs(wh);
    entries.add(wh);
  }
  for (const [file, content] of Object.entries(OPAQUE_LAYER_FILES)) {
    mkdirSync(join(stage, dirname(file)), { recursive: true });
    writeFileSync(join(stage, file), content, { mode: 0o644 });
    addDirs(file);
    entries.add(file);
  }
  const tarFile = `${stage}.tar`;
  // Entries are listed explicitly (with --no-recursion) so the tar holds exactly the parent
  // directories, markers and files above, in sorted order, owned by root.
  const list = [...entries].map((e) => e.replace(/\/$/, '')).sort();
  for (const e of list) chmodSync(join(stage, e), lstatSync(join(stage, e)).isDirectory() ? 0o755 : 0o644);
  run('tar', [
    '--create',
    '--file',
    tarFile,
    '--format=gnu',
    '--no-recursion',
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    `--mtime=@${HAND_LAYER_MTIME}`,
    '-C',
    stage,
    ...list,
  ]);
  return tarFile;
}

// ---------------------------------------------------------------------------------------------
// Oracles: outputs of real tools on the final root filesystem.

function byteSort(lines: string[]): string[] {
  // LC_ALL=C order: compare UTF-8 bytes, not UTF-16 code units.
  return lines.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, lines.length === 0 ? '' : lines.join('\n') + '\n');
}

const DPKG_STATUS_FORMAT = '${Package}\t${Version}\t${db:Status-Status}\n';
const DPKG_SOURCE_FORMAT = '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n';

/** The host's dpkg-query on a root filesystem's database: output lines byte-sorted, newline-terminated. */
function dpkgQuery(root: string, format: string): string {
  const admindir = join(root, 'var', 'lib', 'dpkg');
  const out = run('dpkg-query', [`--admindir=${admindir}`, '-W', `-f=${format}`], { label: 'dpkg-query', env: { LC_ALL: 'C' } });
  const lines = byteSort(out.split('\n').filter((l) => l !== ''));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function writeOracles(imgDir: string, name: TestImageName, dpkgAfterLayer: string[]): TestImageOracles {
  const root = join(imgDir, 'rootfs');
  const o = join(imgDir, 'oracle');
  const oracles: TestImageOracles = {
    dpkg: join(o, 'dpkg.tsv'),
    dpkgSource: join(o, 'dpkg-source.tsv'),
    dpkgByLayer: dpkgAfterLayer.map((_t, i) => join(o, 'dpkg-by-layer', `${i}.tsv`)),
    files: join(o, 'files.tsv'),
    goVersionM: join(o, 'go-version-m.txt'),
  };
  const finalStatus = dpkgQuery(root, DPKG_STATUS_FORMAT);
  writeFileSync(oracles.dpkg, finalStatus);
  writeFileSync(oracles.dpkgSource, dpkgQuery(root, DPKG_SOURCE_FORMAT));
  mkdirSync(join(o, 'dpkg-by-layer'));
  dpkgAfterLayer.forEach((text, i) => writeFileSync(join(o, 'dpkg-by-layer', `${i}.tsv`), text));
  if (dpkgAfterLayer[dpkgAfterLayer.length - 1] !== finalStatus) {
    throw new Error(`test-images: ${name}: the dpkg database after the last layer differs from the unpacked image's`);
  }

  // Path first, so a plain byte sort orders by path (a tab sorts before '/': parents first).
  const found = run('find', ['.', '-mindepth', '1', '-printf', '%P\\t%y\\t%#m\\t%s\\t%l\\n'], { cwd: root, label: 'find' });
  writeLines(
    oracles.files,
    byteSort(
      found
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const cols = l.split('\t');
          if (cols[1] !== 'f') cols[3] = '0';
          return cols.join('\t');
        }),
    ),
  );
  // `go version -m DIR` walks DIR and reports every Go binary (relative names because cwd = root).
  run('go', ['version', '-m', '.'], { cwd: root, label: 'go version -m', stdoutFile: oracles.goVersionM, env: { GOFLAGS: '', GOTOOLCHAIN: 'local' } });

  if (name === 'lang') {
    oracles.npmLs = join(o, 'npm-ls.json');
    run('npm', ['ls', '--all', '--json', '--prefix', join(root, NPM_PREFIX)], {
      label: 'npm ls',
      stdoutFile: oracles.npmLs,
      env: { npm_config_update_notifier: 'false' },
    });
    oracles.python = join(o, 'python.json');
    // The image's own python3, isolated (-I) and without writing bytecode (-B), so the rootfs
    // stays byte-identical to the image.
    writeFileSync(oracles.python, chrootRun(root, ['python3', '-I', '-B', '-c', PYTHON_DISTS], 'python3 (dist list)'));
    oracles.jars = join(o, 'jars.json');
    writeFileSync(oracles.jars, chrootRun(root, ['python3', '-I', '-B', '-c', PYTHON_JARS], 'python3 (jar list)'));
  }
  return oracles;
}

const PYTHON_DISTS = `
import importlib.metadata as md, json
out = []
for d in md.distributions():
    p = getattr(d, "_path", None)
    out.append({"name": d.metadata["Name"], "version": d.version, "path": str(p) if p is not None else None})
out.sort(key=lambda x: (x["name"].lower(), x["path"] or ""))
print(json.dumps(out, indent=2))
`;

const PYTHON_JARS = `
import json, os, zipfile
out = []
for top, dirs, files in os.walk("/"):
    dirs[:] = sorted(d for d in dirs if not (top == "/" and d in ("proc", "sys", "dev")))
    for f in sorted(files):
        if not f.endswith(".jar"):
            continue
        p = os.path.join(top, f)
        if os.path.islink(p):
            out.append({"path": p, "linkTarget": os.readlink(p), "pomProperties": []})
            continue
        poms = []
        with zipfile.ZipFile(p) as z:
            for n in sorted(z.namelist()):
                if n.startswith("META-INF/maven/") and n.endswith("/pom.properties"):
                    props = {}
                    for line in z.read(n).decode("utf-8").splitlines():
                        line = line.strip()
                        if line and not line.startswith("#") and "=" in line:
                            k, v = line.split("=", 1)
                            props[k.strip()] = v.strip()
                    poms.append({"entry": n, "groupId": props.get("groupId"), "artifactId": props.get("artifactId"), "version": props.get("version")})
        out.append({"path": p, "linkTarget": None, "pomProperties": poms})
print(json.dumps(out, indent=2))
`;

function relativeOracles(out: string, o: TestImageOracles): TestImageOracles {
  const rel = (p: string): string => relative(out, p);
  const r: TestImageOracles = {
    dpkg: rel(o.dpkg),
    dpkgSource: rel(o.dpkgSource),
    dpkgByLayer: o.dpkgByLayer.map(rel),
    files: rel(o.files),
    goVersionM: rel(o.goVersionM),
  };
  if (o.npmLs !== undefined) r.npmLs = rel(o.npmLs);
  if (o.python !== undefined) r.python = rel(o.python);
  if (o.jars !== undefined) r.jars = rel(o.jars);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Describing what was built (digests, layer listings, whiteouts).

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

function resolveTag(layout: string, tag: string): { manifestDigest: string; manifest: { config: Descriptor; layers: Descriptor[] } } {
  const index = readJson<{ manifests: Descriptor[] }>(join(layout, 'index.json'));
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (entry === undefined) throw new Error(`test-images: ${layout} has no tag ${tag}`);
  return { manifestDigest: entry.digest, manifest: readJson(blob(layout, entry.digest)) };
}

function describeImage(
  out: string,
  layout: string,
  zstdLayout: string,
  name: TestImageName,
  history: Record<TestImageName, { role: LayerRole; createdBy: string }[]>,
): Pick<TestImage, 'manifestDigest' | 'configDigest' | 'zstdManifestDigest' | 'layers' | 'roleIndex'> {
  const gz = resolveTag(layout, name);
  const zs = resolveTag(zstdLayout, name);
  const config = readJson<{ rootfs: { diff_ids: string[] }; history?: { created_by?: string; empty_layer?: boolean }[] }>(
    blob(layout, gz.manifest.config.digest),
  );
  const roles = name === 'minbase' ? history.minbase : [...history.minbase, ...history.lang];
  if (gz.manifest.layers.length !== roles.length || zs.manifest.layers.length !== roles.length) {
    throw new Error(
      `test-images: ${name} has ${gz.manifest.layers.length} layers (zstd: ${zs.manifest.layers.length}), the recipe made ${roles.length}`,
    );
  }
  const layerHistory = (config.history ?? []).filter((h) => h.empty_layer !== true);
  const layers: TestImageLayer[] = gz.manifest.layers.map((l, index) => {
    const role = roles[index];
    const z = zs.manifest.layers[index];
    const diffId = config.rootfs.diff_ids[index];
    if (role === undefined || z === undefined || diffId === undefined) throw new Error(`test-images: ${name} layer ${index} is inconsistent`);
    const createdBy = layerHistory[index]?.created_by ?? '';
    if (createdBy !== role.createdBy) {
      throw new Error(`test-images: ${name} layer ${index} history says "${createdBy}", the recipe made "${role.createdBy}"`);
    }
    const entriesFile = join(out, name, 'oracle', 'layers', `${index}.txt`);
    const listing = run('tar', ['--list', '--quoting-style=literal', '--gzip', '--file', blob(layout, l.digest)], { label: 'tar --list' });
    writeFileSync(entriesFile, listing);
    const { whiteouts, opaqueDirs } = whiteoutsOf(listing.split('\n').filter((e) => e !== ''));
    return {
      index,
      role: role.role,
      digest: l.digest,
      diffId,
      size: l.size,
      mediaType: l.mediaType,
      createdBy,
      zstdDigest: z.digest,
      zstdSize: z.size,
      zstdMediaType: z.mediaType,
      entriesFile: relative(out, entriesFile),
      whiteouts,
      opaqueDirs,
    };
  });
  const roleIndex: Partial<Record<LayerRole, number>> = {};
  for (const l of layers) roleIndex[l.role] = l.index;
  return { manifestDigest: gz.manifestDigest, configDigest: gz.manifest.config.digest, zstdManifestDigest: zs.manifestDigest, layers, roleIndex };
}

function whiteoutsOf(entries: string[]): { whiteouts: string[]; opaqueDirs: string[] } {
  const whiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  for (const raw of entries) {
    const entry = raw.replace(/^\.\//, '').replace(/\/$/, '');
    const slash = entry.lastIndexOf('/');
    const dir = slash < 0 ? '' : entry.slice(0, slash);
    const base = entry.slice(slash + 1);
    if (base === '.wh..wh..opq') opaqueDirs.push(dir);
    else if (base.startsWith('.wh.')) whiteouts.push(dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}`);
  }
  return { whiteouts: byteSort(whiteouts), opaqueDirs: byteSort(opaqueDirs) };
}

/** Recipe invariants checked on the result, so a silently different build fails here, loudly. */
function checkBuild(out: string, images: Record<TestImageName, TestImage>): void {
  const problems: string[] = [];
  const { minbase, lang } = images;
  const layerOf = (img: TestImage, role: LayerRole): TestImageLayer | undefined => {
    const i = img.roleIndex[role];
    return i === undefined ? undefined : img.layers[i];
  };
  if ((layerOf(minbase, 'removals')?.whiteouts.length ?? 0) === 0) problems.push('minbase removals layer has no whiteouts');
  const opaque = layerOf(minbase, 'opaque');
  if (JSON.stringify(opaque?.opaqueDirs) !== JSON.stringify(byteSort([...OPAQUE_DIRS]))) {
    problems.push(`minbase opaque layer has opaque dirs ${JSON.stringify(opaque?.opaqueDirs)}`);
  }
  for (const f of HAND_WHITEOUTS) if (!opaque?.whiteouts.includes(f)) problems.push(`minbase opaque layer lacks whiteout of ${f}`);
  minbase.layers.forEach((l, i) => {
    if (lang.layers[i]?.digest !== l.digest) problems.push(`lang layer ${i} is not minbase layer ${i}`);
    if (lang.layers[i]?.zstdDigest !== l.zstdDigest) problems.push(`lang zstd layer ${i} is not minbase zstd layer ${i}`);
    if (!l.zstdMediaType.includes('zstd')) problems.push(`minbase zstd layer ${i} has media type ${l.zstdMediaType}`);
  });
  for (const img of [minbase, lang]) {
    const rootfs = join(out, img.rootfs);
    const dpkg = readFileSync(join(out, img.oracles.dpkg), 'utf8');
    const status = new Map(dpkg.split('\n').filter(Boolean).map((l) => [l.split('\t')[0], l.split('\t')[2]] as const));
    for (const p of [...minbase.facts.aptRequested, ...img.facts.aptRequested]) {
      if (status.get(p) !== 'installed') problems.push(`${img.name}: ${p} is not installed (${status.get(p) ?? 'absent'})`);
    }
    for (const p of minbase.facts.purgedPackages) if (status.has(p)) problems.push(`${img.name}: purged ${p} still in dpkg database`);
    for (const p of minbase.facts.configFilesPackages) {
      if (status.get(p) !== 'config-files') problems.push(`${img.name}: ${p} is ${status.get(p) ?? 'absent'}, expected config-files`);
    }
    for (const f of minbase.facts.handWhiteouts) if (existsSync(join(rootfs, f))) problems.push(`${img.name}: whited-out /${f} exists`);
    for (const dir of minbase.facts.opaqueDirs) {
      const expected = Object.keys(OPAQUE_LAYER_FILES)
        .filter((f) => f.startsWith(dir + '/'))
        .map((f) => f.slice(dir.length + 1).split('/')[0] ?? '');
      const actual = readdirSync(join(rootfs, dir));
      if (img.name === 'minbase' && JSON.stringify(actual.sort()) !== JSON.stringify(expected.sort())) {
        problems.push(`${img.name}: opaque /${dir} holds ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
      }
    }
  }
  const npmLs = readJson<{ dependencies?: Record<string, { version?: string }> }>(join(out, lang.oracles.npmLs ?? ''));
  for (const spec of NPM_PACKAGES) {
    const at = spec.lastIndexOf('@');
    const [pkg, version] = [spec.slice(0, at), spec.slice(at + 1)];
    if (npmLs.dependencies?.[pkg]?.version !== version) problems.push(`npm ls: ${pkg} is ${npmLs.dependencies?.[pkg]?.version ?? 'absent'}, expected ${version}`);
  }
  const pyNames = readJson<{ name: string }[]>(join(out, lang.oracles.python ?? '')).map((d) => d.name);
  for (const dist of ['PyYAML', 'requests']) if (!pyNames.includes(dist)) problems.push(`python: ${dist} not found by importlib.metadata`);
  const jars = readJson<{ pomProperties: { artifactId: string | null }[] }[]>(join(out, lang.oracles.jars ?? ''));
  if (!jars.some((j) => j.pomProperties.some((p) => p.artifactId === 'commons-lang3'))) problems.push('jars: no commons-lang3 pom.properties');
  const goOracle = readFileSync(join(out, lang.oracles.goVersionM), 'utf8');
  for (const bin of GO_BINARIES) if (!goOracle.includes(`${bin}: go`)) problems.push(`go version -m does not list ${bin}`);
  if (readFileSync(join(out, minbase.oracles.goVersionM), 'utf8').trim() !== '') problems.push('minbase unexpectedly holds Go binaries');
  if (problems.length > 0) throw new Error(`test-images: the build does not match the recipe:\n  ${problems.join('\n  ')}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  prepareTestImages({ force }).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
