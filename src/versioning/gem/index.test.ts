import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { rubysecAdvisories, rubysecVersions } from '../test-support/feed-strings.js';
import { sample, seededRandom } from '../test-support/tables.js';
import { InvalidRangeError } from '../types.js';
import { gemScheme } from './index.js';
import { skipWithout } from '../../../test/support/tools.js';

const satisfies = (v: string, r: string): boolean => (gemScheme.satisfies as (v: string, r: string) => boolean)(v, r);

/** Asks the real RubyGems (Debian package `ruby`) the same questions; it is the oracle of this test. */
const RUBY_ORACLE = `
require 'json'
q = JSON.parse($stdin.read)
valid = q['valid'].map { |s| Gem::Version.correct?(s) }
cmp = q['pairs'].map { |a, b| Gem::Version.new(a) <=> Gem::Version.new(b) }
sat = q['reqs'].map do |v, r|
  begin
    Gem::Requirement.new(*r.split(',')).satisfied_by?(Gem::Version.new(v))
  rescue ArgumentError
    nil
  end
end
puts JSON.generate({ 'valid' => valid, 'cmp' => cmp, 'sat' => sat })
`;

interface OracleAnswers {
  valid: boolean[];
  cmp: number[];
  sat: (boolean | null)[];
}

function askRuby(question: { valid: string[]; pairs: [string, string][]; reqs: [string, string][] }): OracleAnswers {
  const run = spawnSync('ruby', ['-e', RUBY_ORACLE], { input: JSON.stringify(question), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.error !== undefined || run.status !== 0) {
    assert.fail(`ruby (Debian package "ruby") is needed as the Gem::Version oracle: ${run.error?.message ?? run.stderr}`);
  }
  return JSON.parse(run.stdout) as OracleAnswers;
}

describe('gem scheme', () => {
  test('agrees with the real Gem::Version and Gem::Requirement on rubysec versions and requirements', { skip: skipWithout('ruby', 'ruby') }, () => {
    const versions = rubysecVersions();
    assert.ok(versions.length > 200);
    const rnd = seededRandom(17);
    const pieces = ['.', '-', 'a', 'pre', ' ', '..', '0', '1', 'B', '_'];
    const mutated = versions.map((s) => {
      const at = rnd(s.length + 1);
      return s.slice(0, at) + (pieces[rnd(pieces.length)] as string) + s.slice(at);
    });
    const picked = sample(versions, 150, 3);
    const pairs: [string, string][] = picked.flatMap((a) => picked.map((b): [string, string] => [a, b]));
    const requirements = [...new Set(rubysecAdvisories().flatMap((a) => [...a.patched, ...a.unaffected]))];
    const reqs: [string, string][] = requirements.flatMap((r) => sample(versions, 30, r.length).map((v): [string, string] => [v, r]));
    const answers = askRuby({ valid: [...versions, ...mutated], pairs, reqs });

    const wrong: string[] = [];
    [...versions, ...mutated].forEach((s, i) => {
      if (gemScheme.isValid(s) !== answers.valid[i]) wrong.push(`valid ${JSON.stringify(s)}: ruby ${answers.valid[i]}`);
    });
    pairs.forEach(([a, b], i) => {
      if (gemScheme.compare(a, b) !== answers.cmp[i]) wrong.push(`${a} <=> ${b}: ruby ${answers.cmp[i]}`);
    });
    reqs.forEach(([v, r], i) => {
      let got: boolean | null;
      try {
        got = satisfies(v, r);
      } catch (err) {
        if (!(err instanceof InvalidRangeError)) throw err;
        got = null;
      }
      if (got !== answers.sat[i]) wrong.push(`${v} in ${r}: ruby ${answers.sat[i]}, ours ${got}`);
    });
    assert.ok(answers.valid.includes(false) && answers.sat.includes(true) && answers.sat.includes(false));
    assert.deepEqual(wrong.slice(0, 40), []);
  });

  test('follows the documented Gem::Version rules', () => {
    assert.equal(gemScheme.compare('1.0.a', '1.0'), -1, 'a letter makes a pre-release');
    assert.equal(gemScheme.compare('1.0.b1', '1.0.a2'), 1);
    assert.equal(gemScheme.compare('1.0', '1.0.0'), 0);
    assert.equal(gemScheme.compare('1.0-beta', '1.0.pre.beta'), 0, '"-" reads as ".pre."');
    assert.equal(gemScheme.compare('5.0.0.rc1', '5.0.0'), -1);
    assert.equal(gemScheme.compare('0.10', '0.9'), 1);
    assert.ok(gemScheme.isValid(''), 'a blank version is 0');
    assert.equal(gemScheme.compare(' ', '0'), 0);
  });

  test('follows the documented requirement operators', () => {
    assert.equal(satisfies('3.5.9', '~> 3.5'), true);
    assert.equal(satisfies('4.0', '~> 3.5'), false);
    assert.equal(satisfies('3.5.9', '~> 3.5.0'), true);
    assert.equal(satisfies('3.6', '~> 3.5.0'), false);
    assert.equal(satisfies('7.0.8.4', '~> 7.0.8, >= 7.0.8.4'), true);
    assert.equal(satisfies('7.0.8.3', '~> 7.0.8, >= 7.0.8.4'), false);
    assert.equal(satisfies('2.0', '!= 2.0'), false);
    assert.equal(satisfies('2.0.0', '2.0'), true, 'a bare version means =');
    for (const bad of ['', '=> 1.0', '~> ', '>= 1.0,', 'abc']) assert.throws(() => satisfies('1.0', bad), InvalidRangeError, bad);
  });
});
