/**
 * Command-line usage, end to end through the real process: a run without a command shows the help
 * as an error, and every option-parsing failure is one `portcullis: <message> [E_USAGE]` line
 * naming the help to read, exit 2 (as README's "Exit codes" promise).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/run-cli.js';

describe('portcullis without a command', () => {
  test('bare `portcullis` prints the help to stderr and exits 2', async () => {
    const res = await runCli([]);
    assert.equal(res.code, 2);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^Usage: portcullis \[options\] \[command\]/);
    assert.match(res.stderr, /^ {2}sbom \[options\] <image>/m);
  });

  test('a command group without its subcommand (`portcullis db`) does the same', async () => {
    const res = await runCli(['db']);
    assert.equal(res.code, 2);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^Usage: portcullis db \[options\] \[command\]/);
  });

  test('asking for help is not an error', async () => {
    for (const args of [['--help'], ['help'], ['scan', '--help']]) {
      const res = await runCli(args);
      assert.equal(res.code, 0, args.join(' '));
      assert.match(res.stdout, /^Usage: portcullis/, args.join(' '));
      assert.equal(res.stderr, '', args.join(' '));
    }
  });
});

describe('option parsing errors', () => {
  const cases: { args: string[]; message: string; help: string }[] = [
    { args: ['sbom', 'dir:/', '--bogus'], message: "unknown option '--bogus'", help: 'portcullis sbom' },
    { args: ['sbom'], message: "missing required argument 'image'", help: 'portcullis sbom' },
    { args: ['sbom', 'dir:/', '--format', 'yaml'], message: "option '-f, --format <format>' argument 'yaml' is invalid. Allowed choices are json, cyclonedx", help: 'portcullis sbom' },
    { args: ['scan', 'dir:/', '--exit-code'], message: "option '--exit-code <n>' argument missing", help: 'portcullis scan' },
    { args: ['version', 'compare', '1', '2'], message: "required option '-s, --scheme <scheme>' not specified", help: 'portcullis version compare' },
    { args: ['db', 'status', 'extra'], message: "too many arguments for 'status'. Expected 0 arguments but got 1", help: 'portcullis db status' },
    { args: ['sbomm'], message: "unknown command 'sbomm' (Did you mean sbom?)", help: 'portcullis' },
  ];
  for (const c of cases) {
    test(`portcullis ${c.args.join(' ')}`, async () => {
      const res = await runCli(c.args);
      assert.equal(res.code, 2, res.stderr);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, `portcullis: ${c.message}; see '${c.help} --help' [E_USAGE]\n`);
    });
  }
});
