import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { agreement, disagreementReport, readUpstreamOpTable, readVersionTable, sample, seededRandom, tableStrings } from '../test-support/tables.js';
import { compareRpmVersions, parseRpmVersion, rpmScheme, rpmvercmp } from './index.js';
import { skipWithout } from '../../../test/support/tools.js';

describe('rpm scheme', () => {
  test('agrees with librpm 4.18 rpm.ver on every pair of versions/rpm.tsv', () => {
    const pairs = readVersionTable('rpm.tsv');
    const d = agreement(rpmScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test("agrees with rpm's own rpmvercmp cases (upstream/claircore-rpmvercmp.txt)", () => {
    const pairs = readUpstreamOpTable('claircore-rpmvercmp.txt');
    const d = agreement(rpmScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('splits [epoch:]version[-release] as librpm does', () => {
    assert.deepEqual(parseRpmVersion('1:2.3-4.el9'), { epoch: '1', version: '2.3', release: '4.el9' });
    assert.deepEqual(parseRpmVersion('2.3-4-5'), { epoch: null, version: '2.3-4', release: '5' });
    assert.deepEqual(parseRpmVersion(':1-2'), { epoch: '0', version: '1', release: '2' });
    assert.deepEqual(parseRpmVersion('a:1-2'), { epoch: null, version: 'a:1', release: '2' }, 'only digits make an epoch');
    assert.equal(parseRpmVersion(''), null);
  });

  test('orders EVRs: epoch default 0, a missing release sorts first, ~ pre-release, ^ post-release', () => {
    assert.equal(rpmScheme.compare('0:1.0-1', '1.0-1'), 0);
    assert.equal(rpmScheme.compare('1:1.0-1', '2.0-1'), 1);
    assert.equal(rpmScheme.compare('1.0', '1.0-1'), -1);
    assert.equal(rpmvercmp('1.0~rc1', '1.0'), -1);
    assert.equal(rpmvercmp('1.0', '1.0^git1'), -1);
    assert.equal(rpmvercmp('1.0^git1', '1.0.1'), -1);
    assert.equal(rpmvercmp('1.0~rc1^git1', '1.0~rc1'), 1);
    assert.equal(rpmvercmp('1a', '1.1'), -1, 'letters sort before numbers');
    assert.equal(rpmvercmp('1_0', '1.0'), 0, 'separators only separate');
  });

  test('the prepared fast path equals the direct rpmvercmp on mutated real versions', () => {
    const rnd = seededRandom(23);
    const pieces = ['~', '^', '.', '-', ':', 'a', 'Z', '0', '00', '9', '_', '1:'];
    const strings = tableStrings(readVersionTable('rpm.tsv')).map((s) => {
      const at = rnd(s.length + 1);
      return rnd(2) === 0 ? s : s.slice(0, at) + (pieces[rnd(pieces.length)] as string) + s.slice(at);
    });
    for (let k = 0; k < 20000; k++) {
      const a = strings[rnd(strings.length)] as string;
      const b = rnd(4) === 0 ? a + (pieces[rnd(pieces.length)] as string) : (strings[rnd(strings.length)] as string);
      const want = compareRpmVersions(parseRpmVersion(a) as NonNullable<ReturnType<typeof parseRpmVersion>>, parseRpmVersion(b) as NonNullable<ReturnType<typeof parseRpmVersion>>);
      if (rpmScheme.compare(a, b) !== want) assert.fail(`${a} vs ${b}`);
    }
  });

  test('agrees with the installed librpm (rpm.ver via rpm --eval) on mutated real versions', { skip: skipWithout('rpm', 'rpm') }, () => {
    const rnd = seededRandom(9);
    const pieces = ['~', '^', '.', '-', ':', 'a', 'Z', '0', '00', '_', '+', '1:'];
    const mutate = (s: string): string => {
      const at = rnd(s.length + 1);
      return s.slice(0, at) + (pieces[rnd(pieces.length)] as string) + s.slice(at + (rnd(3) === 0 ? 1 : 0));
    };
    const strings = sample(tableStrings(readVersionTable('rpm.tsv')), 400, 13);
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < strings.length; i++) {
      const a = rnd(2) === 0 ? mutate(strings[i] as string) : (strings[i] as string);
      pairs.push([a, rnd(4) === 0 ? a.replace(/0/g, '00') : mutate(strings[i + 1] as string)]);
    }
    const lua = [
      'local out = {}',
      'local function c(a, b) local x, y = rpm.ver(a), rpm.ver(b); out[#out + 1] = (x < y) and "-1" or ((x == y) and "0" or "1") end',
      ...pairs.map(([a, b]) => `c(${JSON.stringify(a)}, ${JSON.stringify(b)})`),
      'print(table.concat(out, ","))',
    ].join('\n');
    const run = spawnSync('rpm', ['--eval', `%{lua:${lua}}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(run.status, 0, `rpm must be installed: ${run.stderr}`);
    const answers = run.stdout.trim().split(',');
    assert.equal(answers.length, pairs.length);
    const problems = pairs.filter(([a, b], i) => String(rpmScheme.compare(a, b)) !== answers[i]).map(([a, b]) => `${a} vs ${b}`);
    assert.deepEqual(problems, []);
  });
});
