/**
 * Tests that check Portcullis against a real tool (dpkg, rpm, ruby's Gem::Version, go, objcopy,
 * zstd, skopeo) as an oracle. On a developer's machine without the tool the test is skipped and
 * says which Debian package brings it; where `PORTCULLIS_REQUIRE_TOOLS` is set (.ci/run sets it,
 * having installed them all) a missing tool fails the test instead, so CI never skips an oracle
 * silently.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

/** Whether `command` runs here (`command --version`, or `probe` when the tool has no such flag). */
export function hasTool(command: string, probe: readonly string[] = ['--version']): boolean {
  const key = [command, ...probe].join(' ');
  let ok = found.get(key);
  if (ok === undefined) {
    const run = spawnSync(command, probe, { stdio: 'ignore', timeout: 30_000 });
    ok = run.error === undefined && run.status === 0;
    found.set(key, ok);
  }
  return ok;
}

/** Whether missing oracle tools fail tests (CI) rather than skip them (a developer's machine). */
export function toolsRequired(): boolean {
  return (process.env.PORTCULLIS_REQUIRE_TOOLS ?? '') !== '';
}

/**
 * True when `command` is available; otherwise skips `t` with the reason (or fails it where tools are
 * required). Use as `if (!needTool(t, 'rpm', 'rpm')) return;`.
 */
export function needTool(t: TestContext, command: string, debianPackage: string, probe?: readonly string[]): boolean {
  if (hasTool(command, probe)) return true;
  const reason = `${command} is not installed (Debian package ${debianPackage}); it is the oracle this test compares with`;
  if (toolsRequired()) assert.fail(`${reason}, and PORTCULLIS_REQUIRE_TOOLS is set`);
  t.skip(reason);
  return false;
}

/**
 * For `describe(name, { skip: skipWithout('dpkg-query', 'dpkg') }, ...)` and the same on `test`:
 * false when `command` is available; otherwise the reason to skip (or, where tools are required,
 * a thrown failure at collection time).
 */
export function skipWithout(command: string, debianPackage: string, probe?: readonly string[]): false | string {
  if (hasTool(command, probe)) return false;
  const reason = `${command} is not installed (Debian package ${debianPackage}); it is the oracle these tests compare with`;
  if (toolsRequired()) throw new Error(`${reason}, and PORTCULLIS_REQUIRE_TOOLS is set`);
  return reason;
}
