import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import type { DetectorOutput } from '../../detectors/types.js';
import { installedPackageJson, npmPackageJsonDetector, parseInstalledPackageJson } from './package-json-detector.js';
import { nameFromInstallPath, npmLockfileDetector, parsePackageLock } from './package-lock-detector.js';
import { isProjectManifest, parseProjectManifest } from './project-manifest-detector.js';
import { yarnLockDetector } from './yarn-pnpm-lock-detectors.js';

const file = (path: string, mode = 0o644) => ({ path, size: 100, mode });

describe('npm lockfile detector', () => {
  test('v1 lockfile: the nested tree, checked entry by entry against the file', () => {
    const path = sharedData('pkgdb', 'npm', 'osv-scalibr-v1', 'package-lock.json');
    const out = parsePackageLock('srv/app/package-lock.json', readFileSync(path, 'utf8'));
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version, p.attributes]),
      [
        ['custom-package', '2.0', {}],
        ['supports-color', '5.0.0', {}],
        ['local-package', '1.0.0', {}],
        ['@parcel/watcher', '2.5.1', {}],
        ['babel-code-frame', '7.0.0', {}],
        // nested under babel-code-frame
        ['@babel/highlight', '7.0.0', {}],
        // nested under babel-code-frame and again at the top, dev in both places
        ['ajv', '5.5.2', { dev: 'true' }],
        ['@babel/highlight', '6.0.0', { dev: 'true' }],
        ['wrappy', '1.0.2', {}],
        // at the top and nested under fsevents: one package
        ['abbrev', '1.1.0', {}],
        // "string-width-cjs": "npm:string-width@4.2.0" installs string-width
        ['string-width', '4.2.0', { alias: 'string-width-cjs' }],
        ['fsevents', '1.1.2', {}],
      ],
    );
    assert.ok(out.packages?.every((p) => p.ecosystem === 'npm' && p.path === 'srv/app/package-lock.json'));
    assert.equal(out.warnings, undefined);
  });

  test('v2 lockfile: the packages map, counted independently', () => {
    const text = readFileSync(sharedData('pkgdb', 'npm', 'osv-scanner-in-place-npm', 'package-lock.json'), 'utf8');
    const doc = JSON.parse(text) as { lockfileVersion: number; packages: Record<string, { version?: string; optional?: boolean }> };
    assert.equal(doc.lockfileVersion, 2);
    const out = parsePackageLock('package-lock.json', text);
    // Independent expectation: every non-root key, named by its last path element.
    const expected = new Set(
      Object.entries(doc.packages)
        .filter(([k]) => k !== '')
        .map(([k, v]) => `${k.split('node_modules/').pop() ?? ''}@${v.version ?? ''}`),
    );
    assert.equal(out.packages?.length, 106);
    assert.deepEqual(new Set(out.packages?.map((p) => `${p.name}@${p.version}`)), expected);
    assert.equal(out.packages?.filter((p) => p.attributes?.['optional'] === 'true').length, 15);
    const versions = (name: string): string[] => (out.packages ?? []).filter((p) => p.name === name).map((p) => p.version);
    // Checked by hand in the file: hoisted and nested copies in different versions.
    assert.deepEqual(versions('hosted-git-info'), ['2.1.4', '1.6.0']);
    assert.deepEqual(versions('core-util-is'), ['1.0.3', '1.0.2']);
    assert.deepEqual(versions('npm-registry-client'), ['6.2.0']);
    assert.deepEqual(versions('osv-fix'), [], 'the root project is not a dependency');
    assert.deepEqual(
      out.packages?.find((p) => p.name === 'ansi-regex'),
      { ecosystem: 'npm', name: 'ansi-regex', version: '5.0.1', path: 'package-lock.json', attributes: { optional: 'true' } },
    );
  });

  test('v3: scopes, aliases, links, workspaces, dev and bundled flags', () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'root', version: '1.0.0' },
        'packages/ws-a': { name: 'ws-a', version: '0.1.0' },
        'node_modules/ws-a': { resolved: 'packages/ws-a', link: true },
        'node_modules/@scope/pkg': { version: '2.1.0', dev: true, license: 'MIT' },
        'node_modules/@scope/pkg/node_modules/inner': { version: '1.0.0', inBundle: true },
        'node_modules/strip-ansi-cjs': { name: 'strip-ansi', version: '6.0.1', devOptional: true },
        'node_modules/no-version': {},
        'packages/ws-a/node_modules/left-pad': { version: '1.3.0' },
        'node_modules/bad': 'not an object',
      },
    };
    const out = parsePackageLock('package-lock.json', JSON.stringify(lock));
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version, p.attributes, p.license]),
      [
        ['@scope/pkg', '2.1.0', { dev: 'true' }, 'MIT'],
        ['inner', '1.0.0', { bundled: 'true' }, undefined],
        ['strip-ansi', '6.0.1', { dev: 'true', alias: 'strip-ansi-cjs' }, undefined],
        ['left-pad', '1.3.0', {}, undefined],
      ],
    );
    assert.equal(out.warnings?.length, 1);
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
  });

  test('garbage and truncation give typed errors or warnings', () => {
    for (const bad of ['', 'null', '[1,2]', '{"packages": ', '\u0000\u00ff']) {
      assert.throws(() => parsePackageLock('x/package-lock.json', bad), (err) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('npm-package-lock: '));
    }
    assert.deepEqual(parsePackageLock('p', '{"lockfileVersion": 1}'), { projects: [{ ecosystem: 'npm', source: 'lockfile', path: 'p' }] });
    assert.equal(parsePackageLock('p', '{"dependencies": 5}').warnings?.length, 1);
    // A hostile, very deep v1 tree stops at the depth cap.
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) deep = { [`p${i}`]: { version: '1.0.0', dependencies: deep } };
    const out = parsePackageLock('p', JSON.stringify({ dependencies: deep }));
    assert.equal(out.packages?.length, 65);
    assert.equal(out.warnings?.length, 1);
  });

  test('wants application lockfiles, not those inside node_modules', () => {
    assert.ok(npmLockfileDetector.wants(file('package-lock.json')));
    assert.ok(npmLockfileDetector.wants(file('srv/app/package-lock.json')));
    assert.ok(npmLockfileDetector.wants(file('srv/app/npm-shrinkwrap.json')));
    assert.ok(!npmLockfileDetector.wants(file('srv/app/node_modules/foo/package-lock.json')));
    assert.ok(!npmLockfileDetector.wants(file('srv/app/node_modules/.package-lock.json')));
    assert.ok(!npmLockfileDetector.wants(file('srv/app/yarn.lock')));
  });

  test('install path names', () => {
    assert.equal(nameFromInstallPath('node_modules/a'), 'a');
    assert.equal(nameFromInstallPath('node_modules/@s/n'), '@s/n');
    assert.equal(nameFromInstallPath('node_modules/a/node_modules/@s/n'), '@s/n');
    assert.equal(nameFromInstallPath('node_modules/a/lib'), undefined);
    assert.equal(nameFromInstallPath('packages/x'), undefined);
  });
});

describe('npm package.json detector', () => {
  test('which package.json files are packages', () => {
    const yes = [
      'app/node_modules/foo/package.json',
      'node_modules/@scope/name/package.json',
      'app/node_modules/a/node_modules/@s/b/package.json',
      'usr/lib/node_modules/npm/package.json',
      'usr/lib/node_modules/npm/node_modules/semver/package.json',
      'app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json',
      'usr/share/nodejs/acorn/package.json',
      'usr/share/nodejs/@types/node/package.json',
      'usr/lib/nodejs/foo/package.json',
      'usr/lib/x86_64-linux-gnu/nodejs/bar/package.json',
      'usr/share/nodejs/babel7/node_modules/@babel/core/package.json',
    ];
    const no = [
      'app/package.json',
      'app/node_modules/foo/test/fixtures/package.json',
      'app/node_modules/foo/esm/package.json',
      'app/node_modules/foo/test/fixtures/node_modules/bar/package.json',
      'app/node_modules/@scope/package.json',
      'app/node_modules/.bin/package.json',
      'app/node_modules/package.json',
      'usr/share/nodejs/acorn/dist/package.json',
      'usr/share/nodejs/package.json',
      'usr/share/doc/foo/package.json',
      'app/node_modules/foo/package.json.bak',
    ];
    for (const p of yes) assert.ok(npmPackageJsonDetector.wants(file(p)), p);
    for (const p of no) assert.ok(!npmPackageJsonDetector.wants(file(p)), p);
    assert.deepEqual(installedPackageJson('usr/share/nodejs/babel7/node_modules/@babel/core/package.json'), { debian: true, dirName: '@babel/core' });
  });

  test('reads name, version and license; marks Debian-packaged modules and aliases', () => {
    const out = (path: string, pkg: unknown): DetectorOutput => parseInstalledPackageJson(path, JSON.stringify(pkg));
    assert.deepEqual(out('app/node_modules/@s/x/package.json', { name: '@s/x', version: '1.2.3', license: 'MIT' }).packages, [
      { ecosystem: 'npm', name: '@s/x', version: '1.2.3', path: 'app/node_modules/@s/x/package.json', attributes: {}, license: 'MIT' },
    ]);
    assert.deepEqual(out('usr/share/nodejs/acorn/package.json', { name: 'acorn', version: '8.8.1', license: { type: 'BSD' } }).packages?.[0]?.attributes, { distroPackaged: 'debian' });
    assert.equal(out('usr/share/nodejs/acorn/package.json', { name: 'acorn', version: '8.8.1', license: { type: 'BSD' } }).packages?.[0]?.license, 'BSD');
    assert.equal(out('node_modules/y/package.json', { name: 'y', version: '1.0.0', licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }).packages?.[0]?.license, '(MIT OR Apache-2.0)');
    assert.deepEqual(out('node_modules/sa-cjs/package.json', { name: 'strip-ansi', version: '6.0.1' }).packages?.[0]?.attributes, { alias: 'sa-cjs' });
    const bom = parseInstalledPackageJson('node_modules/b/package.json', '\uFEFF{"name":"b","version":"0.0.1"}');
    assert.equal(bom.packages?.[0]?.version, '0.0.1');
  });

  test('missing fields are warnings; garbage is a typed error', () => {
    const out = parseInstalledPackageJson('node_modules/x/package.json', '{"name": "x"}');
    assert.equal(out.packages, undefined);
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
    for (const bad of ['{', '"str"', '\u0000', '']) {
      assert.throws(() => parseInstalledPackageJson('node_modules/x/package.json', bad), (err) => isPortcullisError(err, 'E_INPUT'));
    }
  });
});

describe('npm: the project a lockfile belongs to', () => {
  test('v2 lockfile: name, version and direct dependencies from the root entry (packages[""]), checked against the file', () => {
    // osv-scanner-in-place-npm/package-lock.json: "": {name: osv-fix, version: 1.0.0, dependencies: {npm-registry-client: ^6.2.0}}.
    const text = readFileSync(sharedData('pkgdb', 'npm', 'osv-scanner-in-place-npm', 'package-lock.json'), 'utf8');
    const out = parsePackageLock('srv/app/package-lock.json', text);
    assert.deepEqual(out.projects, [{ ecosystem: 'npm', source: 'lockfile', path: 'srv/app/package-lock.json', name: 'osv-fix', version: '1.0.0', dependencies: ['npm-registry-client'] }]);
    // The root is never a package.
    assert.ok(!(out.packages ?? []).some((p) => p.name === 'osv-fix'));
  });

  test('v1 lockfile: top-level name and version; direct dependencies are not told apart from hoisted ones', () => {
    const v1 = parsePackageLock('a/package-lock.json', JSON.stringify({ name: 'web', version: '2.1.0', lockfileVersion: 1, dependencies: { ms: { version: '2.1.3' } } }));
    assert.deepEqual(v1.projects, [{ ecosystem: 'npm', source: 'lockfile', path: 'a/package-lock.json', name: 'web', version: '2.1.0' }]);
    // osv-scalibr-v1 names no project at all: a stub, for the package.json beside it to name.
    const unnamed = parsePackageLock('b/package-lock.json', readFileSync(sharedData('pkgdb', 'npm', 'osv-scalibr-v1', 'package-lock.json'), 'utf8'));
    assert.deepEqual(unnamed.projects, [{ ecosystem: 'npm', source: 'lockfile', path: 'b/package-lock.json' }]);
  });

  test('yarn and pnpm lockfiles name no project: a stub for the manifest beside them', () => {
    const yarn = yarnLockDetector.parse({ ...file('srv/app/yarn.lock'), bytes: Buffer.from('ms@^2.1.3:\n  version "2.1.3"\n') });
    assert.ok(!(yarn instanceof Promise));
    assert.deepEqual(yarn.projects, [{ ecosystem: 'npm', source: 'lockfile', path: 'srv/app/yarn.lock' }]);
    assert.equal(yarn.packages?.[0]?.name, 'ms');
  });

  test('project manifests: package.json outside node_modules and Debian module folders', () => {
    assert.ok(isProjectManifest(file('app/package.json')));
    assert.ok(isProjectManifest(file('package.json')));
    for (const other of ['app/node_modules/ms/package.json', 'app/node_modules/ms/lib/package.json', 'usr/share/nodejs/acorn/package.json', 'app/package.json.bak']) {
      assert.equal(isProjectManifest(file(other)), false, other);
    }
    const manifest = { name: 'portcullis-test-app', version: '1.0.0', private: true, dependencies: { lodash: '4.17.15', qs: '0.6.6' }, devDependencies: { semver: '4.3.1' }, peerDependencies: 5 };
    assert.deepEqual(parseProjectManifest('app/package.json', JSON.stringify(manifest)).projects, [
      { ecosystem: 'npm', source: 'manifest', path: 'app/package.json', name: 'portcullis-test-app', version: '1.0.0', dependencies: ['lodash', 'qs', 'semver'] },
    ]);
    assert.deepEqual(parseProjectManifest('app/package.json', '{}').projects, [{ ecosystem: 'npm', source: 'manifest', path: 'app/package.json' }]);
    for (const bad of ['', '[]', '{"name":']) {
      assert.throws(() => parseProjectManifest('app/package.json', bad), (err) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('npm-project-manifest: '));
    }
  });
});
