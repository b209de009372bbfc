import { Command, CommanderError } from 'commander';
import { PortcullisError, toPortcullisError } from '../domain/errors.js';
import { TOOL_VERSION } from '../version.js';
import { sbomCommand } from './commands/sbom.js';
import { versionCommand } from './commands/version-compare.js';
import { dbCommand } from './commands/db.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { workerCommand } from './commands/worker.js';

/** Exit codes of every command (README documents them). */
export const EXIT = { ok: 0, unapproved: 1, error: 2, noFeatures: 5 } as const;

/** Lets a command choose the exit code of a successful run (e.g. 1 for unapproved findings). */
export interface RunContext {
  exitCode: number;
}

function buildProgram(ctx: RunContext): Command {
  const program = new Command('portcullis')
    .description('Container-image security scanner: package inventory, vulnerability matching and a CI gate')
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const cmd of [sbomCommand(), scanCommand(ctx), versionCommand(), dbCommand(), serveCommand(), workerCommand(), tokenCommand()]) {
    cmd.exitOverride();
    program.addCommand(cmd);
  }
  return program;
}

/**
 * Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process.
 * Typed errors print `portcullis: <message> [<code>]` and map to their exit code; anything else is
 * an internal error (exit 2), never a stack trace on the user's terminal unless PORTCULLIS_DEBUG is set.
 */
export async function main(argv: string[]): Promise<number> {
  const ctx: RunContext = { exitCode: EXIT.ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.error;
    }
    const typed = err instanceof PortcullisError ? err : toPortcullisError(err);
    process.stderr.write(`portcullis: ${typed.message} [${typed.code}]\n`);
    if (process.env.PORTCULLIS_DEBUG) process.stderr.write(`${String((err as Error).stack)}\n`);
    return typed.exitCode;
  }
}
