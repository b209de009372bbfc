import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ECOSYSTEMS, OS_ECOSYSTEM_IDS } from '../domain/package.js';
import { DEFAULT_OSV_ECOSYSTEMS, mapOsvEcosystem } from '../feeds/osv/ecosystems.js';
import { DECLARING_DETECTORS, DETECTORS } from '../inventory/detector-registry.js';
import type { EcosystemRegistry, LanguageEcosystemDescriptor } from './descriptor.js';
import { ECOSYSTEM_DESCRIPTORS, ECOSYSTEM_REGISTRY, isEcosystem, languageNamespace, matchVersionOf, packageNameKey } from './registry.js';

// The tables below were repeated across the engine before the registry; they pin what is derived
// from it now to the values the engine used then, so the derivation changes no output.
describe('ecosystem registry', () => {
  test('one descriptor per ecosystem, keyed by its own id; OS kind exactly for the OS ecosystems', () => {
    assert.deepEqual(Object.keys(ECOSYSTEM_REGISTRY).sort(), [...ECOSYSTEMS].sort());
    for (const [key, d] of Object.entries(ECOSYSTEM_REGISTRY)) assert.equal(d.id, key);
    assert.deepEqual(ECOSYSTEM_DESCRIPTORS.filter((d) => d.kind === 'os').map((d) => d.id).sort(), [...OS_ECOSYSTEM_IDS].sort());
  });

  test('language namespaces are the OSV ecosystem names the matcher used', () => {
    const namespaces = Object.fromEntries(ECOSYSTEMS.map((e) => [e, languageNamespace(e)]));
    assert.deepEqual(namespaces, { deb: undefined, apk: undefined, rpm: undefined, npm: 'npm', pypi: 'PyPI', golang: 'Go', maven: 'Maven', gem: 'RubyGems', cargo: 'crates.io', nuget: 'NuGet' });
  });

  test('OSV names map back to the ecosystem and its scheme', () => {
    assert.deepEqual(mapOsvEcosystem('PyPI'), { ecosystem: 'pypi', namespace: 'PyPI', scheme: 'pep440', nameKind: 'binary' });
    assert.deepEqual(mapOsvEcosystem('crates.io'), { ecosystem: 'cargo', namespace: 'crates.io', scheme: 'cargo', nameKind: 'binary' });
    assert.deepEqual(mapOsvEcosystem('NuGet'), { ecosystem: 'nuget', namespace: 'NuGet', scheme: 'nuget', nameKind: 'binary' });
    assert.equal(mapOsvEcosystem('Hex'), undefined);
    assert.deepEqual([...DEFAULT_OSV_ECOSYSTEMS].sort(), ['AlmaLinux', 'Go', 'Maven', 'NuGet', 'PyPI', 'Rocky Linux', 'RubyGems', 'crates.io', 'npm'].sort());
  });

  test('name keys: PEP 503 for PyPI only', () => {
    assert.equal(packageNameKey('pypi', ' Typing_Extensions '), 'typing-extensions');
    assert.equal(packageNameKey('pypi', 'zope.interface'), 'zope-interface');
    assert.equal(packageNameKey('npm', 'Foo_Bar'), 'Foo_Bar');
    assert.equal(packageNameKey('maven', 'org.Foo:bar'), 'org.Foo:bar');
    assert.equal(packageNameKey('nuget', 'Newtonsoft.Json'), 'newtonsoft.json');
  });

  test('match version: the Go toolchain spelling becomes semver, other versions stay', () => {
    assert.equal(matchVersionOf({ ecosystem: 'golang', name: 'stdlib', version: 'go1.21.5' }), 'v1.21.5');
    assert.equal(matchVersionOf({ ecosystem: 'golang', name: 'github.com/a/b', version: 'v1.0.0' }), 'v1.0.0');
    assert.equal(matchVersionOf({ ecosystem: 'npm', name: 'go1', version: 'go1.2' }), 'go1.2');
  });

  test('detectors keep their order; lockfile detectors give way to node_modules', () => {
    assert.deepEqual(DETECTORS.slice(0, 5).map((d) => d.id), ['os-release', 'dpkg', 'dpkg-file-lists', 'apk', 'rpm']);
    assert.deepEqual([...DECLARING_DETECTORS], [['npm-package-lock', 'node_modules'], ['npm-yarn-lock', 'node_modules'], ['npm-pnpm-lock', 'node_modules']]);
  });

  test('isEcosystem', () => {
    assert.equal(isEcosystem('pypi'), true);
    assert.equal(isEcosystem('PyPI'), false);
  });

  test('a missing ecosystem, a missing piece or a wrong kind does not compile (checked by tsc)', () => {
    const { nuget, ...withoutNuget } = ECOSYSTEM_REGISTRY;
    // @ts-expect-error: every Ecosystem needs its descriptor
    const incomplete: EcosystemRegistry = withoutNuget;
    const { osvEcosystem, ...withoutOsvName } = nuget;
    // @ts-expect-error: a language descriptor needs its OSV name
    const pieceMissing: LanguageEcosystemDescriptor<'nuget'> = withoutOsvName;
    // @ts-expect-error: deb is an OS ecosystem, so its descriptor must be an OS one
    const wrongKind: EcosystemRegistry = { ...ECOSYSTEM_REGISTRY, deb: { ...nuget, id: 'deb' } };
    assert.equal(osvEcosystem, 'NuGet');
    assert.equal(Object.keys(incomplete).length, ECOSYSTEMS.length - 1);
    assert.equal(pieceMissing.id, 'nuget');
    assert.equal(wrongKind.deb.kind, 'language');
  });
});
