import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { languageDetectors } from './index.js';

describe('languageDetectors registry', () => {
  test('ids are unique, versions positive integers, caps set', () => {
    assert.equal(languageDetectors.length, 14);
    assert.equal(new Set(languageDetectors.map((d) => d.id)).size, languageDetectors.length);
    for (const d of languageDetectors) {
      assert.ok(/^[a-z0-9-]+$/.test(d.id), d.id);
      assert.ok(Number.isInteger(d.version) && d.version >= 1, d.id);
      assert.ok(d.maxBytes > 0 && d.maxBytes <= 256 * 1024 * 1024, d.id);
      assert.equal(d.oversize, 'skip', d.id);
    }
  });

  test('each file is routed to the detectors meant for it', () => {
    const routes: [string, number, string[]][] = [
      ['srv/app/package-lock.json', 0o644, ['npm-package-lock']],
      ['srv/app/node_modules/left-pad/package.json', 0o644, ['npm-package-json']],
      ['usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', 0o644, ['pypi-metadata']],
      ['usr/bin/registry', 0o755, ['go-binary', 'cargo-auditable']],
      ['usr/share/java/guava.jar', 0o644, ['java-archive']],
      ['var/lib/gems/3.1.0/specifications/rake-13.0.6.gemspec', 0o644, ['gemspec']],
      ['srv/app/Cargo.lock', 0o644, ['cargo-lock']],
      ['srv/app/yarn.lock', 0o644, ['npm-yarn-lock']],
      ['srv/app/pnpm-lock.yaml', 0o644, ['npm-pnpm-lock']],
      ['etc/passwd', 0o644, []],
      ['srv/app/package.json', 0o644, ['npm-project-manifest']],
      ['app/MyApp.deps.json', 0o644, ['nuget-deps-json']],
      ['src/MyApp/packages.lock.json', 0o644, ['nuget-packages-lock']],
      ['root/.nuget/packages/newtonsoft.json/13.0.1/newtonsoft.json.nuspec', 0o644, ['nuget-nuspec']],
      ['src/MyLib/MyLib.nuspec', 0o644, []],
    ];
    for (const [path, mode, ids] of routes) {
      const wanting = languageDetectors.filter((d) => d.wants({ path, size: 4096, mode })).map((d) => d.id);
      assert.deepEqual(wanting, ids, path);
    }
  });
});
