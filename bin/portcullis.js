#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ (esbuild, by `npm run build`, which `npm ci` runs
// through the prepare script); each command loads its engine code only when it runs.
// PORTCULLIS_DEBUG prints stack traces: map them from the bundle back to src/.
if (process.env.PORTCULLIS_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
