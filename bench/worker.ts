/**
 * One benchmark measurement, run in its own process by bench/run.ts (`runWorker`), so that its
 * timing and peak memory are not shared with other measurements. The task is a JSON argument; the
 * result is printed as one `BENCH-RESULT {...}` line on stdout. Every result carries the process's
 * peak RSS at the end.
 *
 *   node --import tsx bench/worker.ts '{"kind":"idle"}'
 */
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { unzipSync } from 'fflate';
import type { Inventory } from '../src/domain/inventory.js';
import type { Ecosystem } from '../src/domain/package.js';
import { DETECTORS } from '../src/inventory/detector-registry.js';
import { createDigestVerifier } from '../src/image/digest.js';
import { decompressLayer } from '../src/layers/decompress.js';
import { walkTar } from '../src/layers/walk-tar.js';
import { matchInventory, type AdvisoryStore } from '../src/matching/matcher.js';
import { main } from '../src/cli/main.js';
import { inventoryReference } from '../src/services/inventory-service.js';
import { importFeeds, openVulnDb, type VulnDb } from '../src/vulndb/index.js';
import { RESULT_MARKER, median, peakRssKiB } from './lib/measure.js';

/** How much of the layer pipeline a `layer-read` task runs. */
export type LayerReadMode =
  /** decompressLayer only, output drained. */
  | 'decode'
  /** decompressLayer + walkTar with no detector (tar parsing and the file index). */
  | 'walk'
  /** decompressLayer + walkTar with the real DETECTORS. */
  | 'detect'
  /** sha256 verification of the blob (as the image sources do) + decode + walk + DETECTORS. */
  | 'verified';

export type WorkerTask =
  | { kind: 'idle' }
  | { kind: 'inventory'; reference: string; cacheDir: string }
  | { kind: 'layer-read'; files: { path: string; digest: string }[]; mode: LayerReadMode; reps: number }
  | { kind: 'db-build'; paths: string[]; target: string }
  | { kind: 'db-floor'; paths: string[]; target: string }
  | { kind: 'match'; db: string; inventory: string; warmRuns: number }
  | { kind: 'rematch'; db: string; dir: string }
  /** `portcullis sbom ARGS` through the CLI's own entry point (what bin/portcullis.js runs). */
  | { kind: 'sbom-cli'; args: string[] };

/** Every result's common part. */
export interface WorkerResultBase {
  peakRssKiB: number;
}

export interface InventoryResult extends WorkerResultBase {
  ms: number;
  packages: number;
  /** Packages per ecosystem (purl type). */
  byEcosystem: Record<string, number>;
  layersRead: number;
  layersFromCache: number;
  bytesRead: number;
}

export interface LayerReadResult extends WorkerResultBase {
  files: { path: string; tarBytes: number; ms: number[] }[];
}

export interface DbBuildResult extends WorkerResultBase {
  ms: number;
  advisories: number;
  affectedRows: number;
  filesByFeed: Record<string, number>;
  unrecognized: number;
  skipped: number;
  dbBytes: number;
}

export interface DbFloorResult extends WorkerResultBase {
  ms: number;
  records: number;
  inputBytes: number;
}

export interface MatchTiming extends WorkerResultBase {
  packages: number;
  findings: number;
  coldMs: number;
  warmMedianMs: number;
  /** The matcher's own affectedFor calls replayed on a fresh DB handle: first (cold) and median of warm runs. */
  lookupColdMs: number;
  lookupWarmMedianMs: number;
  lookupCalls: number;
  lookupNames: number;
  statements: number;
}

export interface RematchResult extends WorkerResultBase {
  inventories: number;
  packages: number;
  findings: number;
  /** Reading and parsing every stored inventory, nothing else (done first, so it also warms the page cache). */
  readMs: number;
  /** Reading, parsing and matching every stored inventory (DB opened before, cold). */
  totalMs: number;
}

async function drainStream(stream: Readable): Promise<number> {
  let n = 0;
  await pipeline(
    stream,
    new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _enc, done) {
        n += chunk.length;
        done();
      },
    }),
  );
  return n;
}

async function readLayer(path: string, digest: string, mode: LayerReadMode): Promise<number> {
  const raw = createReadStream(path);
  let blob: Readable = raw;
  if (mode === 'verified') {
    const verifier = createDigestVerifier(digest, { expectedSize: statSync(path).size });
    raw.on('error', (err) => verifier.destroy(err));
    blob = raw.pipe(verifier);
  }
  const { tar } = decompressLayer(blob);
  if (mode === 'decode') return drainStream(tar);
  const walked = await walkTar(tar, mode === 'walk' ? [] : DETECTORS);
  // What follows the end-of-archive marker, as the inventory does (so a verifier's check runs).
  await drainStream(tar);
  return walked.tarBytes;
}

async function layerRead(task: Extract<WorkerTask, { kind: 'layer-read' }>): Promise<Omit<LayerReadResult, 'peakRssKiB'>> {
  const files: LayerReadResult['files'] = [];
  for (const f of task.files) {
    const ms: number[] = [];
    let tarBytes = 0;
    for (let i = 0; i < task.reps; i++) {
      const t = performance.now();
      tarBytes = await readLayer(f.path, f.digest, task.mode);
      ms.push(performance.now() - t);
    }
    files.push({ path: f.path, tarBytes, ms });
  }
  return { files };
}

function listFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  return readdirSync(root)
    .filter((n) => !n.startsWith('.'))
    .sort()
    .flatMap((n) => listFiles(join(root, n)));
}

/**
 * The floor of any DB build from these files: read them (unzip zips), JSON.parse the JSON ones and
 * insert every record's raw text into a one-table SQLite file in one transaction. No normalization,
 * no index, no validation.
 */
function dbFloor(task: Extract<WorkerTask, { kind: 'db-floor' }>): Omit<DbFloorResult, 'peakRssKiB'> {
  const t = performance.now();
  const db = new Database(task.target);
  db.exec('CREATE TABLE raw (name TEXT NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO raw (name, body) VALUES (?, ?)');
  let records = 0;
  let inputBytes = 0;
  const take = (name: string, bytes: Uint8Array): void => {
    inputBytes += bytes.length;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (name.endsWith('.json')) JSON.parse(text);
    insert.run(name, text);
    records++;
  };
  db.transaction(() => {
    for (const p of task.paths) {
      for (const file of listFiles(p)) {
        const bytes = readFileSync(file);
        if (file.endsWith('.zip')) {
          for (const [name, entry] of Object.entries(unzipSync(bytes))) take(name, entry);
        } else {
          take(file, bytes);
        }
      }
    }
  })();
  db.close();
  return { ms: performance.now() - t, records, inputBytes };
}

interface RecordedCall {
  ecosystem: Ecosystem;
  namespace: string;
  names: string[];
}

/** The DB as the matcher sees it, recording each lookup (to replay them as a reference). */
function recording(db: VulnDb, calls: RecordedCall[]): AdvisoryStore {
  return {
    affectedForMany(lookups) {
      for (const l of lookups) calls.push({ ecosystem: l.ecosystem, namespace: l.namespace, names: [...l.packageNames] });
      return db.affectedForMany(lookups);
    },
    enrichmentFor: (ids) => db.enrichmentFor(ids),
    feedList: () => db.feedList(),
    namespacesFor: (e) => db.namespacesFor(e),
  };
}

function replay(db: VulnDb, calls: readonly RecordedCall[]): number {
  let n = 0;
  for (const c of calls) n += db.affectedFor(c.ecosystem, c.namespace, c.names).length;
  return n;
}

async function match(task: Extract<WorkerTask, { kind: 'match' }>): Promise<Omit<MatchTiming, 'peakRssKiB'>> {
  const inventory = JSON.parse(readFileSync(task.inventory, 'utf8')) as Inventory;
  const db = openVulnDb(task.db);
  const calls: RecordedCall[] = [];
  const source = recording(db, calls);
  let t = performance.now();
  const first = await matchInventory(inventory, source);
  const coldMs = performance.now() - t;
  const recorded = [...calls];
  const warm: number[] = [];
  for (let i = 0; i < task.warmRuns; i++) {
    t = performance.now();
    await matchInventory(inventory, db);
    warm.push(performance.now() - t);
  }
  db.close();
  const fresh = openVulnDb(task.db);
  t = performance.now();
  const statements = replay(fresh, recorded);
  const lookupColdMs = performance.now() - t;
  const lookupWarm: number[] = [];
  for (let i = 0; i < task.warmRuns; i++) {
    t = performance.now();
    replay(fresh, recorded);
    lookupWarm.push(performance.now() - t);
  }
  fresh.close();
  return {
    packages: inventory.packages.length,
    findings: first.findings.length,
    coldMs,
    warmMedianMs: median(warm),
    lookupColdMs,
    lookupWarmMedianMs: median(lookupWarm),
    lookupCalls: recorded.length,
    lookupNames: recorded.reduce((n, c) => n + c.names.length, 0),
    statements,
  };
}

async function rematch(task: Extract<WorkerTask, { kind: 'rematch' }>): Promise<Omit<RematchResult, 'peakRssKiB'>> {
  const files = readdirSync(task.dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => join(task.dir, n));
  let t = performance.now();
  let packages = 0;
  for (const f of files) packages += (JSON.parse(readFileSync(f, 'utf8')) as Inventory).packages.length;
  const readMs = performance.now() - t;
  const db = openVulnDb(task.db);
  let findings = 0;
  t = performance.now();
  for (const f of files) {
    const inventory = JSON.parse(readFileSync(f, 'utf8')) as Inventory;
    findings += (await matchInventory(inventory, db)).findings.length;
  }
  const totalMs = performance.now() - t;
  db.close();
  return { inventories: files.length, packages, findings, readMs, totalMs };
}

export interface SbomCliResult extends WorkerResultBase {
  ms: number;
  exitCode: number;
}

async function runTask(task: WorkerTask): Promise<object> {
  switch (task.kind) {
    case 'idle':
      return {};
    case 'inventory': {
      const t = performance.now();
      const [inv] = await inventoryReference({ reference: task.reference, cache: task.cacheDir, image: { platform: { os: 'linux', architecture: 'amd64' } } });
      const ms = performance.now() - t;
      if (inv === undefined) throw new Error('bench: no inventory');
      const byEcosystem: Record<string, number> = {};
      for (const p of inv.packages) byEcosystem[p.ecosystem] = (byEcosystem[p.ecosystem] ?? 0) + 1;
      return { ms, packages: inv.packages.length, byEcosystem, ...inv.stats } satisfies Omit<InventoryResult, 'peakRssKiB'>;
    }
    case 'layer-read':
      return layerRead(task);
    case 'db-build': {
      const t = performance.now();
      const summary = await importFeeds(task.paths, { target: task.target, keepOthers: false });
      const ms = performance.now() - t;
      return {
        ms,
        advisories: summary.build.advisories,
        affectedRows: summary.build.affectedRows,
        filesByFeed: summary.filesByFeed,
        unrecognized: summary.unrecognized.length,
        skipped: summary.build.built.reduce((n, f) => n + f.skipped, 0),
        dbBytes: statSync(task.target).size,
      } satisfies Omit<DbBuildResult, 'peakRssKiB'>;
    }
    case 'db-floor':
      return dbFloor(task);
    case 'match':
      return match(task);
    case 'rematch':
      return rematch(task);
    case 'sbom-cli': {
      const t = performance.now();
      const exitCode = await main(['sbom', ...task.args]);
      if (exitCode !== 0) throw new Error(`bench: portcullis sbom exited ${exitCode}`);
      return { ms: performance.now() - t, exitCode } satisfies Omit<SbomCliResult, 'peakRssKiB'>;
    }
  }
}

/** Parses a task argument (JSON) into a WorkerTask; throws on anything else. */
export function parseTask(arg: string | undefined): WorkerTask {
  if (arg === undefined) throw new Error('bench worker: missing task argument');
  const task = JSON.parse(arg) as WorkerTask;
  if (typeof task !== 'object' || task === null || typeof task.kind !== 'string') throw new Error('bench worker: task must be an object with a kind');
  return task;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const task = parseTask(process.argv[2]);
  const result = await runTask(task);
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ ...result, peakRssKiB: peakRssKiB() })}\n`);
}
