/**
 * Start-up and end-to-end CLI figures: the built CLI (bin/portcullis.js over the esbuild bundle) run
 * as a user runs it, whole process, against `node -e 0` (the floor of any Node CLI) and `gzip -dc`
 * of the same layer blob (the floor of reading it). The contenders run in turn, once each per round,
 * so drift in the machine's load reaches them all alike.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, type TestImage } from '../../test/harness/images.js';
import { median, timeCommand, warmPageCache } from './measure.js';
import type { Row } from './table.js';

const MB = 1e6;
const BIN = join(repoRoot, 'bin', 'portcullis.js');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return join(layout, 'blobs', alg as string, hex as string);
}

function writeBlob(layout: string, content: string): { digest: string; size: number } {
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  writeFileSync(blobPath(layout, digest), content);
  return { digest, size: Buffer.byteLength(content) };
}

/**
 * An OCI layout holding one image made of the test image's base layer only (the ~51 MB debootstrap
 * layer), so the CLI and `gzip -dc` read exactly the same blob. Returns its reference and blob.
 */
export function baseLayerImage(image: TestImage, dir: string): { reference: string; blob: string; storedBytes: number } {
  const index = JSON.parse(readFileSync(join(image.ociLayout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === image.ociTag);
  if (entry === undefined) throw new Error(`bench: ${image.ociLayout} has no tag ${image.ociTag}`);
  const manifest = JSON.parse(readFileSync(blobPath(image.ociLayout, entry.digest), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
  const config = JSON.parse(readFileSync(blobPath(image.ociLayout, manifest.config.digest), 'utf8')) as Record<string, unknown>;
  const [base] = manifest.layers;
  const baseFacts = image.layers[0];
  if (base === undefined || baseFacts === undefined) throw new Error(`bench: ${image.name} has no layers`);

  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  copyFileSync(blobPath(image.ociLayout, base.digest), blobPath(dir, base.digest));
  const { history: _history, ...rest } = config;
  const newConfig = writeBlob(dir, JSON.stringify({ ...rest, rootfs: { type: 'layers', diff_ids: [baseFacts.diffId] } }));
  const newManifest = writeBlob(dir, JSON.stringify({ ...manifest, config: { ...manifest.config, ...newConfig }, layers: [base] }));
  const newEntry: Descriptor = { mediaType: entry.mediaType, ...newManifest, annotations: { 'org.opencontainers.image.ref.name': 'base' } };
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [newEntry] }));
  return { reference: `oci:${dir}:base`, blob: blobPath(dir, base.digest), storedBytes: base.size };
}

/** Uncompressed size of a gzip blob, counted by gzip itself. */
function tarBytesOf(blob: string): number {
  const r = spawnSync('sh', ['-c', 'gzip -dc "$1" | wc -c', 'sh', blob], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: gzip -dc ${blob} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** The layer-read counters an inventory written by `portcullis sbom` reports. */
function readStats(file: string): { layersRead: number; layersFromCache: number; packages: number } {
  const inv = JSON.parse(readFileSync(file, 'utf8')) as { stats: { layersRead: number; layersFromCache: number }; packages: unknown[] };
  return { ...inv.stats, packages: inv.packages.length };
}

export interface StartupFigures {
  rows: Row[];
  commands: [string, string][];
}

/**
 * Builds the CLI bundle (so the figures are of the current source), then measures, `rounds` times
 * each and in turn: `node -e 0`, `portcullis --help`, `portcullis version compare`, `gzip -dc` of
 * the base layer, a cold `sbom` of it (empty layer cache, fresh process) and a warm one (cache filled).
 */
export function benchStartup(image: TestImage, tmp: string, rounds: number, log: (line: string) => void): StartupFigures {
  log('startup: building the CLI bundle (scripts/bundle.mjs)');
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`bench: scripts/bundle.mjs failed: ${build.stderr}`);

  const work = mkdtempSync(join(tmp, 'startup-'));
  const { reference, blob, storedBytes } = baseLayerImage(image, join(work, 'layout'));
  warmPageCache(blob);
  const tarBytes = tarBytesOf(blob);
  const node = process.execPath;
  const warmCache = join(work, 'warm-cache');
  const out = join(work, 'sbom.json');
  const sbom = (cacheDir: string): string[] => [BIN, 'sbom', reference, '--cache-dir', cacheDir, '-q'];
  timeCommand(node, sbom(warmCache), { stdoutTo: out }); // fills the warm cache

  const names = ['node', 'help', 'version', 'gzip', 'cold', 'warm'] as const;
  const wall = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<(typeof names)[number], number[]>;
  const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<(typeof names)[number], number[]>;
  const run = (name: (typeof names)[number], cmd: string, args: string[], stdoutTo?: string): void => {
    const t = timeCommand(cmd, args, stdoutTo === undefined ? {} : { stdoutTo });
    wall[name].push(t.ms);
    if (t.cpuMs !== undefined) cpu[name].push(t.cpuMs);
  };
  let cold = { layersRead: 0, layersFromCache: 0, packages: 0 };
  let warm = cold;
  for (let round = 0; round < rounds; round++) {
    log(`startup: round ${round + 1}/${rounds}`);
    run('node', node, ['-e', '0']);
    run('help', node, [BIN, '--help']);
    run('version', node, [BIN, 'version', 'compare', '--scheme', 'dpkg', '1.0', '1.0-1']);
    run('gzip', 'gzip', ['-dc', blob]);
    run('cold', node, sbom(join(work, `cold-cache-${round}`)), out);
    cold = readStats(out);
    run('warm', node, sbom(warmCache), out);
    warm = readStats(out);
  }
  const m = Object.fromEntries(names.map((n) => [n, median(wall[n])])) as Record<(typeof names)[number], number>;
  const c = Object.fromEntries(names.map((n) => [n, median(cpu[n])])) as Record<(typeof names)[number], number>;
  const section = 'S start-up';
  const floor = 'node -e 0';
  const each = `median of ${rounds}, contenders in turn`;
  const cpuNote = (n: (typeof names)[number], ref: (typeof names)[number]): string => `CPU (user+sys) ${Math.round(c[n])} ms vs ${Math.round(c[ref])} ms`;
  const rows: Row[] = [
    { section, what: '`portcullis --help`', ours: { value: m.help, unit: 'ms' }, refWhat: floor, ref: { value: m.node, unit: 'ms' }, better: 'lower', note: `aim < 150 ms; ${cpuNote('help', 'node')}; ${each}` },
    {
      section,
      what: '`portcullis version compare --scheme dpkg 1.0 1.0-1`',
      ours: { value: m.version, unit: 'ms' },
      refWhat: floor,
      ref: { value: m.node, unit: 'ms' },
      better: 'lower',
      note: `${cpuNote('version', 'node')}; ${each}`,
    },
    {
      section,
      what: `\`portcullis sbom\` of the ${image.name} base layer, warm (layer cache filled)`,
      ours: { value: m.warm, unit: 'ms' },
      refWhat: floor,
      ref: { value: m.node, unit: 'ms' },
      better: 'lower',
      note: `aim < 150 ms; ${cpuNote('warm', 'node')}; layers read ${warm.layersRead}, from cache ${warm.layersFromCache}; ${each}`,
    },
    {
      section,
      what: `\`portcullis sbom\` of the ${image.name} base layer, cold (empty layer cache, whole process)`,
      ours: { value: tarBytes / MB / (m.cold / 1000), unit: 'MB/s' },
      refWhat: 'gzip -dc, same blob',
      ref: { value: tarBytes / MB / (m.gzip / 1000), unit: 'MB/s' },
      better: 'higher',
      note: `aim >= 0.8x; wall ${Math.round(m.cold)} ms vs ${Math.round(m.gzip)} ms, ${cpuNote('cold', 'gzip')}; ${(storedBytes / MB).toFixed(0)} MB stored, ${(tarBytes / MB).toFixed(0)} MB of tar, ${cold.packages} packages, layers read ${cold.layersRead}; ${each}`,
    },
  ];
  return {
    rows,
    commands: [
      ['startup', `start-up: \`node bin/portcullis.js ...\` (the esbuild bundle \`npm run build\` makes, rebuilt at the start of the section), stdout to /dev/null, whole process under /usr/bin/time; the sbom reads an OCI layout holding only the ${image.name} base layer (a copy of its blob), cold with a fresh --cache-dir each run; references \`node -e 0\` and \`gzip -dc <that blob> > /dev/null\``],
    ],
  };
}
