/**
 * The CLI as users run it: bin/portcullis.js loading the esbuild bundle in dist/ (what `npm run
 * build`, hence `npm ci`, produces), next to the same commands run from source. The bundle must
 * behave as the source does, find the native addons it leaves outside (better-sqlite3, zstd-napi)
 * at run time, and start without loading any engine code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build as buildUi } from 'vite';
import { testImages } from '../harness/images.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { repoRoot, sharedData } from '../support/shared-data.js';

const { minbase, lang } = testImages().images;

/** Runs bin/portcullis.js (the built CLI) as a user's shell would. */
function runBuilt(args: string[]): Promise<CliResult> {
  return runCli(args, { built: true });
}

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

/** Every source file in the chunks `output` loads before it runs (static imports, transitively). */
function staticallyLoadedInputs(meta: Metafile, output: string): string[] {
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const out = meta.outputs[path];
    if (out === undefined) {
      inputs.add(path); // an external module, loaded from node_modules
      return;
    }
    for (const input of Object.keys(out.inputs)) inputs.add(input);
    for (const imp of out.imports) if (imp.kind === 'import-statement') visit(imp.path);
  };
  visit(output);
  return [...inputs].sort();
}

describe('the built CLI (bin/portcullis.js over the esbuild bundle)', () => {
  let work: string | undefined;
  let meta: Metafile;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-built-cli-'));
    const metaFile = join(work, 'meta.json');
    // The bundling half of `npm run build` (the other half is tsc's type check, which `npm run lint` also runs).
    const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), '--metafile', metaFile], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(build.status, 0, `scripts/bundle.mjs failed: ${build.stderr}`);
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Metafile;
  });
  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('--help lists the commands; bare portcullis shows the same help as an error', async () => {
    const help = await runBuilt(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const cmd of ['sbom', 'scan', 'version', 'db']) assert.match(help.stdout, new RegExp(`^ {2}${cmd} `, 'm'));
    const bare = await runBuilt([]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stderr, help.stdout);
    const version = await runBuilt(['--version']);
    assert.equal(version.stdout, `${(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  test('start-up loads the command-line shell only: engine code waits for the command that needs it', () => {
    const loaded = staticallyLoadedInputs(meta, 'dist/cli/main.js');
    assert.ok(loaded.includes('src/cli/main.ts') && loaded.includes('src/cli/commands/scan.ts'), loaded.join('\n'));
    const engine = loaded.filter((p) => /^src\/(services|feeds|layers|detectors|matching\/(?!os-owned)|image\/registry|policy|sbom|vulndb\/(?!describe)|report\/(?!format-ids))|node_modules\/(undici|zod|better-sqlite3|yaml|@cyclonedx|semver)\//.test(p));
    assert.deepEqual(engine, [], 'modules loaded before any command runs');
  });

  test('version compare', async () => {
    const res = await runBuilt(['version', 'compare', '--scheme', 'dpkg', '1.0', '1.0-1']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '-1\n');
  });

  test('sbom of a real image: the same inventory and CycloneDX SBOM as from source; zstd layers through the native addon', async () => {
    const args = ['sbom', minbase.ociReference, '--no-cache', '-q'];
    const [built, fromSource] = await Promise.all([runBuilt(args), runCli(args)]);
    assert.equal(built.code, 0, built.stderr);
    assert.equal(fromSource.code, 0, fromSource.stderr);
    type Inventory = { packages: unknown[]; layers: unknown[]; distro: unknown };
    const [a, b] = [JSON.parse(built.stdout) as Inventory, JSON.parse(fromSource.stdout) as Inventory];
    assert.ok(a.packages.length > 100, `${a.packages.length} packages`);
    assert.deepEqual({ packages: a.packages, layers: a.layers, distro: a.distro }, { packages: b.packages, layers: b.layers, distro: b.distro });

    const cdxArgs = [...args, '--format', 'cyclonedx'];
    const [cdx, cdxFromSource] = await Promise.all([runBuilt(cdxArgs), runCli(cdxArgs)]);
    assert.equal(cdx.code, 0, cdx.stderr);
    type Bom = { bomFormat: string; specVersion: string; components: unknown[]; dependencies: unknown[] };
    const [bom, bomFromSource] = [JSON.parse(cdx.stdout) as Bom, JSON.parse(cdxFromSource.stdout) as Bom];
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.6');
    assert.ok(bom.components.length >= a.packages.length);
    assert.deepEqual({ components: bom.components, dependencies: bom.dependencies }, { components: bomFromSource.components, dependencies: bomFromSource.dependencies });

    // decompress.ts loads the addon with createRequire(import.meta.url): from dist/chunks/ it must resolve.
    assert.ok(createRequire(join(repoRoot, 'dist', 'chunks', 'any.js')).resolve('zstd-napi/binding.js'));
    const zstd = await runBuilt(['sbom', minbase.zstdReference, '--no-cache', '-q']);
    assert.equal(zstd.code, 0, zstd.stderr);
    assert.deepEqual((JSON.parse(zstd.stdout) as Inventory).packages.length, a.packages.length);
  });

  test('output into a pipe whose reader leaves early (`sbom IMAGE | head`): exit 141 as for SIGPIPE, no error text, no crash', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'portcullis.js'), 'sbom', '--quiet', `docker-archive:${lang.dockerArchive}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // Like `| head -0`: the read end is closed before the first write, so the outcome does not
    // depend on how much of the output fits in the pipe's buffer.
    child.stdout.destroy();
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, null);
    assert.equal(stderr, '');
    assert.equal(code, 141);
  });

  test('parsers loaded on first use (YAML, TOML, SQLite) load from the bundle too: pnpm, Cargo and rpm databases', async () => {
    assert.ok(work);
    const root = join(work, 'rootfs');
    mkdirSync(join(root, 'app'), { recursive: true });
    mkdirSync(join(root, 'srv'), { recursive: true });
    mkdirSync(join(root, 'var', 'lib', 'rpm'), { recursive: true });
    writeFileSync(join(root, 'app', 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: sha512-x}\n");
    copyFileSync(join(repoRoot, 'src', 'ecosystems', 'cargo', 'testdata', 'Cargo.lock'), join(root, 'srv', 'Cargo.lock'));
    copyFileSync(sharedData('pkgdb', 'rpm', 'cbl-mariner-2.0', 'rpmdb.sqlite'), join(root, 'var', 'lib', 'rpm', 'rpmdb.sqlite'));
    const args = ['sbom', `dir:${root}`, '--no-cache', '-q'];
    const [built, fromSource] = await Promise.all([runBuilt(args), runCli(args)]);
    assert.equal(built.code, 0, built.stderr);
    type Inventory = { packages: { ecosystem: string; name: string; version: string }[]; warnings: unknown[] };
    const inv = JSON.parse(built.stdout) as Inventory;
    const ecosystems = new Set(inv.packages.map((p) => p.ecosystem));
    for (const e of ['npm', 'cargo', 'rpm']) assert.ok(ecosystems.has(e), `${e} packages found: ${[...ecosystems].join(', ')}`);
    assert.deepEqual(inv.warnings, []);
    assert.deepEqual(inv.packages, (JSON.parse(fromSource.stdout) as Inventory).packages);
  });

  test('serve with no config: the web UI at / and its assets from dist/ui, the API behind auth, health public', async () => {
    assert.ok(work);
    // npm run build writes dist/ui; a tree built without it gets it here.
    if (!existsSync(join(repoRoot, 'dist', 'ui', 'index.html'))) await buildUi({ configFile: join(repoRoot, 'ui', 'vite.config.ts'), logLevel: 'warn' });
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'portcullis.js'), 'serve', '--listen', '127.0.0.1:0'], {
      cwd: work,
      env: { ...process.env, PORTCULLIS_DATA_DIR: join(work, 'serve-data'), PORTCULLIS_DB: join(work, 'serve-absent.db'), PORTCULLIS_UI_DIR: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while (url === undefined) {
        url = /listening on (http:\/\/[^\s"]+)/.exec(stderr)?.[1];
        if (child.exitCode !== null || Date.now() > deadline) assert.fail(`serve did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const page = await fetch(`${url}/repositories/team/app`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)">/.exec(html)?.[1];
      assert.ok(script, `the page loads its script from /assets/: ${html}`);
      const asset = await fetch(`${url}${script}`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      assert.equal((await fetch(`${url}/api/v1/repositories`)).status, 401);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  test('db import and scan (SQLite through the external better-sqlite3): the same findings as from source', async () => {
    assert.ok(work);
    const db = join(work, 'vuln.db');
    const imported = await runBuilt(['db', 'import', sharedData('feeds', 'osv'), '--db', db]);
    assert.equal(imported.code, 0, imported.stderr);
    const args = ['scan', lang.ociReference, '--format', 'json', '--db', db, '--offline', '--max-db-age', '36500d', '--no-cache', '--platform', 'linux/amd64'];
    const [built, fromSource] = await Promise.all([runBuilt(args), runCli(args)]);
    assert.equal(built.code, 1, `unapproved findings: exit 1; ${built.stderr}`);
    assert.equal(fromSource.code, 1, fromSource.stderr);
    type Report = { report: { findings: { id: string; package: { name: string } }[] } };
    const findings = (r: CliResult): string[] => (JSON.parse(r.stdout) as Report).report.findings.map((f) => `${f.package.name} ${f.id}`).sort();
    assert.ok(findings(built).length > 0);
    assert.deepEqual(findings(built), findings(fromSource));
  });
});
