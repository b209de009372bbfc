import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PortcullisError } from '../../domain/errors.js';
import { osvFeed } from '../../feeds/osv/index.js';
import { matchInventory } from '../../matching/matcher.js';
import { memorySource } from '../../matching/test-support/memory-source.js';
import { inventoryOf } from '../../matching/test-support/real-data.js';
import { languagePurl } from '../purl.js';
import { nugetDepsJsonDetector, nugetNuspecDetector, nugetPackagesLockDetector, parseDepsJson, parseNuspec, parsePackagesLock } from './detectors.js';
import { NUGET_OSV_RECORDS } from './testdata/osv-records.js';

// The layout `dotnet publish` writes for a framework-dependent application (net8.0).
const DEPS_JSON = JSON.stringify({
  runtimeTarget: { name: '.NETCoreApp,Version=v8.0', signature: '' },
  compilationOptions: {},
  targets: {
    '.NETCoreApp,Version=v8.0': {
      'ShopApi/1.0.0': { dependencies: { 'Newtonsoft.Json': '12.0.3', 'System.Text.Encodings.Web': '4.5.0' }, runtime: { 'ShopApi.dll': {} } },
      'Newtonsoft.Json/12.0.3': { runtime: { 'lib/netstandard2.0/Newtonsoft.Json.dll': { assemblyVersion: '12.0.0.0', fileVersion: '12.0.3.23909' } } },
      'System.Text.Encodings.Web/4.5.0': { runtime: { 'lib/netstandard2.0/System.Text.Encodings.Web.dll': { assemblyVersion: '4.0.3.0', fileVersion: '4.6.26515.6' } } },
      'Shop.Domain/1.0.0': { runtime: { 'Shop.Domain.dll': {} } },
    },
  },
  libraries: {
    'ShopApi/1.0.0': { type: 'project', serviceable: false, sha512: '' },
    'Newtonsoft.Json/12.0.3': { type: 'package', serviceable: true, sha512: 'sha512-jRdPOLIPcYiBBu4nt6BVRdrZ6V9gRtqrE5NVdBXeMF5ZHoCfI0P3NZuZ5R7GeB1rmIy4tPmzJAhLL+hu1g7UeA==', path: 'newtonsoft.json/12.0.3', hashPath: 'newtonsoft.json.12.0.3.nupkg.sha512' },
    'System.Text.Encodings.Web/4.5.0': { type: 'package', serviceable: true, sha512: 'sha512-Xg4G4Indi4dqP1iuAiMSwpiWS54ZghzR644OtsRCm/m/lBMG8dUBhLVN7hLm8NNrNTR+iGbshCPTwrvxZPlm4g==', path: 'system.text.encodings.web/4.5.0', hashPath: 'system.text.encodings.web.4.5.0.nupkg.sha512' },
    'Shop.Domain/1.0.0': { type: 'project', serviceable: false, sha512: '' },
  },
});

// `dotnet restore --use-lock-file` for a project targeting two frameworks.
const PACKAGES_LOCK = JSON.stringify({
  version: 1,
  dependencies: {
    'net6.0': {
      'Newtonsoft.Json': { type: 'Direct', requested: '[12.0.3, )', resolved: '12.0.3', contentHash: 'abc=' },
      'Microsoft.Extensions.Logging.Abstractions': { type: 'Transitive', resolved: '6.0.0', contentHash: 'def=' },
      'Shop.Domain': { type: 'Project', dependencies: { 'Newtonsoft.Json': '[12.0.3, )' } },
    },
    'net8.0': {
      'Newtonsoft.Json': { type: 'Direct', requested: '[12.0.3, )', resolved: '12.0.3', contentHash: 'abc=' },
      'Microsoft.Extensions.Logging.Abstractions': { type: 'Transitive', resolved: '8.0.0', contentHash: 'ghi=' },
    },
  },
});

const NUSPEC = `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata minClientVersion="2.12">
    <id>Newtonsoft.Json</id>
    <version>12.0.3</version>
    <title>Json.NET</title>
    <authors>James Newton-King</authors>
    <license type="expression">MIT</license>
  </metadata>
</package>`;

describe('nuget detectors', () => {
  test('deps.json: the libraries of type package', async () => {
    const out = parseDepsJson('app/ShopApi.deps.json', DEPS_JSON);
    assert.deepEqual(out.packages?.map((p) => [p.ecosystem, p.name, p.version]), [
      ['nuget', 'Newtonsoft.Json', '12.0.3'],
      ['nuget', 'System.Text.Encodings.Web', '4.5.0'],
    ]);
    assert.equal(out.packages?.[0]?.path, 'app/ShopApi.deps.json');
  });

  test('packages.lock.json: resolved packages once per name and version; projects left out', async () => {
    const out = parsePackagesLock('src/Shop/packages.lock.json', PACKAGES_LOCK);
    assert.deepEqual(out.packages?.map((p) => `${p.name}@${p.version}`), ['Newtonsoft.Json@12.0.3', 'Microsoft.Extensions.Logging.Abstractions@6.0.0', 'Microsoft.Extensions.Logging.Abstractions@8.0.0']);
  });

  test('nuspec: package metadata id and version', async () => {
    const out = parseNuspec('root/.nuget/packages/newtonsoft.json/12.0.3/newtonsoft.json.nuspec', NUSPEC);
    assert.deepEqual(out.packages?.map((p) => `${p.name}@${p.version}`), ['Newtonsoft.Json@12.0.3']);
  });

  test('files that are not what their name says are input errors, not crashes', async () => {
    assert.throws(() => parseDepsJson('a.deps.json', '{'), PortcullisError);
    assert.throws(() => parseDepsJson('a.deps.json', '{"libraries": []}'), PortcullisError);
    assert.throws(() => parsePackagesLock('packages.lock.json', '{"version": 1}'), PortcullisError);
    assert.throws(() => parseNuspec('x/1.0/x.nuspec', '<package><metadata><id>x</id></metadata></package>'), PortcullisError);
    const odd = parseDepsJson('a.deps.json', JSON.stringify({ libraries: { NoVersion: { type: 'package' } } }));
    assert.deepEqual(odd.packages, []);
    assert.equal(odd.warnings?.[0]?.code, 'malformed-record');
  });

  test('each detector asks for its own files only', async () => {
    assert.ok(nugetDepsJsonDetector.wants({ path: 'app/ShopApi.deps.json', size: 1, mode: 0o644 }));
    assert.ok(!nugetDepsJsonDetector.wants({ path: 'app/ShopApi.runtimeconfig.json', size: 1, mode: 0o644 }));
    assert.ok(nugetPackagesLockDetector.wants({ path: 'packages.lock.json', size: 1, mode: 0o644 }));
    assert.ok(nugetNuspecDetector.wants({ path: 'root/.nuget/packages/newtonsoft.json/12.0.3/newtonsoft.json.nuspec', size: 1, mode: 0o644 }));
    assert.ok(!nugetNuspecDetector.wants({ path: 'src/Shop/Shop.nuspec', size: 1, mode: 0o644 }));
  });

  test('purl', async () => {
    assert.equal(languagePurl({ ecosystem: 'nuget', name: 'Newtonsoft.Json', version: '12.0.3', path: 'x' }), 'pkg:nuget/Newtonsoft.Json@12.0.3');
  });
});

describe('nuget matching against OSV-schema records', () => {
  const files = NUGET_OSV_RECORDS.map((r) => ({ name: `${r.id}.json`, bytes: Buffer.from(JSON.stringify(r)) }));
  const { advisories } = osvFeed.parse(files);

  test('the OSV parser files NuGet records under the NuGet namespace and scheme', async () => {
    assert.deepEqual(advisories.flatMap((a) => a.affected.map((x) => [x.ecosystem, x.namespace, x.packageName])), [
      ['nuget', 'NuGet', 'Newtonsoft.Json'],
      ['nuget', 'NuGet', 'System.Text.Encodings.Web'],
    ]);
  });

  test('affected versions are found, fixed and normalised-equal versions are not; names match case-insensitively', async () => {
    const records = [
      { ecosystem: 'nuget' as const, name: 'newtonsoft.json', version: '12.0.3', path: 'app/ShopApi.deps.json' },
      { ecosystem: 'nuget' as const, name: 'System.Text.Encodings.Web', version: '4.5.0', path: 'app/ShopApi.deps.json' },
      { ecosystem: 'nuget' as const, name: 'System.Text.Encodings.Web', version: '5.0.1.0', path: 'other/Other.deps.json' },
      { ecosystem: 'nuget' as const, name: 'Newtonsoft.Json', version: '13.0.1.0', path: 'other/Other.deps.json' },
    ];
    const result = await matchInventory(inventoryOf(records), memorySource(advisories));
    assert.deepEqual(result.findings.map((f) => `${f.package.name}@${f.package.version} ${f.id}`).sort(), ['System.Text.Encodings.Web@4.5.0 GHSA-7jgj-8wvc-jh57', 'newtonsoft.json@12.0.3 GHSA-5crp-9r3c-p9vr']);
    assert.deepEqual(result.coverage.map((c) => [c.ecosystem, c.namespace, c.packages, c.hasData]), [['nuget', 'NuGet', 4, true]]);
  });
});
