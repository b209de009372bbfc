import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { PortcullisError } from '../domain/errors.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory, type InventoryLayer } from '../domain/inventory.js';
import type { Distro } from '../domain/distro.js';
import type { InventoryPackage, PackageRecord } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';
import type { Detector } from '../detectors/types.js';
import type { LayerDescriptor, ResolvedImage, RootfsImage } from '../image/types.js';
import type { LayerCache } from '../cache/layer-cache.js';
import { DEFAULT_WALK_LIMITS, type WalkLimits } from '../layers/collector.js';
import { decompressLayer } from '../layers/decompress.js';
import type { DetectorLayerResult, LayerDeletions } from '../layers/layer-result.js';
import { readRootfsFile, walkRootfs, type WalkProgress } from '../layers/walk-rootfs.js';
import { readTarFiles, walkTar } from '../layers/walk-tar.js';
import type { AnalysedLayer, PlacedPackage } from './coalesce.js';
import { coalesceThroughLinks, type LinkedOutputStore } from './linked-reads.js';
import { DECLARING_DETECTORS } from './detector-registry.js';
import { purlFor } from './purl.js';
import { attachOsOwners } from './os-owners.js';
import { placeProjects } from './projects.js';
import { chooseDistro } from '../distro/index.js';
import { TOOL_VERSION } from '../version.js';
import { cancelled, mapBounded } from '../util/concurrency.js';
import { flatString } from '../util/strings.js';

export interface InventoryOptions {
  detectors: readonly Detector[];
  /** Layer cache; undefined means no cache (`--no-cache`). */
  cache?: LayerCache;
  /** Layers fetched and walked at once. */
  concurrency?: number;
  limits?: WalkLimits;
  signal?: AbortSignal;
  /** Debug lines per layer (read or from the cache, bytes, ms) and per single-flight join. */
  logger?: Pick<Logger, 'debug'>;
  /** Called as each layer is done, from the blob or from the cache. */
  onLayerDone?: (layer: LayerDescriptor, from: 'blob' | 'cache') => void;
  /** `dir:` images only: running totals of the walk. */
  onWalkProgress?: (p: WalkProgress) => void;
}

interface LayerOutcome {
  analysed: AnalysedLayer;
  readFrom: 'blob' | 'cache';
  tarBytes: number;
}

/**
 * Builds the package inventory of one image: each layer is read at most once (not at all when the
 * cache holds every detector's result for its digest), layers are processed concurrently up to
 * `concurrency`, and the per-layer results are stacked into the final filesystem's view.
 * An image without any package database yields an inventory with no packages (not an error).
 */
export async function buildInventory(image: ResolvedImage | RootfsImage, options: InventoryOptions): Promise<Inventory> {
  const limits = options.limits ?? DEFAULT_WALK_LIMITS;
  if (image.transport === 'dir') return buildRootfsInventory(image as RootfsImage, options.detectors, limits, options.onWalkProgress);
  const resolved = image as ResolvedImage;

  // The first layer that fails stops the others (the pool's signal reaches their blob reads and tar walks).
  const outcomes = await mapBounded(
    resolved.layers,
    options.concurrency ?? 3,
    async (layer, signal) => {
      const started = performance.now();
      const outcome = await analyseLayerOnce(resolved, layer, { ...options, signal }, limits);
      options.logger?.debug(
        { digest: layer.digest, from: outcome.readFrom, bytes: layer.size, tarBytes: outcome.tarBytes, ms: Math.round(performance.now() - started) },
        outcome.readFrom === 'blob' ? 'layer read' : 'layer from cache',
      );
      options.onLayerDone?.(layer, outcome.readFrom);
      return outcome;
    },
    { ...(options.signal ? { signal: options.signal } : {}), what: `reading the layers of ${resolved.reference}` },
  );

  const readLayerFiles = (layerIndex: number, paths: ReadonlyMap<string, number>): Promise<Map<string, Buffer>> => {
    const layer = resolved.layers.find((l) => l.index === layerIndex);
    if (layer === undefined) return Promise.reject(new PortcullisError('E_INTERNAL', `no layer ${layerIndex}`));
    return readLayer(resolved, layer, options.signal, (tar) => readTarFiles(tar, paths));
  };
  const digestOf = new Map(resolved.layers.map((l) => [l.index, l.digest]));
  const cache = options.cache;
  const store: LinkedOutputStore | undefined = cache && {
    get: (read, d) => cache.getLinked(digestOf.get(read.source.layerIndex) ?? '', d.id, d.version, read.source.path, read.linkPath),
    put: (read, d, output) => cache.putLinked(digestOf.get(read.source.layerIndex) ?? '', d.id, d.version, read.source.path, read.linkPath, output),
  };
  const coalesced = await coalesceThroughLinks(
    outcomes.map((o) => o.analysed),
    options.detectors,
    readLayerFiles,
    store,
  );
  const distro = chooseDistro(coalesced.distroCandidates);
  const packages = attachOsOwners(placePackages(preferInstalled(coalesced.packages), resolved.layers, distro), coalesced.ownedFiles);
  const projects = placeProjects(coalesced.projects, resolved.layers);
  const counts = countByLayer(packages);
  const layers: InventoryLayer[] = resolved.layers.map((l, i) => ({
    index: l.index,
    digest: l.digest,
    ...(l.diffId ? { diffId: l.diffId } : {}),
    size: l.size,
    mediaType: l.mediaType,
    ...(l.createdBy ? { createdBy: l.createdBy } : {}),
    packageCount: counts.get(l.index) ?? 0,
    readFrom: outcomes[i]?.readFrom ?? 'blob',
  }));
  const warnings: ScanWarning[] = coalesced.warnings.map((w) => ({ ...w }));
  for (const key of options.cache?.discarded ?? []) {
    warnings.push({ code: 'cache-entry-discarded', message: `layer cache: discarded a corrupt entry ${key}` });
  }
  return {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    image: {
      reference: resolved.reference,
      transport: resolved.transport,
      ...(resolved.manifestDigest ? { manifestDigest: resolved.manifestDigest } : {}),
      ...(resolved.indexDigest ? { indexDigest: resolved.indexDigest } : {}),
      ...(resolved.configDigest ? { configDigest: resolved.configDigest } : {}),
      ...(resolved.platform ? { platform: resolved.platform } : {}),
      ...(resolved.registry ? { registry: resolved.registry } : {}),
      ...(resolved.repository ? { repository: resolved.repository } : {}),
      ...(resolved.tag ? { tag: resolved.tag } : {}),
    },
    ...(distro ? { distro } : {}),
    layers,
    packages,
    ...(projects.length > 0 ? { projects } : {}),
    detectors: options.detectors.map((d) => ({ id: d.id, version: d.version })),
    warnings,
    stats: {
      layersRead: outcomes.filter((o) => o.readFrom === 'blob').length,
      layersFromCache: outcomes.filter((o) => o.readFrom === 'cache').length,
      bytesRead: outcomes.reduce((n, o) => n + o.tarBytes, 0),
    },
  };
}

/**
 * Layer analyses running in this process, by layer digest and what is asked of the layer. Two
 * scans that need the same layer at the same time (two tags of one base image in the service's
 * workers, `--platform all` of images sharing layers) read it once: the second waits for the
 * first. Content addressing makes that safe: one digest is one verified content.
 */
const analysesInFlight = new Map<string, Promise<LayerOutcome>>();

/** {@link analyseLayer}, single-flight per (digest, detectors, limits). */
async function analyseLayerOnce(image: ResolvedImage, layer: LayerDescriptor, options: InventoryOptions, limits: WalkLimits): Promise<LayerOutcome> {
  const key = [layer.digest, options.detectors.map((d) => `${d.id}@${d.version}`).join(','), limits.maxLayerBytes, limits.maxEntries].join('|');
  const running = analysesInFlight.get(key);
  if (running !== undefined) {
    options.logger?.debug({ digest: layer.digest }, 'layer read joined: another scan is reading this layer');
    try {
      const shared = await untilAborted(running, options.signal);
      // The follower did not read the blob: to it, the layer came from the leader as from a cache.
      // A copy, so the two inventories never share (and never mutate) one object.
      return { analysed: structuredClone(shared.analysed), readFrom: 'cache', tarBytes: 0 };
    } catch {
      if (options.signal?.aborted) throw annotate(cancelled(options.signal, 'layer read'), layer);
      // The leader failed for reasons of its own (its scan was cancelled, its registry refused):
      // this scan reads the layer itself and reports its own outcome.
    }
  }
  const analysis = analyseLayer(image, layer, options, limits);
  analysesInFlight.set(key, analysis);
  try {
    return await analysis;
  } finally {
    if (analysesInFlight.get(key) === analysis) analysesInFlight.delete(key);
  }
}

/** `promise`, or a rejection as soon as `signal` fires (the promise itself keeps running for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

async function analyseLayer(image: ResolvedImage, layer: LayerDescriptor, options: InventoryOptions, limits: WalkLimits): Promise<LayerOutcome> {
  const cache = options.cache;
  const cached: DetectorLayerResult[] = [];
  let missing: readonly Detector[] = options.detectors;
  let deletions: LayerDeletions | undefined;
  if (cache) {
    deletions = await cache.getDeletions(layer.digest);
    const index = await cache.getFileIndex(layer.digest);
    const stillMissing: Detector[] = [];
    for (const d of options.detectors) {
      const hit = await cache.getDetector(layer.digest, d.id, d.version);
      if (hit) {
        cached.push(hit);
      } else if (index && !index.some((entry) => d.wants(entry))) {
        // The layer's file index shows nothing this detector wants: its result is known without a read.
        const empty: DetectorLayerResult = { detector: d.id, version: d.version, files: [], links: [] };
        await cache.putDetector(layer.digest, empty);
        cached.push(empty);
      } else {
        stillMissing.push(d);
      }
    }
    missing = stillMissing;
    if (deletions && index && missing.length === 0) {
      return { analysed: { index: layer.index, digest: layer.digest, deletions, detectors: cached, files: index }, readFrom: 'cache', tarBytes: 0 };
    }
  }

  const walked = await readLayer(image, layer, options.signal, (tar) => walkTar(tar, missing, limits, options.signal));
  if (cache) {
    await cache.putDeletions(layer.digest, walked);
    await cache.putFileIndex(layer.digest, walked.index);
    for (const result of walked.detectors) await cache.putDetector(layer.digest, result);
  }
  return {
    analysed: {
      index: layer.index,
      digest: layer.digest,
      deletions: { whiteouts: walked.whiteouts, opaqueDirs: walked.opaqueDirs },
      detectors: [...cached, ...walked.detectors],
      files: walked.index,
    },
    readFrom: 'blob',
    tarBytes: walked.tarBytes,
  };
}

/**
 * Opens a layer blob and hands its tar to `consume`; the whole blob is read, so its digest is
 * verified before the result is trusted. A failure is annotated with the layer.
 */
async function readLayer<T>(image: ResolvedImage, layer: LayerDescriptor, signal: AbortSignal | undefined, consume: (tar: Readable) => Promise<T>): Promise<T> {
  const blob = await image.openLayer(layer, signal);
  const blobEnd = settled(blob);
  const { tar } = decompressLayer(blob, { keepSourceOnError: true });
  try {
    const result = await consume(tar);
    await drain(tar);
    return result;
  } catch (err) {
    tar.destroy();
    if (signal?.aborted) {
      // Cancelled: stop reading now rather than drain the rest of the blob for its digest check.
      blob.destroy();
      throw annotate(cancelled(signal, 'layer read'), layer);
    }
    // Bytes that fail to decode are often bytes that were altered: read the rest of the blob so
    // its digest check can name that root cause instead of the decoder's symptom.
    blob.unpipe();
    blob.resume();
    const integrity = await blobEnd;
    throw annotate(integrity instanceof PortcullisError && integrity.code === 'E_DIGEST_MISMATCH' ? integrity : err, layer);
  }
}

/** Resolves when a stream ends (undefined) or fails (its error); never rejects. */
function settled(stream: NodeJS.ReadableStream): Promise<unknown> {
  return new Promise((resolve) => {
    stream.once('end', () => resolve(undefined));
    stream.once('error', resolve);
    stream.once('close', () => resolve(undefined));
  });
}

/**
 * Reads whatever follows the tar's end-of-archive marker, so the source's digest check (which
 * fires at the end of the blob) always runs before a layer's results are trusted or cached.
 */
function drain(stream: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }): Promise<void> {
  if (stream.readableEnded) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.resume();
  });
}

function annotate(err: unknown, layer: LayerDescriptor): unknown {
  if (err instanceof PortcullisError) {
    return new PortcullisError(err.code, `${err.message} (layer ${layer.index}, ${layer.digest})`, { ...err.details, layer: layer.digest }, { cause: err });
  }
  return err;
}

async function buildRootfsInventory(
  image: RootfsImage,
  detectors: readonly Detector[],
  limits: WalkLimits,
  onWalkProgress: ((p: WalkProgress) => void) | undefined,
): Promise<Inventory> {
  const walked = await walkRootfs(image.root, detectors, limits, onWalkProgress);
  const digest = 'rootfs';
  const readRootfs = async (_layerIndex: number, paths: ReadonlyMap<string, number>): Promise<Map<string, Buffer>> => {
    const files = new Map<string, Buffer>();
    for (const [path, max] of paths) files.set(path, await readRootfsFile(image.root, path, max));
    return files;
  };
  const rootfsLayer: AnalysedLayer = { index: 0, digest, deletions: { whiteouts: [], opaqueDirs: [] }, detectors: walked.detectors, files: walked.index };
  const coalesced = await coalesceThroughLinks([rootfsLayer], detectors, readRootfs);
  const distro = chooseDistro(coalesced.distroCandidates);
  const layer: LayerDescriptor = { index: 0, digest, size: -1, mediaType: 'application/vnd.portcullis.rootfs' };
  const packages = attachOsOwners(placePackages(preferInstalled(coalesced.packages), [layer], distro), coalesced.ownedFiles);
  const projects = placeProjects(coalesced.projects, [layer]);
  return {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    image: { reference: image.reference, transport: 'dir' },
    ...(distro ? { distro } : {}),
    layers: [{ index: 0, digest, size: -1, mediaType: layer.mediaType, packageCount: packages.length, readFrom: 'rootfs' }],
    packages,
    ...(projects.length > 0 ? { projects } : {}),
    detectors: detectors.map((d) => ({ id: d.id, version: d.version })),
    warnings: coalesced.warnings,
    stats: { layersRead: 1, layersFromCache: 0, bytesRead: walked.tarBytes },
  };
}

/**
 * Drops lockfile records of packages that are also installed under the lockfile's directory: the
 * installed record (npm: `node_modules/<name>/package.json`, the install directory its ecosystem's
 * descriptor names) says the same thing with more certainty, and
 * reporting both would double every finding.
 */
function preferInstalled(placed: PlacedPackage[]): PlacedPackage[] {
  const idOf = (r: PlacedPackage['record']): string => `${r.ecosystem}\u0000${r.name}\u0000${r.version}`;
  // Only the ids some lockfile declares are indexed: an image of 200,000 OS packages and no
  // lockfile costs nothing here.
  const declared = new Set<string>();
  for (const p of placed) if (DECLARING_DETECTORS.has(p.detector)) declared.add(idOf(p.record));
  if (declared.size === 0) return placed;
  const installedDirs = new Map<string, string[]>();
  for (const p of placed) {
    if (DECLARING_DETECTORS.has(p.detector) || !declared.has(idOf(p.record))) continue;
    const dirs = installedDirs.get(idOf(p.record)) ?? [];
    dirs.push(`${dirOf(p.record.path)}/`);
    installedDirs.set(idOf(p.record), dirs);
  }
  return placed.filter((p) => {
    const installDir = DECLARING_DETECTORS.get(p.detector);
    if (installDir === undefined) return true;
    const base = dirOf(p.record.path);
    const prefix = base === '' ? `${installDir}/` : `${base}/${installDir}/`;
    return !(installedDirs.get(idOf(p.record)) ?? []).some((dir) => dir.startsWith(prefix));
  });
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Gives each placed package its purl and layer digest, in a stable order (ecosystem, name, version,
 * path). The records become the inventory's packages in place (this run owns them: the walk or the
 * cache made them), so a 200,000-package image does not hold every package twice at its peak; a
 * record placed twice (a link to the same file) is copied for its second place.
 */
function placePackages(placed: PlacedPackage[], layers: readonly LayerDescriptor[], distro: Distro | undefined): InventoryPackage[] {
  const byIndex = new Map(layers.map((l) => [l.index, l.digest]));
  const taken = new WeakSet<PackageRecord>();
  const out: InventoryPackage[] = placed.map(({ record, layerIndex }) => {
    const target = taken.has(record) ? { ...record } : record;
    taken.add(record);
    return Object.assign(target, { purl: flatString(purlFor(record, distro)), layer: byIndex.get(layerIndex) ?? '', layerIndex });
  });
  out.sort(
    (a, b) =>
      cmp(a.ecosystem, b.ecosystem) || cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.arch ?? '', b.arch ?? '') || cmp(a.path, b.path),
  );
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countByLayer(packages: InventoryPackage[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const p of packages) counts.set(p.layerIndex, (counts.get(p.layerIndex) ?? 0) + 1);
  return counts;
}

