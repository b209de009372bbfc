import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import { InvalidVersionError, VERSION_SCHEME_IDS, type VersionSchemeId } from '../../versioning/types.js';

interface CompareOptions {
  scheme: VersionSchemeId;
  input?: string;
}

async function writeStdout(text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

function openInput(path: string | undefined): Readable {
  if (path === undefined || path === '-') return process.stdin;
  const stream = createReadStream(path);
  stream.on('error', () => undefined); // reported through the iteration in compareLines
  return stream;
}

/**
 * `portcullis version compare --scheme S [A B]`: with two versions, prints -1, 0 or 1 (an invalid
 * version is a usage error). Without them, reads `a<TAB>b` lines from --input (default stdin) and
 * prints one answer per line: -1, 0, 1 or `invalid`. Exit 0 unless the input cannot be read.
 */
export function versionCommand(): Command {
  const version = new Command('version').description(`version-scheme tools (${VERSION_SCHEME_IDS.join(', ')})`);
  const compare = new Command('compare')
    .description('compare two versions, or a stream of tab-separated version pairs, with an ecosystem version scheme')
    .addOption(new Option('-s, --scheme <scheme>', 'version scheme').choices(VERSION_SCHEME_IDS).makeOptionMandatory())
    .option('-i, --input <file>', 'file of a<TAB>b lines ("-" or absent: standard input)')
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .exitOverride()
    .action(async (a: string | undefined, b: string | undefined, opts: CompareOptions) => {
      // The schemes (semver, pep440 ...) load only when the command runs, not for `--help`.
      const [{ getScheme }, { compareLines }] = await Promise.all([import('../../versioning/index.js'), import('../../versioning/compare-lines.js')]);
      const scheme = getScheme(opts.scheme);
      if (a !== undefined || b !== undefined) {
        if (a === undefined || b === undefined || opts.input !== undefined) {
          throw new PortcullisError('E_USAGE', 'version compare: give two versions, or none and a stream of pairs');
        }
        try {
          await writeStdout(`${scheme.compare(a, b)}\n`);
        } catch (err) {
          if (err instanceof InvalidVersionError) throw new PortcullisError('E_USAGE', `version compare: ${err.message}`, { scheme: opts.scheme });
          throw err;
        }
        return;
      }
      try {
        await compareLines(scheme, openInput(opts.input), process.stdout);
      } catch (err) {
        if (err instanceof PortcullisError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        throw new PortcullisError('E_INPUT', `version compare: cannot read ${opts.input ?? 'standard input'}: ${message}`, {}, { cause: err });
      }
    });
  version.addCommand(compare);
  return version;
}
