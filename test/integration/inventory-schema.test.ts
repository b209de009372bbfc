/**
 * The inventory schema (zod) every reader of inventory JSON goes through: the service's stored
 * inventories (storedInventory) and `inventory:FILE` references (readStoredInventory). Real
 * inventories of the test images read back unchanged; corrupt variants of them are refused with
 * E_INPUT naming the path of the first bad field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PortcullisError } from '../../src/domain/errors.js';
import { parseInventory, type Inventory } from '../../src/domain/inventory.js';
import { packageKeys } from '../../src/service/embedded-backend.js';
import { storedInventory } from '../../src/service/stored-results.js';
import { inventoryReference } from '../../src/services/inventory-service.js';
import { readStoredInventory } from '../../src/services/scan-service.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { testImages } from '../harness/images.js';

const platform = { os: 'linux', architecture: 'amd64' } as const;

/** A deep copy of `inventory` as plain JSON, changed by `edit`. */
function corrupt(inventory: Inventory, edit: (json: Record<string, unknown> & { packages: Record<string, unknown>[] }) => void): unknown {
  const json = JSON.parse(JSON.stringify(inventory)) as Record<string, unknown> & { packages: Record<string, unknown>[] };
  edit(json);
  return json;
}

/** The E_INPUT a value is refused with. */
function refusal(value: unknown): PortcullisError {
  try {
    parseInventory(value, 'the test inventory');
  } catch (err) {
    assert.ok(err instanceof PortcullisError, `not a PortcullisError: ${String(err)}`);
    assert.equal(err.code, 'E_INPUT');
    return err;
  }
  assert.fail('the corrupt inventory was accepted');
}

describe('inventory schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-inventory-schema-'));
  const real = new Map<string, Inventory>();
  let store: Store;
  let catalog: CatalogStore;

  before(async () => {
    for (const [name, image] of Object.entries(testImages().images)) {
      const [inventory] = await inventoryReference({ reference: image.ociReference, cache: false, image: { platform } });
      assert.ok(inventory, `no inventory for ${name}`);
      real.set(name, inventory);
    }
    store = await openStore({ kind: 'sqlite', file: join(dir, 'app.db') });
    catalog = new CatalogStore(store);
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the test images' inventories read back unchanged: as JSON, from an inventory file and from the store", async () => {
    assert.ok(real.size >= 2);
    for (const [name, inventory] of real) {
      assert.ok(inventory.packages.length > 10, `${name}: a real inventory has packages`);
      const json = JSON.stringify(inventory);
      assert.deepEqual(parseInventory(JSON.parse(json), name), JSON.parse(json), `${name}: parsed as it was written`);

      const file = join(dir, `${name}.json`);
      writeFileSync(file, json);
      assert.deepEqual(await readStoredInventory(`inventory:${file}`), JSON.parse(json), `${name}: inventory:FILE`);

      const digest = `sha256:${name.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a')}`;
      await catalog.saveInventory(digest, inventory.schemaVersion, json, packageKeys(inventory));
      assert.deepEqual(await storedInventory(catalog, digest), JSON.parse(json), `${name}: stored inventory`);
    }
  });

  test('a field a newer version added is dropped, not refused', () => {
    const inventory = real.get('minbase') as Inventory;
    const parsed = parseInventory(corrupt(inventory, (j) => void (j.addedLater = { x: 1 })), 'newer');
    assert.equal('addedLater' in parsed, false);
    assert.equal(parsed.packages.length, inventory.packages.length);
  });

  test('corrupt variants are refused with E_INPUT naming the first bad field', () => {
    const inventory = real.get('lang') as Inventory;
    const cases: { name: string; value: unknown; field: string; says: RegExp }[] = [
      { name: 'a version that is a number', value: corrupt(inventory, (j) => void ((j.packages[3] as Record<string, unknown>).version = 42)), field: 'packages[3].version', says: /expected string/i },
      { name: 'an unknown ecosystem', value: corrupt(inventory, (j) => void ((j.packages[0] as Record<string, unknown>).ecosystem = 'snap')), field: 'packages[0].ecosystem', says: /deb/ },
      { name: 'a package without its name', value: corrupt(inventory, (j) => void delete (j.packages[7] as Record<string, unknown>).name), field: 'packages[7].name', says: /expected string/i },
      { name: 'packages that are not a list', value: corrupt(inventory, (j) => void (j.packages = { 0: j.packages[0] } as unknown as Record<string, unknown>[])), field: 'packages', says: /expected array/i },
      { name: "a layer's readFrom out of its set", value: corrupt(inventory, (j) => void ((j.layers as Record<string, unknown>[])[1] = { ...(j.layers as Record<string, unknown>[])[1], readFrom: 'disk' })), field: 'layers[1].readFrom', says: /blob/ },
      { name: 'an osOwner without version', value: corrupt(inventory, (j) => void (j.packages[2] = { ...j.packages[2], osOwner: { ecosystem: 'deb', name: 'python3-x' } })), field: 'packages[2].osOwner.version', says: /expected string/i },
      { name: 'another schema', value: corrupt(inventory, (j) => void (j.schema = 'https://example.com/sbom')), field: 'schema', says: /not a Portcullis inventory of schema https:\/\/portcullis\.dev\/schemas\/inventory\/v1 v1/ },
      { name: 'a later schema version', value: corrupt(inventory, (j) => void (j.schemaVersion = 2)), field: 'schemaVersion', says: /not a Portcullis inventory of schema/ },
      { name: 'an array', value: [inventory], field: '(the top level)', says: /expected object/i },
      { name: 'null', value: null, field: '(the top level)', says: /expected object/i },
    ];
    for (const c of cases) {
      const err = refusal(c.value);
      assert.equal(err.details.field, c.field, `${c.name}: ${err.message}`);
      assert.ok(err.message.includes(`: ${c.field}: `), `${c.name}: the message names ${c.field}: ${err.message}`);
      assert.match(err.message, c.says, c.name);
      assert.match(err.message, /^the test inventory is not a valid Portcullis inventory: /, c.name);
    }
  });

  test('a corrupt inventory file and a corrupt stored inventory are E_INPUT naming the file / the digest and the field', async () => {
    const inventory = real.get('minbase') as Inventory;
    const bad = JSON.stringify(corrupt(inventory, (j) => void ((j.packages[5] as Record<string, unknown>).layerIndex = '2')));
    const file = join(dir, 'bad.json');
    writeFileSync(file, bad);
    await assert.rejects(readStoredInventory(`inventory:${file}`), (err: unknown) => err instanceof PortcullisError && err.code === 'E_INPUT' && err.details.file === file && err.message.includes(`inventory: ${file} is not a valid Portcullis inventory: packages[5].layerIndex: `));

    const digest = `sha256:${'b'.repeat(64)}`;
    await catalog.saveInventory(digest, 1, bad, packageKeys(inventory));
    await assert.rejects(storedInventory(catalog, digest), (err: unknown) => err instanceof PortcullisError && err.code === 'E_INPUT' && err.message.includes(`the stored inventory of ${digest} is not a valid Portcullis inventory: packages[5].layerIndex: `));

    const cut = `sha256:${'c'.repeat(64)}`;
    await catalog.saveInventory(cut, 1, bad.slice(0, 500), packageKeys(inventory));
    await assert.rejects(storedInventory(catalog, cut), (err: unknown) => err instanceof PortcullisError && err.code === 'E_INPUT' && err.message.includes(`the stored inventory of ${cut} is not JSON`));
  });
});
