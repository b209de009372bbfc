import { Command, Option } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import { inventoryToCycloneDx } from '../../sbom/index.js';
import { inventoryReference } from '../../services/inventory-service.js';
import { addImageOptions, imageOptionsFrom, positiveInt, type ImageCliOptions } from '../options.js';
import { writeOutput } from '../output.js';
import { createProgress, progressMode, writeRunSummary } from '../progress.js';

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
    const mode = progressMode(opts.quiet === true);
    const progress = createProgress(mode);
    let inventories;
    try {
      inventories = await inventoryReference({
        reference,
        image: { ...imageOptionsFrom(opts), onProgress: (p) => progress.onProgress(p) },
        onWalkProgress: (p) => progress.onWalk(p),
        cache: opts.cache === false ? false : (opts.cacheDir ?? true),
        concurrency: positiveInt(opts.concurrency, '--concurrency', 3),
      });
    } finally {
      progress.stop();
    }
    let content: string;
    if (opts.format === 'cyclonedx') {
      const [only, ...rest] = inventories;
      if (only === undefined || rest.length > 0) {
        throw new PortcullisError('E_USAGE', 'sbom: CycloneDX output holds one image; choose one with --platform os/arch');
      }
      content = JSON.stringify(inventoryToCycloneDx(only), null, 2);
    } else {
      content = JSON.stringify(inventories.length === 1 ? inventories[0] : inventories, null, 2);
    }
    await writeOutput(opts.output, `${content}\n`);
    writeRunSummary(mode, { inventories, warnings: inventories.flatMap((inv) => inv.warnings), progress });
  });
  return cmd;
}
