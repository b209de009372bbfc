import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { sharedData } from '../../../test/support/shared-data.js';

const COMMAND = fileURLToPath(new URL('./version-compare.ts', import.meta.url));

/** Runs `version compare ...` in a child process (it writes to the real stdout) and reports what happened. */
function run(args: string[], input = ''): { stdout: string; outcome: string } {
  const script = `
    import { versionCommand } from ${JSON.stringify(COMMAND)};
    const cmd = versionCommand().exitOverride().configureOutput({ writeErr: () => {} });
    try { await cmd.parseAsync(${JSON.stringify(args)}, { from: 'user' }); console.error('ok'); }
    catch (err) { console.error(err.code ?? err.name); }`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { input, encoding: 'utf8' });
  return { stdout: child.stdout, outcome: child.stderr.trim().split('\n').pop() ?? '' };
}

describe('portcullis version compare', () => {
  test('compares two versions given as arguments', () => {
    assert.deepEqual(run(['compare', '--scheme', 'dpkg', '1.0~rc1', '1.0']), { stdout: '-1\n', outcome: 'ok' });
    assert.deepEqual(run(['compare', '-s', 'maven', '1.0', '1-ga']), { stdout: '0\n', outcome: 'ok' });
  });

  test('answers a stream of pairs from stdin and from a table file', () => {
    assert.deepEqual(run(['compare', '-s', 'go'], 'v1.0.0\tv1.0.1\nv1\tv1.0.0\n1.0\tv1\n'), { stdout: '-1\n0\ninvalid\n', outcome: 'ok' });
    const file = sharedData('versions', 'apk.tsv');
    const r = run(['compare', '-s', 'apk', '--input', file]);
    assert.equal(r.outcome, 'ok');
    const expected = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t')[2]);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), expected);
  });

  test('reports usage errors with typed codes', () => {
    assert.equal(run(['compare', '1', '2']).outcome, 'commander.missingMandatoryOptionValue');
    assert.equal(run(['compare', '-s', 'rust', '1', '2']).outcome, 'commander.invalidArgument');
    assert.equal(run(['compare', '-s', 'go', '1.0', 'v1']).outcome, 'E_USAGE');
    assert.equal(run(['compare', '-s', 'go', 'v1']).outcome, 'E_USAGE');
    assert.equal(run(['compare', '-s', 'go', '--input', '/nonexistent/pairs.tsv']).outcome, 'E_INPUT');
  });
});
