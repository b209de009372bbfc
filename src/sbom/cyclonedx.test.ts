import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { isPortcullisError } from '../domain/errors.js';
import type { Inventory } from '../domain/inventory.js';
import { cycloneDxToInventory, imagePurl, inventoryToCycloneDx, inventoryToCycloneDxStream, packageBomRefs } from './cyclonedx.js';
import { writeJson } from '../util/json-stream.js';
import { fixtureInventory, MANIFEST_DIGEST } from '../policy/test-support/scan-fixtures.js';

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

async function assertValid(bom: unknown): Promise<void> {
  const errors = await validator.validate(JSON.stringify(bom));
  assert.equal(errors, null, `CycloneDX 1.6 strict schema errors: ${JSON.stringify(errors, null, 2)}`);
}

type Json = Record<string, unknown>;
const components = (bom: Json): Json[] => bom.components as Json[];
const props = (c: Json): Record<string, string> => Object.fromEntries(((c.properties ?? []) as { name: string; value: string }[]).map((p) => [p.name, p.value]));

describe('inventoryToCycloneDx', () => {
  const inventory = fixtureInventory();
  const bom = inventoryToCycloneDx(inventory);

  test('is valid CycloneDX 1.6 (the library strict JSON schema)', async () => {
    await assertValid(bom);
    assert.equal(bom.specVersion, '1.6');
  });

  test('the metadata component is the image as a pkg:oci purl with digest and repository_url', () => {
    const meta = bom.metadata as { component: Json };
    assert.equal(meta.component.type, 'container');
    assert.equal(meta.component.purl, `pkg:oci/web@${MANIFEST_DIGEST}?arch=amd64&repository_url=localhost%3A5000%2Fteam%2Fweb&tag=1.4.2`);
    assert.equal(meta.component.version, MANIFEST_DIGEST);
  });

  test('one library component per package with purl, bom-ref and portcullis properties', () => {
    const libs = components(bom).filter((c) => c.type === 'library');
    assert.deepEqual(libs.map((c) => c.name), inventory.packages.map((p) => p.name));
    const zlib = libs.find((c) => c.name === 'zlib1g');
    assert.ok(zlib);
    assert.equal(zlib.purl, 'pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64&distro=debian-11&upstream=zlib');
    assert.equal(zlib['bom-ref'], zlib.purl);
    assert.deepEqual(props(zlib), {
      'portcullis:ecosystem': 'deb',
      'portcullis:layer': 'sha256:a2318d6c47ec9cac5acc500c47c79602bcf953cec711a18bc898911a0984365b',
      'portcullis:layer-index': '0',
      'portcullis:path': 'var/lib/dpkg/status',
      'portcullis:source-name': 'zlib',
      'portcullis:source-version': '1:1.2.11.dfsg-2+deb11u1',
      'portcullis:distro': 'debian:11',
      'portcullis:arch': 'amd64',
    });
    const goNet = libs.find((c) => c.name === 'golang.org/x/net');
    assert.deepEqual(props(goNet ?? {})['portcullis:attribute:main'], 'example.test/web');
    assert.deepEqual(components(bom)[0], { type: 'operating-system', name: 'debian', version: '11', 'bom-ref': 'os:debian:11', description: 'Debian GNU/Linux 11 (bullseye)' });
  });

  test('round trip: inventory -> SBOM -> inventory is deep-equal', () => {
    assert.deepStrictEqual(cycloneDxToInventory(JSON.parse(JSON.stringify(bom))), inventory);
  });

  test('round trip keeps rpm epochs, modularity labels, scoped npm names and duplicate purls', async () => {
    const inv: Inventory = fixtureInventory();
    inv.distro = { id: 'rhel', versionId: '8', source: 'etc/os-release' };
    inv.packages = [
      { ecosystem: 'rpm', name: 'openssl-libs', version: '1:1.1.1k-12.el8_9', epoch: 1, sourceName: 'openssl', sourceVersion: '1.1.1k-12.el8_9', arch: 'x86_64', path: 'var/lib/rpm/Packages', purl: 'pkg:rpm/redhat/openssl-libs@1.1.1k-12.el8_9?arch=x86_64&epoch=1&distro=rhel-8', layer: 'sha256:e623cf60cbc41de800d3ca5284181bd9168fc0be44b2fbfc05ba78cefcf315b1', layerIndex: 0, license: 'OpenSSL AND ASL 2.0' },
      { ecosystem: 'rpm', name: 'nodejs', version: '1:18.19.0-1.module+el8.9.0+20949+bb7f1b45', epoch: 1, modularityLabel: 'nodejs:18:8090020231124112153:a75119d5', arch: 'x86_64', path: 'var/lib/rpm/Packages', purl: 'pkg:rpm/redhat/nodejs@18.19.0-1.module%2Bel8.9.0%2B20949%2Bbb7f1b45?arch=x86_64&epoch=1', layer: 'sha256:e623cf60cbc41de800d3ca5284181bd9168fc0be44b2fbfc05ba78cefcf315b1', layerIndex: 0 },
      { ecosystem: 'npm', name: '@babel/core', version: '7.22.5', path: 'app/node_modules/@babel/core/package.json', purl: 'pkg:npm/%40babel/core@7.22.5', layer: 'sha256:3f4ca61aafcd4fc07267a105067db35c0f0ac630e1970f3cd0c7bf552780e985', layerIndex: 1, license: 'MIT' },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.21', path: 'app/node_modules/lodash/package.json', purl: 'pkg:npm/lodash@4.17.21', layer: 'sha256:3f4ca61aafcd4fc07267a105067db35c0f0ac630e1970f3cd0c7bf552780e985', layerIndex: 1 },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.21', path: 'app/node_modules/eslint/node_modules/lodash/package.json', purl: 'pkg:npm/lodash@4.17.21', layer: 'sha256:3f4ca61aafcd4fc07267a105067db35c0f0ac630e1970f3cd0c7bf552780e985', layerIndex: 1 },
    ];
    const out = inventoryToCycloneDx(inv);
    await assertValid(out);
    assert.deepEqual(
      components(out).filter((c) => c.type === 'library').map((c) => c['bom-ref']),
      [
        'pkg:rpm/redhat/openssl-libs@1.1.1k-12.el8_9?arch=x86_64&epoch=1&distro=rhel-8',
        'pkg:rpm/redhat/nodejs@18.19.0-1.module%2Bel8.9.0%2B20949%2Bbb7f1b45?arch=x86_64&epoch=1',
        'pkg:npm/%40babel/core@7.22.5',
        'pkg:npm/lodash@4.17.21|app/node_modules/lodash/package.json',
        'pkg:npm/lodash@4.17.21|app/node_modules/eslint/node_modules/lodash/package.json',
      ],
    );
    assert.deepStrictEqual(cycloneDxToInventory(out), inv);
  });

  test('an inventory without packages gives the image and OS only', async () => {
    const inv = fixtureInventory();
    inv.packages = [];
    const out = inventoryToCycloneDx(inv);
    await assertValid(out);
    assert.deepEqual(components(out).map((c) => c.type), ['operating-system']);
    assert.deepStrictEqual(cycloneDxToInventory(out), inv);
  });
});

describe('packageBomRefs / imagePurl', () => {
  test('duplicates get the path, then the layer index', () => {
    const p = { purl: 'pkg:npm/ms@2.1.3', path: 'app/node_modules/ms/package.json', layerIndex: 1 };
    assert.deepEqual(packageBomRefs([p, { ...p, layerIndex: 2 }, { ...p, path: 'x/package.json' }]), [
      'pkg:npm/ms@2.1.3|app/node_modules/ms/package.json|1',
      'pkg:npm/ms@2.1.3|app/node_modules/ms/package.json|2',
      'pkg:npm/ms@2.1.3|x/package.json',
    ]);
    assert.deepEqual(packageBomRefs([]), []);
  });
  test('images without a digest still get a purl (named after the last path component); nameless ones none', () => {
    assert.equal(imagePurl({ reference: 'docker-archive:/tmp/web.tar', transport: 'docker-archive' }), 'pkg:oci/web.tar');
    assert.equal(imagePurl({ reference: '', transport: 'dir' }), undefined);
    assert.equal(imagePurl({ reference: 'debian:11', transport: 'registry', registry: 'docker.io', repository: 'library/debian', tag: '11' }), 'pkg:oci/debian?repository_url=docker.io%2Flibrary%2Fdebian&tag=11');
  });
});

describe('cycloneDxToInventory: other producers', () => {
  // The shape syft writes for an image (component properties syft:location:*, syft:metadata:*),
  // with packages of the Debian 12 machine image in /work/shared/data/pkgdb/dpkg/debian12-machine.status.
  const syftLike = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: 'urn:uuid:0b8b4d52-4f0b-4b4a-9f61-1b6f0a3a33d1',
    version: 1,
    metadata: {
      timestamp: '2026-11-20T08:00:00Z',
      tools: { components: [{ type: 'application', author: 'anchore', name: 'syft', version: '1.16.0' }] },
      component: { 'bom-ref': 'b5d6f2c3', type: 'container', name: 'localhost:5000/infra/base', version: 'sha256:5a4b0c2e8f1d7c6b9a3e2d1f0c9b8a7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a' },
    },
    components: [
      { 'bom-ref': 'os', type: 'operating-system', name: 'debian', version: '12', description: 'Debian GNU/Linux 12 (bookworm)' },
      {
        'bom-ref': 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl&package-id=1',
        type: 'library',
        name: 'libssl3',
        version: '3.0.19-1~deb12u2',
        purl: 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
        properties: [
          { name: 'syft:package:type', value: 'deb' },
          { name: 'syft:location:0:layerID', value: 'sha256:7cea17427f83f6c4706c74f94fb6d7925b06ea9a0701234f1a9d43f6af11432a' },
          { name: 'syft:location:0:path', value: '/var/lib/dpkg/status' },
          { name: 'syft:metadata:source', value: 'openssl' },
        ],
      },
      { type: 'library', name: 'zlib1g', version: '1:1.2.13.dfsg-1', purl: 'pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib' },
      { type: 'library', name: 'perl-base', version: '5.36.0-7+deb12u2', purl: 'pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u2?arch=amd64&distro=debian-12&upstream=perl%405.36.0-7%2Bdeb12u2' },
      { type: 'library', name: 'core', group: '@babel', version: '7.22.5', purl: 'pkg:npm/%40babel/core@7.22.5', properties: [{ name: 'aquasecurity:trivy:FilePath', value: 'usr/src/app/node_modules/@babel/core/package.json' }] },
      { type: 'library', name: 'openssl-libs', version: '1.1.1k', purl: 'pkg:rpm/redhat/openssl-libs@1.1.1k-12.el8_9?arch=x86_64&epoch=1&upstream=openssl-1.1.1k-12.el8_9.src.rpm' },
      { type: 'library', name: 'commons-lang3', version: '3.12.0', purl: 'pkg:maven/org.apache.commons/commons-lang3@3.12.0' },
      { type: 'library', name: 'tzdata', version: '2024a', purl: 'pkg:generic/tzdata@2024a' },
      { type: 'file', name: '/etc/passwd' },
      { type: 'library', name: 'no-purl' },
    ],
  };
  const inv = cycloneDxToInventory(syftLike, { file: 'syft.cdx.json', toolVersion: '0.1.0' });

  test('packages come from purls, with source, arch, location and layer when given', () => {
    assert.deepEqual(inv.packages[0], {
      ecosystem: 'deb',
      name: 'libssl3',
      version: '3.0.19-1~deb12u2',
      path: 'var/lib/dpkg/status',
      purl: 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
      layer: 'sha256:7cea17427f83f6c4706c74f94fb6d7925b06ea9a0701234f1a9d43f6af11432a',
      layerIndex: 0,
      sourceName: 'openssl',
      arch: 'amd64',
    });
    assert.deepEqual(
      inv.packages.map((p) => [p.ecosystem, p.name, p.version, p.sourceName ?? null, p.sourceVersion ?? null, p.path, p.layerIndex]),
      [
        ['deb', 'libssl3', '3.0.19-1~deb12u2', 'openssl', null, 'var/lib/dpkg/status', 0],
        ['deb', 'zlib1g', '1:1.2.13.dfsg-1', 'zlib', null, 'var/lib/dpkg/status', -1],
        ['deb', 'perl-base', '5.36.0-7+deb12u2', 'perl', '5.36.0-7+deb12u2', 'var/lib/dpkg/status', -1],
        ['npm', '@babel/core', '7.22.5', null, null, 'usr/src/app/node_modules/@babel/core/package.json', -1],
        ['rpm', 'openssl-libs', '1:1.1.1k-12.el8_9', 'openssl', '1.1.1k-12.el8_9', 'var/lib/rpm', -1],
        ['maven', 'org.apache.commons:commons-lang3', '3.12.0', null, null, '', -1],
      ],
    );
    assert.equal(inv.packages[4]?.epoch, 1);
  });

  test('distro from the operating-system component, image from the metadata component', () => {
    assert.deepEqual(inv.distro, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', source: 'sbom' });
    assert.deepEqual(inv.image, { reference: 'localhost:5000/infra/base@sha256:5a4b0c2e8f1d7c6b9a3e2d1f0c9b8a7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a', transport: 'sbom', manifestDigest: 'sha256:5a4b0c2e8f1d7c6b9a3e2d1f0c9b8a7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a' });
    assert.equal(inv.createdAt, '2026-11-20T08:00:00Z');
    assert.deepEqual(inv.layers.map((l) => [l.index, l.digest, l.packageCount]), [[0, 'sha256:7cea17427f83f6c4706c74f94fb6d7925b06ea9a0701234f1a9d43f6af11432a', 1]]);
  });

  test('unsupported components are counted in warnings, files are not', () => {
    assert.deepEqual(inv.warnings.map((w) => w.message), ['sbom: 1 component(s) of purl type generic skipped', 'sbom: 1 component(s) without purl skipped']);
  });

  test('distro from a purl qualifier when there is no operating-system component', () => {
    const noOs = { ...syftLike, components: syftLike.components.filter((c) => c.type !== 'operating-system') };
    assert.deepEqual(cycloneDxToInventory(noOs).distro, { id: 'debian', versionId: '12', source: 'sbom' });
  });

  test('invalid SBOMs are E_INPUT naming the file', () => {
    for (const bad of [null, [], { bomFormat: 'SPDX' }, { bomFormat: 'CycloneDX' }, { bomFormat: 'CycloneDX', specVersion: '1.6', components: {} }]) {
      assert.throws(() => cycloneDxToInventory(bad, { file: 'bad.json' }), (err: unknown) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('sbom: bad.json: not a CycloneDX JSON BOM'));
    }
    const ours = inventoryToCycloneDx(fixtureInventory()) as { metadata: { properties: { name: string; value: string }[] } };
    const broken = structuredClone(ours);
    broken.metadata.properties[0] = { name: 'portcullis:inventory', value: '{"schema": "https://portcullis.dev/schemas/inventory/v9", "schemaVersion": 9}' };
    assert.throws(() => cycloneDxToInventory(broken, { file: 'old.json' }), /sbom: old.json: portcullis:inventory holds an unsupported inventory schema/);
  });
});

describe('SBOM: language packages an OS package installed', () => {
  test('osOwner survives inventory -> SBOM -> inventory, so scan sbom:FILE asks the same distribution records', async () => {
    const inventory = fixtureInventory();
    const ansible = inventory.packages.find((p) => p.name === 'ansible');
    assert.ok(ansible);
    ansible.osOwner = { ecosystem: 'deb', name: 'ansible', version: '2.9.10+dfsg-1', sourceName: 'ansible', sourceVersion: '2.9.10+dfsg-1', arch: 'all' };
    const bom = inventoryToCycloneDx(inventory);
    await assertValid(bom);
    assert.deepStrictEqual(cycloneDxToInventory(JSON.parse(JSON.stringify(bom))), inventory);
  });

  test('an incomplete or unknown owner is not read back as one', () => {
    const bom = inventoryToCycloneDx(fixtureInventory()) as Json;
    const ansible = components(bom).find((c) => c.name === 'ansible') as Json;
    ansible.properties = [...((ansible.properties ?? []) as Json[]), { name: 'portcullis:os-owner:ecosystem', value: 'msi' }, { name: 'portcullis:os-owner:name', value: 'x' }, { name: 'portcullis:os-owner:version', value: '1' }];
    assert.equal(cycloneDxToInventory(bom).packages.find((p) => p.name === 'ansible')?.osOwner, undefined);
  });
});

describe('SBOM: the project a lockfile belongs to', () => {
  function withProject(): Inventory {
    const inventory = fixtureInventory();
    const layer = inventory.layers[1]?.digest ?? '';
    inventory.packages.push(
      { ecosystem: 'npm', name: 'ms', version: '2.1.3', path: 'srv/app/node_modules/ms/package.json', purl: 'pkg:npm/ms@2.1.3', layer, layerIndex: 1 },
      { ecosystem: 'npm', name: 'qs', version: '6.5.2', path: 'srv/app/package-lock.json', purl: 'pkg:npm/qs@6.5.2', layer, layerIndex: 1 },
      { ecosystem: 'npm', name: 'ms', version: '2.0.0', path: 'srv/other/node_modules/ms/package.json', purl: 'pkg:npm/ms@2.0.0', layer, layerIndex: 1 },
    );
    inventory.projects = [
      { ecosystem: 'npm', name: 'web', version: '1.4.2', purl: 'pkg:npm/web@1.4.2', lockfile: 'srv/app/package-lock.json', manifest: 'srv/app/package.json', dependencies: ['ms', 'not-installed', 'qs'], layer, layerIndex: 1 },
    ];
    return inventory;
  }

  test('an application component that dependsOn its direct dependencies; valid CycloneDX 1.6', async () => {
    const bom = inventoryToCycloneDx(withProject());
    await assertValid(bom);
    const app = components(bom).find((c) => c.type === 'application');
    assert.ok(app);
    assert.deepEqual([app.name, app.version, app.purl, app['bom-ref']], ['web', '1.4.2', 'pkg:npm/web@1.4.2', 'project:srv/app/package-lock.json']);
    assert.equal(props(app)['portcullis:project:lockfile'], 'srv/app/package-lock.json');
    assert.equal(props(app)['portcullis:ecosystem'], undefined, 'not a package: never matched');
    const graph = bom.dependencies as { ref: string; dependsOn?: string[] }[];
    // ms from srv/app's node_modules (not srv/other's), qs from the lockfile; the missing one is not invented.
    assert.deepEqual(graph.find((d) => d.ref === app['bom-ref'])?.dependsOn, ['pkg:npm/ms@2.1.3', 'pkg:npm/qs@6.5.2']);
  });

  test('round trip: the project comes back as a project, not as a package', () => {
    const inventory = withProject();
    const back = cycloneDxToInventory(JSON.parse(JSON.stringify(inventoryToCycloneDx(inventory))));
    assert.deepStrictEqual(back, inventory);
    assert.equal(back.packages.length, inventory.packages.length);
  });

  test('a damaged project component is an E_INPUT error naming it', () => {
    const bom = inventoryToCycloneDx(withProject()) as Json;
    const app = components(bom).find((c) => c.type === 'application') as Json;
    app.properties = ((app.properties ?? []) as { name: string; value: string }[]).map((p) => (p.name === 'portcullis:project:dependencies' ? { ...p, value: '{' } : p));
    assert.throws(() => cycloneDxToInventory(bom), (err) => isPortcullisError(err, 'E_INPUT') && /project component project:srv\/app\/package-lock\.json/.test(err.message));
  });
});

describe('inventoryToCycloneDxStream', () => {
  /** What writeJson makes of the streamed SBOM, as one string for comparison. */
  async function written(inventory: Inventory): Promise<string> {
    const parts: string[] = [];
    await writeJson(inventoryToCycloneDxStream(inventory), { write: (t) => void parts.push(t) }, 2);
    return parts.join('');
  }

  test('writes byte for byte the SBOM inventoryToCycloneDx gives, repeated purls and all', async () => {
    const base = fixtureInventory();
    // The same packages again at another path and layer: bom-refs fall back to purl|path and purl|path|layer.
    const repeated = base.packages.map((p) => ({ ...p, path: `other/${p.path}` }));
    const again = base.packages.map((p) => ({ ...p, layerIndex: p.layerIndex + 1 }));
    const inventory: Inventory = { ...base, packages: [...base.packages, ...repeated, ...again] };
    const text = await written(inventory);
    assert.equal(text, JSON.stringify(inventoryToCycloneDx(inventory), null, 2));
    await assertValid(JSON.parse(text));
  });

  test('with the projects lockfiles belong to, the same SBOM too (application components and their dependsOn)', async () => {
    const inventory = fixtureInventory();
    const layer = inventory.layers[1]?.digest ?? '';
    inventory.packages.push(
      { ecosystem: 'npm', name: 'ms', version: '2.1.3', path: 'srv/app/node_modules/ms/package.json', purl: 'pkg:npm/ms@2.1.3', layer, layerIndex: 1 },
      { ecosystem: 'npm', name: 'qs', version: '6.5.2', path: 'srv/app/package-lock.json', purl: 'pkg:npm/qs@6.5.2', layer, layerIndex: 1 },
    );
    inventory.projects = [
      { ecosystem: 'npm', name: 'web', version: '1.4.2', purl: 'pkg:npm/web@1.4.2', lockfile: 'srv/app/package-lock.json', manifest: 'srv/app/package.json', dependencies: ['ms', 'not-installed', 'qs'], layer, layerIndex: 1 },
      { ecosystem: 'npm', name: 'tool', purl: 'pkg:npm/tool', lockfile: 'opt/tool/yarn.lock', dependencies: [], layer, layerIndex: 1 },
    ];
    const text = await written(inventory);
    assert.equal(text, JSON.stringify(inventoryToCycloneDx(inventory), null, 2));
    await assertValid(JSON.parse(text));
  });

  test('an inventory without packages or distro gives the same SBOM too', async () => {
    const { distro: _distro, ...rest } = fixtureInventory();
    const bare: Inventory = { ...rest, packages: [] };
    assert.equal(await written(bare), JSON.stringify(inventoryToCycloneDx(bare), null, 2));
  });
});
