// Runs the CLI from source exactly as bin/portcullis.js runs the built one (used by tests that
// spawn the real process to see its exit code, stdout and stderr).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
