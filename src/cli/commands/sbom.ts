import { Command, Option } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import { addImageOptions, imageOptionsFrom, positiveInt, type ImageCliOptions } from '../options.js';
import { writeJson } from '../../util/json-stream.js';
import { writeOutputStream } from '../output.js';
import { interruptOnSignals } from '../interrupt.js';

interface SbomOptions extends ImageCliOptions {
  format: 'json' | 'cyclonedx';
  output?: string;
  quiet?: boolean;
}

/** `portcullis sbom IMAGE`: the package inventory of an image, as Portcullis JSON or CycloneDX 1.6. */
export function sbomCommand(): Command {
  const cmd = new Command('sbom')
    .description('list every package in an image, with the layer that introduced it')
    .argument('<image>', 'registry reference, oci:DIR[:TAG], docker-archive:FILE or dir:PATH')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'cyclonedx']).default('json'))
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option('-q, --quiet', 'nothing on stderr: no progress, summary or warnings (errors still)');
  addImageOptions(cmd);
  cmd.action(async (reference: string, opts: SbomOptions) => {
    // The engine is loaded only when the command runs, so `--help` and other commands start fast.
    const [{ Engine }, { LayerCache, defaultCacheDir }, { createProgress, progressMode, writeRunSummary }, { defaultEngineContext }] = await Promise.all([
      import('../../services/engine.js'),
      import('../../cache/layer-cache.js'),
      import('../progress.js'),
      import('../../engine/context.js'),
    ]);
    const access = imageOptionsFrom(opts);
    const mode = progressMode(opts.quiet === true);
    const progress = createProgress(mode);
    let inventories;
    const interrupt = interruptOnSignals();
    try {
      // Index only: the engine without an advisory store.
      const engine = new Engine({
        context: defaultEngineContext({ quiet: opts.quiet === true, credentials: access.credentials, signal: interrupt.signal }),
        ...(opts.cache === false ? {} : { layerCache: new LayerCache(opts.cacheDir ?? defaultCacheDir()) }),
      });
      inventories = await engine.index({
        reference,
        image: { ...access.image, onProgress: (p) => progress.onProgress(p) },
        onWalkProgress: (p) => progress.onWalk(p),
        concurrency: positiveInt(opts.concurrency, '--concurrency', 3),
      });
    } finally {
      interrupt.dispose();
      progress.stop();
    }
    // Written piece by piece: the document of a 200,000-package image is never one string.
    let document: unknown;
    if (opts.format === 'cyclonedx') {
      const [only, ...rest] = inventories;
      if (only === undefined || rest.length > 0) {
        throw new PortcullisError('E_USAGE', 'sbom: CycloneDX output holds one image; choose one with --platform os/arch');
      }
      // The CycloneDX library is only needed for this format.
      const { inventoryToCycloneDxStream } = await import('../../sbom/index.js');
      document = inventoryToCycloneDxStream(only);
    } else {
      document = inventories.length === 1 ? inventories[0] : inventories;
    }
    // Streamed down to the package list; each package (or component) is stringified whole.
    const depth = Array.isArray(document) ? 3 : 2;
    await writeOutputStream(opts.output, async (sink) => {
      await writeJson(document, sink, depth);
      await sink.write('\n');
    });
    writeRunSummary(mode, { inventories, warnings: inventories.flatMap((inv) => inv.warnings), progress });
  });
  return cmd;
}
