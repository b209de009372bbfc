import { Command, CommanderError } from 'commander';
import { PortcullisError, toPortcullisError } from '../domain/errors.js';
import { TOOL_VERSION } from '../version.js';
import { sbomCommand } from './commands/sbom.js';
import { versionCommand } from './commands/version-compare.js';
import { dbCommand } from './commands/db.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { userCommand } from './commands/user.js';
import { workerCommand } from './commands/worker.js';
import type { RunContext } from './run-context.js';

export type { RunContext } from './run-context.js';

/**
 * Exit codes of every command (README documents them). `brokenPipe` is what a shell reports for a
 * tool killed by SIGPIPE (128 + 13): the reader of our standard output went away before the output
 * was complete (`portcullis sbom IMAGE | head`), so the command did not finish, and says nothing.
 */
export const EXIT = { ok: 0, unapproved: 1, error: 2, noFeatures: 5, brokenPipe: 141 } as const;

/** Whether `err` (or what it wraps) is a write to a pipe whose reader has gone. */
function isBrokenPipe(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

/**
 * Node emits a failed stdout write as an 'error' event too, and an unheard 'error' event kills the
 * process with a stack trace; the write's own callback already carries the failure to main().
 */
function hearStdoutErrors(): void {
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined);
}


/** `portcullis db update`: the command's full name, for the hint after a usage error. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Makes every command of the tree throw instead of exiting, and keeps commander's own error line
 * quiet: main() prints usage errors in the product's `portcullis: <message> [E_USAGE]` form.
 * `onError` learns which command rejected its arguments, to point at that command's help.
 */
function configureTree(cmd: Command, onError: (cmd: Command) => void): void {
  cmd
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => onError(cmd) });
  for (const sub of cmd.commands) configureTree(sub, onError);
}

function buildProgram(ctx: RunContext, onError: (cmd: Command) => void): Command {
  const program = new Command('portcullis')
    .description('Container-image security scanner: package inventory, vulnerability matching and a CI gate')
    .version(TOOL_VERSION, '-V, --version');
  for (const cmd of [sbomCommand(), scanCommand(ctx), versionCommand(), dbCommand(), serveCommand(), workerCommand(), tokenCommand(), userCommand()]) program.addCommand(cmd);
  configureTree(program, onError);
  return program;
}

/** The one-line form of a commander parse error, naming the help to read. */
function usageError(err: CommanderError, failed: Command | undefined): PortcullisError {
  const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  const hint = failed ? `; see '${commandPath(failed)} --help'` : '';
  return new PortcullisError('E_USAGE', `${message}${hint}`, { commanderCode: err.code });
}

/**
 * Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process.
 * Typed errors print `portcullis: <message> [<code>]` and map to their exit code; anything else is
 * an internal error (exit 2), never a stack trace on the user's terminal unless PORTCULLIS_DEBUG is set.
 * Usage errors (unknown option, missing argument, bad choice ...) are E_USAGE, exit 2; a command
 * run without its subcommand (bare `portcullis`, `portcullis db`) prints its help to stderr and exits 2.
 */
export async function main(argv: string[]): Promise<number> {
  const ctx: RunContext = { exitCode: EXIT.ok };
  hearStdoutErrors();
  let failed: Command | undefined;
  const program = buildProgram(ctx, (cmd) => {
    failed = cmd;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (isBrokenPipe(err)) return EXIT.brokenPipe;
    let typed: PortcullisError;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // Help printed because something was missing (exit code 1 from commander), not because it was asked for.
      if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.ok : EXIT.error;
      typed = usageError(err, failed);
    } else {
      typed = err instanceof PortcullisError ? err : toPortcullisError(err);
    }
    process.stderr.write(`portcullis: ${typed.message} [${typed.code}]\n`);
    if (process.env.PORTCULLIS_DEBUG) process.stderr.write(`${String((err as Error).stack)}\n`);
    return typed.exitCode;
  }
}
