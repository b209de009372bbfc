import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../domain/errors.js';
import type { IndexedEntry } from '../layers/layer-result.js';
import { MergedTree, type TreeLayer } from './merged-tree.js';

const file = (path: string, size = 10): IndexedEntry => ({ path, size, mode: 0o644 });
const symlink = (path: string, target: string): IndexedEntry => ({ path, size: 0, mode: 0o777, type: 'symlink', target });
const hardlink = (path: string, target: string): IndexedEntry => ({ path, size: 0, mode: 0o644, type: 'hardlink', target });
const layer = (index: number, entries: IndexedEntry[], whiteouts: string[] = [], opaqueDirs: string[] = []): TreeLayer => ({ index, deletions: { whiteouts, opaqueDirs }, entries });

describe('MergedTree', () => {
  test('resolves absolute, relative and chained links from where each one stands', () => {
    const tree = new MergedTree([
      layer(0, [file('usr/share/x/status'), symlink('etc/a', '/usr/share/x/status'), symlink('etc/b', '../usr/share/x/status'), symlink('etc/c', 'a')]),
    ]);
    for (const p of ['etc/a', 'etc/b', 'etc/c', 'usr/share/x/status']) {
      const r = tree.resolve(p);
      assert.equal(r.kind, 'file', p);
      assert.equal(r.kind === 'file' ? r.source.path : '', 'usr/share/x/status');
    }
  });

  test('a later layer replaces, whites out or turns into a special file what a link leads to', () => {
    const base = layer(0, [file('data/status'), symlink('link', 'data/status')]);
    const replaced = new MergedTree([base, layer(1, [file('data/status', 99)])]).resolve('link');
    assert.deepEqual(replaced.kind === 'file' ? [replaced.source.layerIndex, replaced.source.size] : [], [1, 99]);
    assert.equal(new MergedTree([base, layer(1, [], ['data/status'])]).resolve('link').kind, 'absent');
    assert.equal(new MergedTree([base, layer(1, [], [], ['data'])]).resolve('link').kind, 'absent');
    assert.equal(new MergedTree([base, layer(1, [{ path: 'data/status', size: 0, mode: 0o644, type: 'other' }])]).resolve('link').kind, 'special');
  });

  test('a hardlink is bound to the file it names when its layer is applied, even from a lower layer', () => {
    const tree = new MergedTree([layer(0, [file('a', 5)]), layer(1, [hardlink('b', 'a')]), layer(2, [file('a', 7)])]);
    const r = tree.resolve('b');
    assert.deepEqual(r.kind === 'file' ? [r.source.layerIndex, r.source.path, r.source.size] : [], [0, 'a', 5]);
    assert.throws(
      () => new MergedTree([layer(0, [hardlink('b', 'nowhere')])]).resolve('b'),
      (err) => isPortcullisError(err, 'E_LAYER_CORRUPT') && /nowhere/.test(err.message),
    );
  });

  test('links out of the root and loops are E_SYMLINK', () => {
    assert.throws(() => new MergedTree([layer(0, [symlink('a/b', '../../../x')])]).resolve('a/b'), (err) => isPortcullisError(err, 'E_SYMLINK'));
    assert.throws(() => new MergedTree([layer(0, [symlink('a', 'b'), symlink('b', 'a')])]).resolve('a'), (err) => isPortcullisError(err, 'E_SYMLINK') && /loop/.test(err.message));
  });

  test('linkAliases names files through symlinked directories, one link deep, skipping links to the root or out of it', () => {
    const tree = new MergedTree([
      layer(0, [file('opt/dpkg/status'), file('opt/dpkg/status.d/x'), file('opt/other')]),
      layer(1, [symlink('var/lib/dpkg', '/opt/dpkg'), symlink('host', '/'), symlink('evil', '../../..'), symlink('f', 'opt/other')]),
    ]);
    const { aliases, truncated } = tree.linkAliases(100);
    assert.equal(truncated, false);
    assert.deepEqual(
      aliases.map((a) => [a.path, a.realPath, a.linkLayer]),
      [
        ['var/lib/dpkg/status', 'opt/dpkg/status', 1],
        ['var/lib/dpkg/status.d/x', 'opt/dpkg/status.d/x', 1],
      ],
    );
  });

  test('linkAliases stops at its limit: many links to a big directory cost bounded work', () => {
    const files = Array.from({ length: 1000 }, (_, i) => file(`big/f${i}`));
    const links = Array.from({ length: 1000 }, (_, i) => symlink(`l${i}`, '/big'));
    const { aliases, truncated } = new MergedTree([layer(0, [...files, ...links])]).linkAliases(5000);
    assert.equal(truncated, true);
    assert.equal(aliases.length, 5000);
  });
});
