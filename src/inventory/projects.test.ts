import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectRecord } from '../domain/package.js';
import type { LayerDescriptor } from '../image/types.js';
import { placeProjects } from './projects.js';

const layers: LayerDescriptor[] = [
  { index: 0, digest: 'sha256:00', size: 1, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
  { index: 1, digest: 'sha256:11', size: 1, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
];
const at = (record: ProjectRecord, layerIndex = 1) => ({ record, layerIndex });

describe('placeProjects', () => {
  test('a package-lock root entry names the project; the manifest beside it is noted', () => {
    const projects = placeProjects(
      [
        at({ ecosystem: 'npm', source: 'lockfile', path: 'app/package-lock.json', name: 'web', version: '1.0.0', dependencies: ['qs', 'lodash'] }),
        at({ ecosystem: 'npm', source: 'manifest', path: 'app/package.json', name: 'ignored-when-the-lock-names-it', version: '9', dependencies: ['x'] }),
      ],
      layers,
    );
    assert.deepEqual(projects, [{ ecosystem: 'npm', name: 'web', version: '1.0.0', purl: 'pkg:npm/web@1.0.0', lockfile: 'app/package-lock.json', manifest: 'app/package.json', dependencies: ['lodash', 'qs'], layer: 'sha256:11', layerIndex: 1 }]);
  });

  test('yarn/pnpm (or an unnamed v1 lock): name, version and dependencies from package.json beside it', () => {
    const [project] = placeProjects(
      [at({ ecosystem: 'npm', source: 'lockfile', path: 'yarn.lock' }, 0), at({ ecosystem: 'npm', source: 'manifest', path: 'package.json', name: '@team/site', dependencies: ['react'] })],
      layers,
    );
    assert.deepEqual(project, { ecosystem: 'npm', name: '@team/site', purl: 'pkg:npm/%40team/site', lockfile: 'yarn.lock', manifest: 'package.json', dependencies: ['react'], layer: 'sha256:00', layerIndex: 0 });
  });

  test('one project per folder (package-lock preferred); no name, or no lockfile, no project', () => {
    const projects = placeProjects(
      [
        at({ ecosystem: 'npm', source: 'lockfile', path: 'srv/yarn.lock' }),
        at({ ecosystem: 'npm', source: 'lockfile', path: 'srv/package-lock.json', name: 'srv', version: '2.0.0' }),
        at({ ecosystem: 'npm', source: 'lockfile', path: 'anon/yarn.lock' }),
        at({ ecosystem: 'npm', source: 'manifest', path: 'lib/package.json', name: 'no-lockfile', version: '1.0.0' }),
      ],
      layers,
    );
    assert.deepEqual(projects.map((p) => [p.name, p.lockfile, p.dependencies]), [['srv', 'srv/package-lock.json', []]]);
  });
});
