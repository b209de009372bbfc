#!/usr/bin/env node
// Bundles the CLI into dist/ with esbuild (run by `npm run build`, hence by `npm ci`). One bundle
// instead of hundreds of modules is what makes start-up fast: Node resolves, reads and compiles a
// handful of files. Each command's engine code is a dynamic import in its action, so it becomes a
// separate chunk that only that command loads. Type-checking stays with tsc (`npm run typecheck`).
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { analyzeMetafile, build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist`;

// Native addons are loaded from node_modules at run time: their .node files cannot be bundled.
const NATIVE = ['better-sqlite3', 'zstd-napi'];
// The registry service's server stack (`portcullis serve`, `worker`, `token`, all loaded lazily) is
// also left to node_modules, as in development: start-up never loads it, and plug-ins that find
// files or worker threads next to themselves keep working.
const SERVICE_STACK = ['fastify', '@fastify/swagger', '@fastify/cookie', '@fastify/helmet', '@fastify/static', 'fastify-type-provider-zod', 'pino', 'pg', 'kysely'];
// Optional plug-ins (validators, an XML writer) the CycloneDX library probes with require() as it
// loads, and does without. Portcullis uses none of them, and an installed Portcullis has none
// (they are not its dependencies); in a development tree ajv is present and would be loaded on
// every scan. The bundle answers "not installed" for them, as an installed package would.
const OPTIONAL_PLUGINS = /^(ajv|ajv-formats|ajv-formats-draft2019|libxmljs2|xmlbuilder2)$/;
const absentOptionalPlugins = {
  name: 'absent-optional-plugins',
  setup(b) {
    b.onResolve({ filter: OPTIONAL_PLUGINS }, (args) => ({ path: args.path, namespace: 'absent-optional-plugin' }));
    b.onLoad({ filter: /.*/, namespace: 'absent-optional-plugin' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

// The CycloneDX library locates its schema files from __dirname, which a bundle does not have:
// point it at the installed package (a dependency, so present wherever the CLI is installed).
const cyclonedxResources = {
  name: 'cyclonedx-resources',
  setup(b) {
    b.onLoad({ filter: /@cyclonedx[\\/]cyclonedx-library[\\/]dist\.node[\\/]resources\.node\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const packageDir = "require('node:path').join(require('node:path').dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'dist.node')";
      if (!source.includes('__dirname')) throw new Error(`bundle: ${args.path} no longer uses __dirname; revisit this plug-in`);
      return { contents: source.replaceAll('__dirname', packageDir), loader: 'js' };
    });
  },
};

// Only the bundle's own folders: dist/ui is the web UI's build (`npm run build:ui`), which a
// re-bundle (the built-CLI test runs one) must leave in place.
for (const own of ['cli', 'chunks']) rmSync(`${outdir}/${own}`, { recursive: true, force: true });
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
  external: [...NATIVE, ...SERVICE_STACK],
  plugins: [cyclonedxResources, absentOptionalPlugins],
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
