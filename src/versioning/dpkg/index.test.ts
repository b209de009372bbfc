import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { agreement, disagreementReport, readVersionTable, sample, seededRandom, tableStrings } from '../test-support/tables.js';
import { compareDpkgVersions, dpkgScheme, parseDpkgVersion } from './index.js';
import { skipWithout } from '../../../test/support/tools.js';

describe('dpkg scheme', () => {
  test('agrees with dpkg --compare-versions on every pair of versions/dpkg.tsv', () => {
    const pairs = readVersionTable('dpkg.tsv');
    const d = agreement(dpkgScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('orders by Debian policy: epoch first, ~ before anything, letters before other characters', () => {
    const ordered = ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a', '1.0+', '1.0.1', '1.1', '1:0.1'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.equal(dpkgScheme.compare(ordered[i] as string, ordered[i + 1] as string), -1, `${ordered[i]} < ${ordered[i + 1]}`);
    }
    assert.equal(dpkgScheme.compare('1.0', '1.0-0'), 0, 'no revision compares as revision 0');
    assert.equal(dpkgScheme.compare('0:1.0', '1.0'), 0, 'no epoch is epoch 0');
    assert.equal(dpkgScheme.compare('1.01', '1.1'), 0, 'numbers compare by value');
    assert.equal(dpkgScheme.compare('1.0-1-2', '1.0-1-10'), -1, 'the revision starts after the last hyphen');
    assert.equal(dpkgScheme.compare(' 1.0\t', '1.0'), 0, 'surrounding blanks are trimmed');
  });

  test('splits the parts as parseversion does', () => {
    assert.deepEqual(parseDpkgVersion('2:1.2:3-4-5'), { epoch: 2, upstream: '1.2:3-4', revision: '5' });
    assert.deepEqual(parseDpkgVersion('+7:1'), { epoch: 7, upstream: '1', revision: '' });
  });

  test('accepts what dpkg only warns about, rejects what it refuses', () => {
    for (const warned of ['a', '1.0_a', '1.0-a_b', '1:a', '+1', '1.0\n', '1é']) assert.ok(dpkgScheme.isValid(warned), JSON.stringify(warned));
    for (const bad of ['', '1 0', '1:', ':1', 'a:1', '1-', '1:-1', '2147483648:1', '-1:1', '1\0']) assert.ok(!dpkgScheme.isValid(bad), JSON.stringify(bad));
    assert.ok(dpkgScheme.isValid('2147483647:1'));
  });

  test('the prepared fast path equals the direct verrevcmp on mutated real versions', () => {
    const rnd = seededRandom(21);
    const pieces = ['~', '+', '.', '-', 'a', 'Z', '0', '00', '9', 'é', '_', '~~'];
    const strings = tableStrings(readVersionTable('dpkg.tsv')).map((s) => {
      const at = rnd(s.length + 1);
      return rnd(2) === 0 ? s : s.slice(0, at) + (pieces[rnd(pieces.length)] as string) + s.slice(at);
    });
    let checked = 0;
    for (let k = 0; k < 20000; k++) {
      const a = strings[rnd(strings.length)] as string;
      const b = rnd(4) === 0 ? a + (pieces[rnd(pieces.length)] as string) : (strings[rnd(strings.length)] as string);
      const pa = parseDpkgVersion(a);
      const pb = parseDpkgVersion(b);
      if (pa === null || pb === null) continue;
      checked++;
      if (dpkgScheme.compare(a, b) !== compareDpkgVersions(pa, pb)) assert.fail(`${a} vs ${b}`);
    }
    assert.ok(checked > 15000);
  });

  test('agrees with the installed dpkg on validity and order of mutated real versions', { skip: skipWithout('dpkg', 'dpkg') }, () => {
    // The real tool is the oracle: mutations of table strings reach the parser's edge cases.
    const rnd = seededRandom(3);
    const pieces = ['~', '+', '.', '-', ':', 'a', '0', '00', ' ', '\t', '_', '1:', 'é', '\n'];
    const mutate = (s: string): string => {
      const at = rnd(s.length + 1);
      const cut = rnd(3) === 0 ? 1 : 0;
      return s.slice(0, at) + (pieces[rnd(pieces.length)] as string) + s.slice(at + cut);
    };
    const strings = sample(tableStrings(readVersionTable('dpkg.tsv')), 120, 5);
    const dpkg = (a: string, op: string, b: string): number | null => spawnSync('dpkg', ['--compare-versions', '--', a, op, b]).status;
    const problems: string[] = [];
    for (let i = 0; i + 1 < strings.length; i += 2) {
      const a = mutate(strings[i] as string);
      const b = rnd(2) === 0 ? mutate(strings[i + 1] as string) : a.replace(/0/g, '00');
      const va = dpkg(a, 'eq', a) !== 2;
      const vb = dpkg(b, 'eq', b) !== 2;
      if (va !== dpkgScheme.isValid(a) || vb !== dpkgScheme.isValid(b)) {
        problems.push(`validity ${JSON.stringify(a)}=${va} ${JSON.stringify(b)}=${vb}`);
        continue;
      }
      if (!va || !vb) continue;
      const want = dpkg(a, 'lt', b) === 0 ? -1 : dpkg(a, 'eq', b) === 0 ? 0 : 1;
      if (dpkgScheme.compare(a, b) !== want) problems.push(`order ${JSON.stringify(a)} ${JSON.stringify(b)}: dpkg ${want}`);
    }
    assert.deepEqual(problems, []);
  });
});
