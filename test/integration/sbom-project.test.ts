/**
 * The lockfile's root project in the SBOM, end to end through the real CLI on the lang test image:
 * /app (package.json + package-lock.json v3, installed by npm) is an application component whose
 * dependsOn are its direct dependencies, as `npm ls` on the image shows them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImages } from '../harness/images.js';
import { runCli } from '../support/run-cli.js';
import { assertValidCycloneDx } from '../support/schemas.js';

type Json = Record<string, unknown>;
const lang = testImages().images.lang;

describe('sbom: the lockfile root project', () => {
  let dir: string;
  let bom: { components: Json[]; dependencies: { ref: string; dependsOn?: string[] }[] };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-project-'));
    const file = join(dir, 'lang.cdx.json');
    const res = await runCli(['sbom', lang.ociReference, '--format', 'cyclonedx', '--output', file, '--platform', 'linux/amd64', '--no-cache']);
    assert.equal(res.code, 0, res.stderr);
    bom = JSON.parse(await readFile(file, 'utf8')) as typeof bom;
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('is an application component with the name and version npm ls gives, depending on its direct dependencies', async () => {
    await assertValidCycloneDx(bom);
    const npmLs = JSON.parse(await readFile(lang.oracles.npmLs ?? '', 'utf8')) as { name: string; version: string; dependencies: Record<string, { version: string }> };
    const apps = bom.components.filter((c) => c.type === 'application');
    assert.deepEqual(apps.map((c) => [c.name, c.version, c.purl]), [[npmLs.name, npmLs.version, `pkg:npm/${npmLs.name}@${npmLs.version}`]]);
    const app = apps[0] as Json;
    const refs = bom.dependencies.find((d) => d.ref === app['bom-ref'])?.dependsOn ?? [];
    const byRef = new Map(bom.components.map((c) => [c['bom-ref'], c]));
    const direct = refs.map((ref) => {
      const c = byRef.get(ref);
      const path = ((c?.properties ?? []) as { name: string; value: string }[]).find((p) => p.name === 'portcullis:path')?.value;
      return `${String(c?.name)}@${String(c?.version)} ${String(path)}`;
    });
    const expected = Object.entries(npmLs.dependencies).map(([name, d]) => `${name}@${d.version} app/node_modules/${name}/package.json`);
    assert.deepEqual(direct.sort(), expected.sort());
  });

  test('the project is not a package: packages stay those of the image', () => {
    const libs = bom.components.filter((c) => c.type === 'library');
    assert.ok(!libs.some((c) => c.name === 'portcullis-test-app'));
  });
});
