/**
 * NuGet end to end: a real OCI image with the layout `dotnet publish` leaves in a runtime image
 * (`app/<App>.dll`, `<App>.deps.json`, `<App>.runtimeconfig.json`) and a build stage's global
 * packages folder (`root/.nuget/packages/<id>/<version>/<id>.nuspec`), scanned by `portcullis scan`
 * against a DB built by `db import` from NuGet advisories in the OSV schema. The shared corpus holds
 * no NuGet records: they are written from OSV's schema in src/ecosystems/nuget/testdata/osv-records.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../src/domain/finding.js';
import { NUGET_OSV_RECORDS } from '../../src/ecosystems/nuget/testdata/osv-records.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { writeTinyLayout } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';

interface JsonReport {
  report: { findings: Finding[]; packageCount: number };
}

// What `dotnet publish -c Release` (net8.0, framework-dependent) writes for an app with two package references.
const DEPS_JSON = JSON.stringify(
  {
    runtimeTarget: { name: '.NETCoreApp,Version=v8.0', signature: '' },
    compilationOptions: {},
    targets: {
      '.NETCoreApp,Version=v8.0': {
        'ShopApi/1.0.0': { dependencies: { 'Newtonsoft.Json': '12.0.3', 'Serilog': '3.1.1' }, runtime: { 'ShopApi.dll': {} } },
        'Newtonsoft.Json/12.0.3': { runtime: { 'lib/netstandard2.0/Newtonsoft.Json.dll': { assemblyVersion: '12.0.0.0', fileVersion: '12.0.3.23909' } } },
        'Serilog/3.1.1': { runtime: { 'lib/net7.0/Serilog.dll': { assemblyVersion: '2.0.0.0', fileVersion: '3.1.1.0' } } },
      },
    },
    libraries: {
      'ShopApi/1.0.0': { type: 'project', serviceable: false, sha512: '' },
      'Newtonsoft.Json/12.0.3': { type: 'package', serviceable: true, sha512: 'sha512-jRdPOLIPcYiBBu4nt6BVRdrZ6V9gRtqrE5NVdBXeMF5ZHoCfI0P3NZuZ5R7GeB1rmIy4tPmzJAhLL+hu1g7UeA==', path: 'newtonsoft.json/12.0.3', hashPath: 'newtonsoft.json.12.0.3.nupkg.sha512' },
      'Serilog/3.1.1': { type: 'package', serviceable: true, sha512: 'sha512-P6G4/4Kt9bT635bhuwdXlJ2SCqqn2nhh4gqFqQueCOr9bK/e7W9ll/IoX1Ter948cV2Z/5+5v8pAfJYUISY03A==', path: 'serilog/3.1.1', hashPath: 'serilog.3.1.1.nupkg.sha512' },
    },
  },
  null,
  2,
);

const RUNTIME_CONFIG = JSON.stringify({ runtimeOptions: { tfm: 'net8.0', framework: { name: 'Microsoft.NETCore.App', version: '8.0.0' } } }, null, 2);

const NUSPEC = `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>System.Text.Encodings.Web</id>
    <version>4.5.0</version>
    <authors>Microsoft</authors>
  </metadata>
</package>
`;

describe('portcullis scan: NuGet packages of a .NET image', () => {
  let dir: string;
  let db: string;
  let image: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-nuget-'));
    const feeds = join(dir, 'feeds', 'osv', 'NuGet');
    await mkdir(feeds, { recursive: true });
    for (const record of NUGET_OSV_RECORDS) await writeFile(join(feeds, `${record.id}.json`), JSON.stringify(record));
    db = join(dir, 'vuln.db');
    await importFeeds([join(dir, 'feeds')], { target: db });
    const layout = join(dir, 'layout');
    await writeTinyLayout(layout, {
      layers: [
        [{ path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }],
        [
          { path: 'app/ShopApi.dll', content: Buffer.from('MZ\x90\x00not really an assembly') },
          { path: 'app/ShopApi.deps.json', content: DEPS_JSON },
          { path: 'app/ShopApi.runtimeconfig.json', content: RUNTIME_CONFIG },
        ],
        [{ path: 'root/.nuget/packages/system.text.encodings.web/4.5.0/system.text.encodings.web.nuspec', content: NUSPEC }],
      ],
    });
    image = `oci:${layout}:latest`;
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('finds the NuGet advisories of the deps.json and nuspec packages, not the fixed or unaffected ones', async () => {
    const res = await runCli(['scan', image, '--db', db, '--no-cache', '--offline', '--max-db-age', '36500d', '--format', 'json']);
    assert.equal(res.code, 1, res.stderr);
    const doc = JSON.parse(res.stdout) as JsonReport;
    const found = doc.report.findings.map((f) => `${f.package.purl} ${f.id} ${f.package.path} layer ${f.package.layerIndex}`).sort();
    assert.deepEqual(found, [
      'pkg:nuget/Newtonsoft.Json@12.0.3 GHSA-5crp-9r3c-p9vr app/ShopApi.deps.json layer 1',
      'pkg:nuget/System.Text.Encodings.Web@4.5.0 GHSA-7jgj-8wvc-jh57 root/.nuget/packages/system.text.encodings.web/4.5.0/system.text.encodings.web.nuspec layer 2',
    ]);
    const newtonsoft = doc.report.findings.find((f) => f.id === 'GHSA-5crp-9r3c-p9vr');
    assert.deepEqual(newtonsoft?.fixedVersions, ['13.0.1']);
    assert.equal(newtonsoft?.namespace, 'NuGet');
  });

  test('the inventory (`sbom`, default format) lists every NuGet package with its purl', async () => {
    const res = await runCli(['sbom', image, '--no-cache']);
    assert.equal(res.code, 0, res.stderr);
    const inventory = JSON.parse(res.stdout) as { packages: { ecosystem: string; purl: string }[] };
    const purls = inventory.packages.filter((p) => p.ecosystem === 'nuget').map((p) => p.purl);
    assert.deepEqual(purls.sort(), ['pkg:nuget/Newtonsoft.Json@12.0.3', 'pkg:nuget/Serilog@3.1.1', 'pkg:nuget/System.Text.Encodings.Web@4.5.0']);
  });
});
