#!/usr/bin/env node
// Bundles the CLI into dist/ with esbuild (run by `npm run build`, hence by `npm ci`). One bundle
// instead of hundreds of modules is what makes start-up fast: Node resolves, reads and compiles a
// handful of files. Each command's engine code is a dynamic import in its action, so it becomes a
// separate chunk that only that command loads. Type-checking stays with tsc (`npm run typecheck`).
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeMetafile, build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist`;

// Loaded from node_modules at run time rather than bundled: native addons (their .node files cannot
// be bundled) and the CycloneDX library, which finds its schema files next to itself (__dirname)
// and probes optional plug-ins with require(). Both are dependencies, so an install has them.
const EXTERNAL = ['better-sqlite3', 'zstd-napi', '@cyclonedx/cyclonedx-library'];

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: EXTERNAL,
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "import { createRequire as __portcullisCreateRequire } from 'node:module'; const require = __portcullisCreateRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
if (result.errors.length > 0) process.exit(1);
// `--analyze`: what each chunk holds, to see what a command loads. `--metafile FILE`: esbuild's
// record of every input and output (the built-CLI test reads it to check what start-up loads).
if (process.argv.includes('--analyze')) process.stdout.write(await analyzeMetafile(result.metafile));
const metafileAt = process.argv.indexOf('--metafile');
if (metafileAt !== -1) {
  const target = process.argv[metafileAt + 1];
  if (target === undefined) throw new Error('bundle: --metafile needs a file name');
  writeFileSync(target, JSON.stringify(result.metafile));
}
