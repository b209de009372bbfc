/**
 * Single-flight layer reads: two scans of one image running at the same time in one process (the
 * service's workers on two tags of one digest, or of images sharing a base) fetch each layer blob
 * from the registry once. Counted on a real Docker Distribution registry's access log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import * as z from 'zod';
import { silentEngineContext } from '../../src/engine/context.js';
import { inventoryReference } from '../../src/services/inventory-service.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';

const { lang } = testImages().images;
const platform = { os: 'linux', architecture: 'amd64' };

/** How many successful blob GETs each layer of `lang` had so far. */
async function layerFetches(registry: RunningRegistry): Promise<number[]> {
  const gets = await registry.blobGets();
  return lang.layers.map((l) => gets.filter((uri) => uri.endsWith(`/blobs/${l.digest}`)).length);
}

describe('two scans of one image at once read each layer once', () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry();
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1`);
    await pushImage(lang.ociReference, `${registry.host}/team/lang:also`);
  });
  after(() => registry.stop());

  test('concurrent scans share the layer reads and get the same inventory; a later scan reads again (no cache)', async () => {
    const LayerLine = z.object({ msg: z.string(), digest: z.string().optional(), from: z.string().optional() });
    const lines: z.infer<typeof LayerLine>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(LayerLine.parse(JSON.parse(line))) });
    const scan = (tag: string) => inventoryReference({ reference: `${registry.host}/team/lang:${tag}`, cache: false, image: { platform, insecure: true }, context: silentEngineContext({ logger }) });
    const [[a], [b]] = await Promise.all([scan('1'), scan('also')]);
    assert.ok(a !== undefined && b !== undefined);
    assert.deepEqual(await layerFetches(registry), lang.layers.map(() => 1), 'each layer blob fetched once for both scans');
    // The logs say the same: each layer read from its blob by one scan, joined by the other.
    const layerDigests = lang.layers.map((l) => l.digest).sort();
    assert.deepEqual(lines.filter((l) => l.msg === 'layer read').map((l) => l.digest).sort(), layerDigests);
    assert.deepEqual(lines.filter((l) => l.msg.startsWith('layer read joined')).map((l) => l.digest).sort(), layerDigests);
    assert.deepEqual(b.packages, a.packages);
    assert.ok(a.packages.length > 100, `${a.packages.length} packages`);
    assert.deepEqual(
      [a, b].map((inv) => inv.stats.layersRead + inv.stats.layersFromCache),
      [lang.layers.length, lang.layers.length],
    );

    // Nothing in flight any more: the next scan fetches every layer again (this test's counts are not a cache's doing).
    await scan('1');
    assert.deepEqual(await layerFetches(registry), lang.layers.map(() => 2));
  });
});
