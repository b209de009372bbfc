import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PackageRecord } from '../domain/package.js';
import type { DetectorLayerResult } from '../layers/layer-result.js';
import { coalesceLayers, type AnalysedLayer } from './coalesce.js';

const pkg = (name: string, version: string, path: string): PackageRecord => ({ ecosystem: 'deb', name, version, path });

function layer(index: number, files: { path: string; packages: PackageRecord[] }[], whiteouts: string[] = [], opaqueDirs: string[] = []): AnalysedLayer {
  const result: DetectorLayerResult = { detector: 'd', version: 1, files: files.map((f) => ({ path: f.path, output: { packages: f.packages } })), links: [] };
  return { index, digest: `sha256:${String(index).repeat(64)}`, deletions: { whiteouts, opaqueDirs }, detectors: [result] };
}

const summary = (layers: AnalysedLayer[]): string[] =>
  coalesceLayers(layers)
    .packages.map((p) => `${p.record.name}@${p.record.version}:L${p.layerIndex}`)
    .sort();

describe('coalesceLayers', () => {
  test('credits each package of a rewritten database to the layer that installed that version', () => {
    const status = 'var/lib/dpkg/status';
    assert.deepEqual(
      summary([
        layer(0, [{ path: status, packages: [pkg('base', '1', status), pkg('libc', '2.36', status)] }]),
        layer(1, [{ path: status, packages: [pkg('base', '1', status), pkg('libc', '2.37', status), pkg('curl', '8', status)] }]),
        layer(2, [{ path: status, packages: [pkg('base', '1', status), pkg('libc', '2.37', status), pkg('curl', '8', status)] }]),
      ]),
      ['base@1:L0', 'curl@8:L1', 'libc@2.37:L1'],
    );
  });

  test('a whiteout removes the file and everything below a removed directory', () => {
    assert.deepEqual(
      summary([
        layer(0, [
          { path: 'app/node_modules/a/package.json', packages: [pkg('a', '1', 'x')] },
          { path: 'app/node_modules/b/package.json', packages: [pkg('b', '1', 'x')] },
          { path: 'opt/c/package.json', packages: [pkg('c', '1', 'x')] },
        ]),
        layer(1, [], ['app/node_modules/a', 'opt/c/package.json']),
      ]),
      ['b@1:L0'],
    );
  });

  test('an opaque directory hides lower content but keeps its own layer files', () => {
    assert.deepEqual(
      summary([
        layer(0, [
          { path: 'srv/x/package.json', packages: [pkg('x', '1', 'x')] },
          { path: 'srv2/y/package.json', packages: [pkg('y', '1', 'y')] },
        ]),
        layer(1, [{ path: 'srv/z/package.json', packages: [pkg('z', '1', 'z')] }], [], ['srv']),
      ]),
      ['y@1:L0', 'z@1:L1'],
    );
  });

  test('a file recreated after a deletion is credited to the recreating layer', () => {
    const f = 'lib/apk/db/installed';
    assert.deepEqual(
      summary([layer(0, [{ path: f, packages: [pkg('musl', '1', f)] }]), layer(1, [], [f]), layer(2, [{ path: f, packages: [pkg('musl', '1', f)] }])]),
      ['musl@1:L2'],
    );
  });

  test('an emptied upper version shadows the lower one', () => {
    const f = 'var/lib/dpkg/status';
    assert.deepEqual(summary([layer(0, [{ path: f, packages: [pkg('a', '1', f)] }]), layer(1, [{ path: f, packages: [] }])]), []);
  });

  test('release files reached through a symlink count with the link path; escaping links are refused', () => {
    const distro = { id: 'debian', versionId: '12', source: 'usr/lib/os-release' };
    const base: AnalysedLayer = {
      index: 0,
      digest: 'sha256:' + 'a'.repeat(64),
      deletions: { whiteouts: [], opaqueDirs: [] },
      detectors: [
        {
          detector: 'os',
          version: 1,
          files: [{ path: 'usr/lib/os-release', output: { distro } }],
          links: [{ path: 'etc/os-release', target: '../usr/lib/os-release', kind: 'symlink' }],
        },
      ],
    };
    const sources = coalesceLayers([base]).distroCandidates.map((d) => d.source).sort();
    assert.deepEqual(sources, ['etc/os-release', 'usr/lib/os-release']);
    const evil: AnalysedLayer = {
      ...base,
      detectors: [{ detector: 'os', version: 1, files: [], links: [{ path: 'etc/os-release', target: '../../../../etc/os-release', kind: 'symlink' }] }],
    };
    assert.throws(() => coalesceLayers([evil]), /outside the image root/);
    const loop: AnalysedLayer = {
      ...base,
      detectors: [
        {
          detector: 'os',
          version: 1,
          files: [],
          links: [
            { path: 'etc/os-release', target: 'a', kind: 'symlink' },
            { path: 'etc/a', target: 'os-release', kind: 'symlink' },
          ],
        },
      ],
    };
    assert.throws(() => coalesceLayers([loop]), /symlink loop/);
  });
});
