/**
 * Benchmark section "rematch": the service's re-match of 10,000 stored inventories after a feed
 * change (issue 8's aim: under 20 s), on SQLite and on PostgreSQL (the harness's throwaway cluster).
 *
 * Setup (not timed): the real inventories of the two test images, varied into realistic
 * variants (packages dropped, versions moved back so matching finds more), each matched against
 * the DB built from the real feed samples; 10,000 manifests stored through the service's own store
 * calls (inventory + package index, a tag, the embedded scan result). Then the DB is rebuilt with
 * one added advisory (a DSA for libyaml, which only the `lang`-derived inventories hold, and not
 * all of them), so the build records which packages changed.
 *
 * Timed, each phase in its own process (its peak RSS is its own):
 * - re-match: `rematchStored` as the service runs it: the change record and the stored
 *   (ecosystem, package) index find the inventories to re-evaluate; the others are marked current;
 * - reference, same run: a full re-match of all 10,000 (what the engine did before the index: the
 *   same call with the change record hidden), and reading all 10,000 stored inventories with
 *   JSON.parse and the zod inventory schema (whose cost is reported on its own).
 *
 * Run as a child: `node --import tsx bench/rematch.ts '<json phase>'`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianDsaFeed } from '../src/feeds/debian/index.js';
import { parseInventory, type Inventory } from '../src/domain/inventory.js';
import { feedFiles, realFeedInputs } from '../src/matching/test-support/real-data.js';
import { EMBEDDED_BACKEND, packageKeys, severityCounts } from '../src/service/embedded-backend.js';
import { rematchStored } from '../src/service/rematch.js';
import { inventoryReference } from '../src/services/inventory-service.js';
import { reportFor } from '../src/services/scan-service.js';
import { CatalogStore } from '../src/store/catalog.js';
import { openStore, type StoreLocation } from '../src/store/open-store.js';
import { buildVulnDb, openVulnDb, type VulnDb } from '../src/vulndb/index.js';
import { testImages } from '../test/harness/images.js';
import { startPostgres } from '../test/harness/postgres.js';
import { RESULT_MARKER } from './lib/measure.js';
import { rng } from './lib/random.js';
import type { Row } from './lib/table.js';

/** The added advisory: bookworm's libyaml fixed above the 0.2.5-1 the lang image holds (CVE-2024-35325 is a libyaml CVE). */
const LIBYAML_DSA = '[07 Dec 2026] DSA-9992-1 libyaml - security update\n\t{CVE-2024-35325}\n\t[bookworm] - libyaml 0.2.5-1+deb12u1\n';
const CHANGED_SOURCE = 'libyaml';

type Phase =
  | { phase: 'prepare'; location: StoreLocation; dir: string; count: number; variants: number }
  | { phase: 'rematch'; location: StoreLocation; dir: string; full: boolean }
  | { phase: 'read'; location: StoreLocation; dir: string };

interface PrepareResult {
  stored: number;
  holders: number;
  packages: number;
}
interface RematchPhaseResult {
  ms: number;
  rematched: number;
  untouched: number;
  failures: number;
  changed: number;
  peakRssKiB: number;
}
interface ReadPhaseResult {
  inventories: number;
  readMs: number;
  jsonMs: number;
  zodMs: number;
  peakRssKiB: number;
}

const here = fileURLToPath(import.meta.url);
const platform = { os: 'linux', architecture: 'amd64' } as const;

function peakRssKiB(): number {
  return process.resourceUsage().maxRSS;
}

/** The last number in a version moved one down (`+deb12u15` -> `+deb12u14`); the version itself when it has none above 0. */
function olderVersion(version: string): string {
  const m = /(\d+)(\D*)$/.exec(version);
  if (m?.[1] === undefined || Number(m[1]) === 0) return version;
  return `${version.slice(0, m.index)}${Number(m[1]) - 1}${m[2] ?? ''}`;
}

/** A variant of a real inventory: some packages dropped, some versions moved back; the changed package kept or dropped as `keepChanged` says. */
function variant(base: Inventory, seed: number, keepChanged: boolean): Inventory {
  const r = rng(seed);
  const packages = base.packages.flatMap((p) => {
    const source = p.sourceName ?? p.name;
    if (source === CHANGED_SOURCE) return keepChanged ? [p] : [];
    if (r.chance(0.15)) return [];
    if (!r.chance(0.3)) return [p];
    const version = olderVersion(p.version);
    return [{ ...p, version, purl: p.purl.replace(encodeURIComponent(p.version), encodeURIComponent(version)) }];
  });
  return { ...base, packages };
}

async function prepare(task: Extract<Phase, { phase: 'prepare' }>): Promise<PrepareResult> {
  const bases = JSON.parse(readFileSync(join(task.dir, 'bases.json'), 'utf8')) as { minbase: Inventory; lang: Inventory };
  const db = openVulnDb(join(task.dir, 'db1.db'));
  // Variants: 70 % from minbase, 30 % from lang, and half of those keep libyaml.
  const variants: { inventory: Inventory; report: unknown; counts: Record<string, number>; holds: boolean }[] = [];
  for (let v = 0; v < task.variants; v++) {
    const fromLang = v % 10 >= 7;
    const holds = fromLang && v % 2 === 0;
    const inventory = variant(fromLang ? bases.lang : bases.minbase, 1000 + v, holds);
    const { report, warnings } = await reportFor(inventory, db);
    const { inventory: _stored, ...rest } = report;
    variants.push({ inventory, report: { ...rest, warnings }, counts: severityCounts(report.findings), holds });
  }
  const store = await openStore(task.location);
  const catalog = new CatalogStore(store);
  let holders = 0;
  let packages = 0;
  try {
    for (let i = 0; i < task.count; i++) {
      const v = variants[i % variants.length] as (typeof variants)[number];
      const digest = `sha256:${createHash('sha256').update(`bench-inventory-${i}`).digest('hex')}`;
      const repository = `bench/app-${Math.floor(i / 4)}`;
      const inventory: Inventory = { ...v.inventory, image: { ...v.inventory.image, reference: `registry.local/${repository}@${digest}`, manifestDigest: digest, repository, tag: `v${i % 4}` } };
      await catalog.upsertRepository(repository);
      await catalog.recordManifest({ digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 1000 });
      await catalog.setTag(repository, `v${i % 4}`, digest);
      await catalog.saveInventory(digest, inventory.schemaVersion, JSON.stringify(inventory), packageKeys(inventory));
      await catalog.queueScan(digest, EMBEDDED_BACKEND);
      await catalog.finishScan(digest, EMBEDDED_BACKEND, v.report, v.counts, db.builtAt);
      if (v.holds) holders++;
      packages += inventory.packages.length;
    }
  } finally {
    await store.close();
    db.close();
  }
  return { stored: task.count, holders, packages };
}

async function rematch(task: Extract<Phase, { phase: 'rematch' }>): Promise<RematchPhaseResult> {
  const opened = openVulnDb(join(task.dir, 'db2.db'));
  // The reference hides the change record (both ways the engine may read it): every stale result
  // is re-matched, as before the index.
  const db: VulnDb = task.full ? { ...opened, changes: () => undefined, changeRecord: () => Promise.resolve(undefined) } : opened;
  const store = await openStore(task.location);
  try {
    const started = performance.now();
    const summary = await rematchStored(new CatalogStore(store), db);
    const ms = performance.now() - started;
    return { ms, rematched: summary.rematched, untouched: summary.untouched, failures: summary.failures.length, changed: summary.diffs.length, peakRssKiB: peakRssKiB() };
  } finally {
    await store.close();
    opened.close();
  }
}

async function readAll(task: Extract<Phase, { phase: 'read' }>): Promise<ReadPhaseResult> {
  const store = await openStore(task.location);
  const catalog = new CatalogStore(store);
  try {
    const digests = (await catalog.scannedBy(EMBEDDED_BACKEND)).map((s) => s.digest);
    let readMs = 0;
    let jsonMs = 0;
    let zodMs = 0;
    for (const digest of digests) {
      let t = performance.now();
      const stored = await catalog.inventory(digest);
      readMs += performance.now() - t;
      if (stored === undefined) throw new Error(`no inventory for ${digest}`);
      t = performance.now();
      const json = JSON.parse(stored.json) as unknown;
      jsonMs += performance.now() - t;
      t = performance.now();
      parseInventory(json, digest);
      zodMs += performance.now() - t;
    }
    return { inventories: digests.length, readMs, jsonMs, zodMs, peakRssKiB: peakRssKiB() };
  } finally {
    await store.close();
  }
}

function runPhase<T>(task: Phase): T {
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, JSON.stringify(task)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60 * 1000 });
  const line = (r.stdout ?? '')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (r.status !== 0 || line === undefined) throw new Error(`bench rematch: phase ${task.phase} failed (exit ${String(r.status)}): ${(r.stderr ?? '').slice(-3000)}`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

/** Builds DB1 from the real feed samples and DB2 = DB1 + the libyaml DSA at the same path (so DB2 records what changed); returns their paths in `dir`. */
async function buildDbs(dir: string): Promise<void> {
  const target = join(dir, 'vuln.db');
  const realDsa = feedFiles('debian', 'DSA-list');
  const inputs = (dsa: typeof realDsa) => realFeedInputs().map((i) => (i.feed === debianDsaFeed ? { ...i, files: dsa } : i));
  const at1 = '2026-12-01T00:00:00.000Z';
  await buildVulnDb(target, inputs(realDsa).map((i) => ({ ...i, source: 'bench:shared/data/feeds', fetchedAt: at1 })), { now: () => new Date(at1) });
  copyFileSync(target, join(dir, 'db1.db'));
  const withChange = realDsa.map((f) => ({ ...f, bytes: Buffer.concat([Buffer.from(LIBYAML_DSA), f.bytes]) }));
  const at2 = '2026-12-02T00:00:00.000Z';
  await buildVulnDb(target, inputs(withChange).map((i) => ({ ...i, source: 'bench:shared/data/feeds', fetchedAt: at2 })), { now: () => new Date(at2) });
  copyFileSync(target, join(dir, 'db2.db'));
}

/** Measures the section and appends its rows. */
export async function benchRematch(target: { rows: Row[]; quick: boolean; tmp: string; log: (line: string) => void; dialects?: readonly ('sqlite' | 'postgres')[] }): Promise<void> {
  const count = target.quick ? 300 : 10_000;
  const variants = target.quick ? 30 : 200;
  const dir = mkdtempSync(join(target.tmp, 'rematch-'));
  try {
    target.log(`rematch: inventories of the test images, and the two vulnerability DBs`);
    const bases: Record<string, Inventory> = {};
    for (const [name, image] of Object.entries(testImages().images)) {
      const [inventory] = await inventoryReference({ reference: image.ociReference, cache: false, image: { platform } });
      if (inventory === undefined) throw new Error(`no inventory for ${name}`);
      bases[name] = inventory;
    }
    writeFileSync(join(dir, 'bases.json'), JSON.stringify(bases));
    await buildDbs(dir);
    const changes = openVulnDb(join(dir, 'db2.db'));
    const changed = changes.changes()?.packages.map((p) => `${p.ecosystem}/${p.key}`).join(', ') ?? 'none recorded';
    changes.close();

    for (const dialect of target.dialects ?? (['sqlite', 'postgres'] as const)) {
      const pg = dialect === 'postgres' ? await startPostgres() : undefined;
      try {
        const location: StoreLocation = pg ? { kind: 'postgres', url: await pg.createDatabase('bench_rematch') } : { kind: 'sqlite', file: join(dir, 'app.db') };
        const label = dialect === 'postgres' ? 'PostgreSQL 15' : 'SQLite';
        mkdirSync(dir, { recursive: true });
        target.log(`rematch (${label}): storing ${count.toLocaleString('en-US')} inventories (${variants} variants of the test images' inventories; not timed)`);
        const prepared = runPhase<PrepareResult>({ phase: 'prepare', location, dir, count, variants });
        target.log(`rematch (${label}): re-match after the feed change (${changed})`);
        const indexed = runPhase<RematchPhaseResult>({ phase: 'rematch', location, dir, full: false });
        if (indexed.failures > 0) throw new Error(`${indexed.failures} inventories failed to re-match`);
        target.log(`rematch (${label}): reading every stored inventory`);
        const read = runPhase<ReadPhaseResult>({ phase: 'read', location, dir });
        // Back to "matched against DB1" for every result, then the full re-match of all of them.
        const store = await openStore(location);
        await store.db.updateTable('scans').set({ matched_db: '2026-12-01T00:00:00.000Z' }).where('backend', '=', EMBEDDED_BACKEND).execute();
        await store.close();
        target.log(`rematch (${label}): full re-match of all ${count.toLocaleString('en-US')} (reference)`);
        const full = runPhase<RematchPhaseResult>({ phase: 'rematch', location, dir, full: true });

        const n = count.toLocaleString('en-US');
        const section = `II.7 re-match (${label})`;
        target.rows.push({
          section,
          what: `${n} stored inventories (${prepared.packages.toLocaleString('en-US')} packages) after one added advisory (${changed}): re-match through the change record and package index`,
          ours: { value: indexed.ms, unit: 'ms' },
          refWhat: `full re-match of all ${n} (no index, as before), same run`,
          ref: { value: full.ms, unit: 'ms' },
          better: 'lower',
          note: `${indexed.rematched.toLocaleString('en-US')} of ${n} re-evaluated (${prepared.holders.toLocaleString('en-US')} hold ${CHANGED_SOURCE}), ${indexed.untouched.toLocaleString('en-US')} marked current, ${indexed.changed.toLocaleString('en-US')} with changed findings; full: ${(full.ms / count).toFixed(1)} ms per inventory`,
        });
        target.rows.push({
          section,
          what: `${n} stored inventories: re-match vs only reading them`,
          ours: { value: indexed.ms, unit: 'ms' },
          refWhat: `reading + JSON.parse + zod schema of all ${n}`,
          ref: { value: read.readMs + read.jsonMs + read.zodMs, unit: 'ms' },
          better: 'lower',
          note: `read ${read.readMs.toFixed(0)} ms, JSON.parse ${read.jsonMs.toFixed(0)} ms, zod ${read.zodMs.toFixed(0)} ms (${((read.zodMs / read.inventories) * 1000).toFixed(0)} µs per inventory)`,
        });
        target.rows.push({
          section,
          what: `zod inventory schema over all ${n} stored inventories`,
          ours: { value: read.zodMs, unit: 'ms' },
          refWhat: 'JSON.parse of the same texts',
          ref: { value: read.jsonMs, unit: 'ms' },
          better: 'lower',
        });
        target.rows.push({
          section,
          what: `re-match of ${n}: peak RSS`,
          ours: { value: indexed.peakRssKiB / 1024, unit: 'MiB' },
          refWhat: 'the full re-match process',
          ref: { value: full.peakRssKiB / 1024, unit: 'MiB' },
          better: 'lower',
        });
      } finally {
        await pg?.stop();
        rmSync(join(dir, 'app.db'), { force: true });
        rmSync(join(dir, 'app.db-wal'), { force: true });
        rmSync(join(dir, 'app.db-shm'), { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === here && process.argv[2] !== undefined) {
  const task = JSON.parse(process.argv[2]) as Phase;
  const result = task.phase === 'prepare' ? await prepare(task) : task.phase === 'rematch' ? await rematch(task) : await readAll(task);
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}
