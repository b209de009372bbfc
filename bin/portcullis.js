#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ (esbuild, by `npm run build`, which `npm ci` runs
// through the prepare script); each command loads its engine code only when it runs.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
