import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../src/domain/inventory.js';
import { silentEngineContext } from '../../src/engine/context.js';
import { DETECTORS } from '../../src/inventory/detector-registry.js';
import type { Detector } from '../../src/detectors/types.js';
import { inventoryReference } from '../../src/services/inventory-service.js';
import { testImages, type TestImage } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';

const images = testImages();
const platform = { os: 'linux', architecture: 'amd64' } as const;

/** `name<TAB>version` of every package dpkg-query lists as present (all but config-files), sorted. */
async function dpkgOracle(image: TestImage): Promise<string[]> {
  const lines = (await readFile(image.oracles.dpkg, 'utf8')).split('\n').filter(Boolean);
  return lines
    .map((l) => l.split('\t'))
    .filter(([, , status]) => status !== 'config-files' && status !== 'not-installed')
    .map(([name, version]) => `${name}\t${version}`)
    .sort();
}

function dpkgOf(inv: Inventory): string[] {
  return inv.packages
    .filter((p) => p.ecosystem === 'deb' && p.path === 'var/lib/dpkg/status')
    .map((p) => `${p.name}\t${p.version}`)
    .sort();
}

async function inventory(reference: string, extra: Partial<Parameters<typeof inventoryReference>[0]> = {}): Promise<Inventory> {
  const [inv, ...rest] = await inventoryReference({ reference, cache: false, image: { platform }, ...extra });
  assert.ok(inv, `no inventory for ${reference}`);
  assert.equal(rest.length, 0);
  return inv;
}

describe('inventory of the real test images', () => {
  for (const image of Object.values(images.images)) {
    describe(image.name, () => {
      const forms = (): [string, string][] => [
        ['OCI layout (gzip)', image.ociReference],
        ['OCI layout (zstd)', image.zstdReference],
        ['docker-archive', `docker-archive:${image.dockerArchive}`],
        ['docker-archive (gzip)', `docker-archive:${image.dockerArchiveGzip}`],
        ['root filesystem', `dir:${image.rootfs}`],
      ];
      for (const [label, ref] of forms()) {
        test(`${label}: dpkg inventory equals dpkg-query on the final root filesystem`, async () => {
          const inv = await inventory(ref);
          assert.deepEqual(dpkgOf(inv), await dpkgOracle(image));
          assert.equal(inv.distro?.id, 'debian');
          assert.equal(inv.distro?.versionId, '12');
        });
      }

      test('each package is credited to the layer that installed it; removed ones are gone', async () => {
        const inv = await inventory(image.ociReference);
        const byName = new Map(inv.packages.filter((p) => p.ecosystem === 'deb').map((p) => [p.name, p]));
        for (const gone of [...image.facts.purgedPackages, ...image.facts.configFilesPackages]) {
          assert.equal(byName.has(gone), false, `${gone} was removed in the removals layer`);
        }
        const packagesLayer = image.roleIndex.packages;
        if (packagesLayer !== undefined && image.name === 'minbase') {
          for (const requested of image.facts.aptRequested) {
            const p = byName.get(requested);
            assert.ok(p, `${requested} was installed`);
            assert.equal(p.layerIndex, packagesLayer, `${requested} comes from the apt-get layer`);
            assert.equal(p.layer, image.layers[packagesLayer]?.digest);
          }
        }
        assert.equal(byName.get('dpkg')?.layerIndex, image.roleIndex.debootstrap, 'base packages stay credited to the base layer');
        assert.equal(inv.layers.length, image.layers.length);
        assert.deepEqual(
          inv.layers.map((l) => l.digest),
          image.layers.map((l) => l.digest),
        );
      });
    });
  }

  test('lang: npm, PyPI, Java and Go packages installed for real are all found', async () => {
    const image = images.images.lang;
    const inv = await inventory(image.ociReference);
    // npm: every package of `npm ls --all` on the image's /app.
    const npmTree = JSON.parse(await readFile(image.oracles.npmLs ?? '', 'utf8')) as { dependencies?: Record<string, NpmNode> };
    const expectedNpm = new Set<string>();
    collectNpm(npmTree.dependencies ?? {}, expectedNpm);
    const foundNpm = new Set(inv.packages.filter((p) => p.ecosystem === 'npm' && p.path.startsWith(`${image.facts.npmPrefix ?? 'app'}/`)).map((p) => `${p.name}@${p.version}`));
    assert.deepEqual([...foundNpm].sort(), [...expectedNpm].sort());
    // PyPI: every distribution the image's own python3 sees.
    const python = JSON.parse(await readFile(image.oracles.python ?? '', 'utf8')) as { name: string; version: string }[];
    const foundPy = new Set(inv.packages.filter((p) => p.ecosystem === 'pypi').map((p) => `${p.name}@${p.version}`));
    for (const d of python) assert.ok(foundPy.has(`${d.name.toLowerCase().replace(/[-_.]+/g, '-')}@${d.version}`), `pypi ${d.name} ${d.version}`);
    // Java: every pom.properties in every real jar file (not the symlinks to it).
    const jars = JSON.parse(await readFile(image.oracles.jars ?? '', 'utf8')) as { path: string; linkTarget?: string | null; pomProperties?: { groupId: string; artifactId: string; version: string }[] }[];
    const foundMaven = new Set(inv.packages.filter((p) => p.ecosystem === 'maven').map((p) => `${p.name}@${p.version}`));
    for (const jar of jars) for (const pom of jar.pomProperties ?? []) assert.ok(foundMaven.has(`${pom.groupId}:${pom.artifactId}@${pom.version}`), `maven ${pom.artifactId} in ${jar.path}`);
    // Go: the toolchain of every Go binary `go version -m` finds becomes a stdlib package.
    const goText = await readFile(image.oracles.goVersionM, 'utf8');
    const toolchains = [...goText.matchAll(/^\S+: (go[0-9][^\s]*)$/gm)].map((m) => m[1]);
    assert.ok(toolchains.length >= 1, 'the recipe installs a Go program');
    const stdlib = inv.packages.filter((p) => p.ecosystem === 'golang' && p.name === 'stdlib');
    for (const bin of image.facts.goBinaries) assert.ok(stdlib.some((p) => p.path === bin), `stdlib of ${bin}`);
  });
});

describe('lang: the OS package that installed each language package', () => {
  const image = images.images.lang;
  /** `dpkg-query -S` on the final root filesystem: the dpkg package whose file list holds `path`, or undefined. */
  const dpkgOwnerOf = (path: string): string | undefined => {
    try {
      const out = execFileSync('dpkg-query', [`--admindir=${join(image.rootfs, 'var/lib/dpkg')}`, '-S', `/${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return out.split('\n')[0]?.split(':')[0];
    } catch {
      return undefined;
    }
  };

  for (const [label, ref] of [
    ['OCI layout', image.ociReference],
    ['root filesystem', `dir:${image.rootfs}`],
  ] as const) {
    test(`${label}: osOwner is the package dpkg-query -S names, with its version and source from dpkg-query`, async () => {
      const inv = await inventory(ref);
      // Package Version Architecture source:Package source:Version Status, one line per package.
      const dpkg = new Map(
        (await readFile(image.oracles.dpkgSource, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split('\t'))
          .map(([name, version, arch, sourceName, sourceVersion]) => [name ?? '', { name, version, arch, sourceName, sourceVersion }]),
      );
      const language = inv.packages.filter((p) => !['deb', 'rpm', 'apk'].includes(p.ecosystem));
      let owned = 0;
      for (const p of language) {
        const expected = dpkgOwnerOf(p.path);
        const facts = expected === undefined ? undefined : dpkg.get(expected);
        assert.deepEqual(p.osOwner, facts && { ecosystem: 'deb', ...facts }, `${p.ecosystem} ${p.name} at ${p.path}`);
        // The real owner replaces the path heuristic.
        assert.equal(p.attributes?.['distroPackaged'], undefined, `${p.name}: no heuristic mark once file lists are read`);
        if (expected !== undefined) owned++;
      }
      // The recipe's Debian python3 libraries, its jar package and its Go program, all owned; /app's npm packages are not.
      const ownedKinds = new Set(language.filter((p) => p.osOwner).map((p) => p.ecosystem));
      assert.deepEqual([...ownedKinds].sort(), ['golang', 'maven', 'pypi']);
      assert.ok(owned >= 8, `${owned} owned language packages`);
      assert.ok(language.some((p) => p.ecosystem === 'npm' && p.osOwner === undefined));
    });
  }
});

interface NpmNode {
  version?: string;
  dependencies?: Record<string, NpmNode>;
}

function collectNpm(deps: Record<string, NpmNode>, out: Set<string>): void {
  for (const [name, node] of Object.entries(deps)) {
    if (node.version) out.add(`${name}@${node.version}`);
    collectNpm(node.dependencies ?? {}, out);
  }
}

describe('registry sources and the layer cache', () => {
  let basic: RunningRegistry;
  let token: RunningRegistry;
  let cacheDir: string;
  const minbase = images.images.minbase;
  const lang = images.images.lang;

  before(async () => {
    [basic, token] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
    cacheDir = await mkdtemp(join(tmpdir(), 'portcullis-it-cache-'));
    for (const reg of [basic, token]) {
      const creds = { username: reg.username ?? '', password: reg.password ?? '' };
      await pushImage(minbase.ociReference, `${reg.host}/team/minbase:1`, creds);
      await pushImage(lang.ociReference, `${reg.host}/team/lang:1`, creds);
    }
  });
  after(async () => {
    await Promise.all([basic?.stop(), token?.stop()]);
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const creds = (reg: RunningRegistry) => ({ username: reg.username ?? '', password: reg.password ?? '' });

  test('basic and token auth registries give the same inventory as the OCI layout', async () => {
    const local = await inventory(minbase.ociReference);
    for (const reg of [basic, token]) {
      const remote = await inventory(`${reg.host}/team/minbase:1`, { image: { platform, insecure: true }, context: silentEngineContext({ credentials: { kind: 'given', credentials: creds(reg) } }) });
      assert.deepEqual(
        remote.packages.map((p) => `${p.purl} ${p.layer}`),
        local.packages.map((p) => `${p.purl} ${p.layer}`),
      );
      assert.equal(remote.image.manifestDigest, minbase.manifestDigest);
    }
  });

  test('a second scan reads no layer: the inventory says so and the registry served no blob', async () => {
    const ref = `${basic.host}/team/minbase:1`;
    const opts = { image: { platform, insecure: true }, context: silentEngineContext({ credentials: { kind: 'given', credentials: creds(basic) } }), cache: cacheDir };
    const first = await inventory(ref, opts);
    assert.equal(first.stats.layersRead, minbase.layers.length);
    const layerGets = async () => (await basic.blobGets()).filter((uri) => minbase.layers.some((l) => uri.endsWith(l.digest)));
    const before = (await layerGets()).length;
    const second = await inventory(ref, opts);
    assert.equal(second.stats.layersRead, 0);
    assert.equal(second.stats.layersFromCache, minbase.layers.length);
    assert.equal((await layerGets()).length, before, 'no layer blob was fetched again');
    assert.deepEqual(second.packages, first.packages);

    // Another image sharing the base layers reads only its own.
    const other = await inventory(`${basic.host}/team/lang:1`, opts);
    const shared = lang.layers.filter((l) => minbase.layers.some((m) => m.digest === l.digest)).length;
    assert.ok(shared >= 1);
    assert.equal(other.stats.layersFromCache, shared);
    assert.equal(other.stats.layersRead, lang.layers.length - shared);
  });

  test('a detector whose version changes re-reads only the layers holding files it wants', async () => {
    const opts = { cache: cacheDir, image: { platform } };
    await inventory(minbase.ociReference, opts);
    const bump = (id: string): Detector[] => DETECTORS.map((d) => (d.id === id ? { ...d, id: d.id, version: d.version + 1000, wants: d.wants, parse: d.parse } : d));
    const apkBumped = await inventory(minbase.ociReference, { ...opts, detectors: bump('apk') });
    assert.equal(apkBumped.stats.layersRead, 0, 'no layer of a Debian image has an apk database');
    const dpkgBumped = await inventory(minbase.ociReference, { ...opts, detectors: bump('dpkg') });
    const layersWithDpkgFiles = minbase.layers.filter((l) => l.role !== 'opaque').length;
    assert.ok(dpkgBumped.stats.layersRead >= 1 && dpkgBumped.stats.layersRead <= layersWithDpkgFiles);
    assert.deepEqual(dpkgOf(dpkgBumped), await dpkgOracle(minbase));
  });
});
