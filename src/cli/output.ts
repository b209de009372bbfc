import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { WritableSink, type TextSink } from '../util/json-stream.js';
import { dirname, join, basename } from 'node:path';
import { PortcullisError } from '../domain/errors.js';

/**
 * Whether `target` is a device, FIFO or socket (`--output /dev/null`, `/dev/stderr`, a named pipe a
 * CI step reads). Those are written to as they are: a temp file renamed over one would replace the
 * node itself, and run as root that turned /dev/null into a regular file for the whole machine.
 * Atomicity means nothing for them anyway.
 */
async function isSpecialFile(target: string): Promise<boolean> {
  try {
    const s = await stat(target);
    return !s.isFile() && !s.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes a whole output file or nothing: the content goes to a temp file beside the target and is
 * renamed over it, so a failure never leaves a partial report behind. `-` means stdout; a device,
 * FIFO or socket is written in place (isSpecialFile).
 */
export async function writeOutput(target: string | undefined, content: string): Promise<void> {
  if (target === undefined || target === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(content, (err) => (err ? reject(err) : resolve())));
    return;
  }
  if (await isSpecialFile(target)) {
    await writeFile(target, content).catch((err: unknown) => {
      throw new PortcullisError('E_INPUT', `output: cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`, { target });
    });
    return;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new PortcullisError('E_INPUT', `output: cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`, { target });
  }
}

/**
 * writeOutput for content too large to hold as one string: `produce` writes it piece by piece to a
 * sink (see writeJson). A file is still written whole or not at all (temp file, then rename); a
 * device, FIFO or socket is written in place.
 */
export async function writeOutputStream(target: string | undefined, produce: (sink: TextSink) => Promise<void>): Promise<void> {
  if (target === undefined || target === '-') {
    const sink = new WritableSink(process.stdout);
    await produce(sink);
    await sink.flush();
    return;
  }
  const inPlace = await isSpecialFile(target);
  const tmp = inPlace ? target : join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const file = createWriteStream(tmp);
  // A write error would otherwise surface only as an unhandled 'error' event.
  const failed = new Promise<never>((_, reject) => file.once('error', reject));
  failed.catch(() => undefined);
  try {
    const sink = new WritableSink(file);
    await Promise.race([produce(sink).then(() => sink.flush()), failed]);
    file.end();
    await Promise.race([once(file, 'finish'), failed]);
    if (!inPlace) await rename(tmp, target);
  } catch (err) {
    file.destroy();
    if (!inPlace) await rm(tmp, { force: true });
    if (err instanceof PortcullisError) throw err;
    throw new PortcullisError('E_INPUT', `output: cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`, { target });
  }
}
