import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DetectorOutput } from '../detectors/types.js';
import type { DetectorLayerResult, IndexedEntry, LayerDeletions } from '../layers/layer-result.js';

const CACHE_SCHEMA = 'portcullis.layer-cache/v1';
/** Bump when the walk's own output (deletions, file index) changes meaning. 2: the index holds links with their targets and special files. */
export const WALK_VERSION = 2;

/** Default cache root: $PORTCULLIS_CACHE_DIR, else $XDG_CACHE_HOME/portcullis, else ~/.cache/portcullis. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_CACHE_DIR) return env.PORTCULLIS_CACHE_DIR;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'portcullis');
}

interface Envelope<T> {
  schema: typeof CACHE_SCHEMA;
  digest: string;
  key: string;
  sha256: string;
  payload: T;
}

/**
 * Per-layer results, content-addressed by layer digest, one file per `detector@version` (and one
 * for the layer's deletions), so a detector whose version changes invalidates only its own entries.
 * Entries are written atomically (temp file + rename) and carry a checksum; an entry that does not
 * parse, does not verify or belongs to another key is deleted and reported as a miss: the cache is
 * never trusted over the image.
 */
export class LayerCache {
  /** Keys of entries found corrupt since the cache was opened (for reporting). */
  readonly discarded: string[] = [];

  constructor(readonly root: string) {}

  async getDeletions(digest: string): Promise<LayerDeletions | undefined> {
    return this.read<LayerDeletions>(digest, `walk@${WALK_VERSION}`, isDeletions);
  }

  async putDeletions(digest: string, deletions: LayerDeletions): Promise<void> {
    await this.write(digest, `walk@${WALK_VERSION}`, { whiteouts: deletions.whiteouts, opaqueDirs: deletions.opaqueDirs });
  }

  /** The layer's file index (paths, sizes, modes), stored gzip-compressed: large layers list many files. */
  async getFileIndex(digest: string): Promise<IndexedEntry[] | undefined> {
    const packed = await this.read<{ gz: string }>(digest, `index@${WALK_VERSION}`, isPackedIndex);
    if (!packed) return undefined;
    try {
      return decodeIndex(gunzipSync(Buffer.from(packed.gz, 'base64')).toString('utf8'));
    } catch {
      this.discarded.push(`${digest}/index@${WALK_VERSION}`);
      return undefined;
    }
  }

  async putFileIndex(digest: string, index: readonly IndexedEntry[]): Promise<void> {
    // One JSON row per entry: names and link targets may hold any character but NUL.
    const text = JSON.stringify(index.map((e) => (e.type === undefined ? [e.path, e.size, e.mode] : [e.path, e.size, e.mode, e.type, e.target ?? ''])));
    await this.write(digest, `index@${WALK_VERSION}`, { gz: gzipSync(text).toString('base64') });
  }

  async getDetector(digest: string, detector: string, version: number): Promise<DetectorLayerResult | undefined> {
    const result = await this.read<DetectorLayerResult>(digest, `${detector}@${version}`, isDetectorResult);
    return result && result.detector === detector && result.version === version ? result : undefined;
  }

  async putDetector(digest: string, result: DetectorLayerResult): Promise<void> {
    await this.write(digest, `${result.detector}@${result.version}`, result);
  }

  /**
   * What a detector read from the file at `sourcePath` of this layer as if it stood at `linkPath`
   * (a link elsewhere in the image leads to it), so a warm scan follows the link without reading
   * the layer again.
   */
  async getLinked(digest: string, detector: string, version: number, sourcePath: string, linkPath: string): Promise<DetectorOutput | undefined> {
    const entry = await this.read<LinkedEntry>(digest, linkedKey(detector, version, sourcePath, linkPath), isLinkedEntry);
    const matches = entry?.detector === detector && entry.version === version && entry.sourcePath === sourcePath && entry.linkPath === linkPath;
    return matches ? entry.output : undefined;
  }

  async putLinked(digest: string, detector: string, version: number, sourcePath: string, linkPath: string, output: DetectorOutput): Promise<void> {
    await this.write(digest, linkedKey(detector, version, sourcePath, linkPath), { detector, version, sourcePath, linkPath, output } satisfies LinkedEntry);
  }

  private fileFor(digest: string, key: string): string {
    const [alg, hex] = splitDigest(digest);
    return join(this.root, 'layers', alg, hex.slice(0, 2), hex, `${encodeURIComponent(key)}.json`);
  }

  private async read<T>(digest: string, key: string, valid: (v: unknown) => v is T): Promise<T | undefined> {
    const file = this.fileFor(digest, key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const env = JSON.parse(text) as Partial<Envelope<unknown>>;
      if (env.schema !== CACHE_SCHEMA || env.digest !== digest || env.key !== key) throw new Error('wrong key');
      if (env.sha256 !== checksum(env.payload) || !valid(env.payload)) throw new Error('checksum');
      return env.payload;
    } catch {
      this.discarded.push(`${digest}/${key}`);
      await rm(file, { force: true });
      return undefined;
    }
  }

  private async write(digest: string, key: string, payload: unknown): Promise<void> {
    const file = this.fileFor(digest, key);
    const dir = join(file, '..');
    await mkdir(dir, { recursive: true });
    // The payload (200,000 packages for a large status file) is stringified once, for both the
    // checksum and the file, and written as it is rather than concatenated into a second copy.
    const body = JSON.stringify(payload) ?? 'null';
    const head = JSON.stringify({ schema: CACHE_SCHEMA, digest, key, sha256: sha256Of(body) } satisfies Omit<Envelope<unknown>, 'payload'>);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, [`${head.slice(0, -1)},"payload":`, body, '}']);
    await rename(tmp, file);
  }
}

interface LinkedEntry {
  detector: string;
  version: number;
  sourcePath: string;
  linkPath: string;
  output: DetectorOutput;
}

/** One file per detector version, file and link; paths are hashed to keep the file name short. */
function linkedKey(detector: string, version: number, sourcePath: string, linkPath: string): string {
  return `linked@${detector}@${version}@${sha256Of(`${sourcePath}\u0000${linkPath}`).slice(0, 32)}`;
}

function isLinkedEntry(v: unknown): v is LinkedEntry {
  const e = v as Partial<LinkedEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.detector === 'string' &&
    typeof e.version === 'number' &&
    typeof e.sourcePath === 'string' &&
    typeof e.linkPath === 'string' &&
    typeof e.output === 'object' &&
    e.output !== null
  );
}

function decodeIndex(text: string): IndexedEntry[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows)) throw new Error('layer cache: bad index');
  return rows.map((row: unknown) => {
    if (!Array.isArray(row)) throw new Error('layer cache: bad index row');
    const [path, size, mode, type, target] = row as unknown[];
    if (typeof path !== 'string' || typeof size !== 'number' || typeof mode !== 'number') throw new Error('layer cache: bad index row');
    if (type === undefined) return { path, size, mode };
    if ((type !== 'symlink' && type !== 'hardlink' && type !== 'other') || typeof target !== 'string') throw new Error('layer cache: bad index row');
    return type === 'other' ? { path, size, mode, type } : { path, size, mode, type, target };
  });
}

function isPackedIndex(v: unknown): v is { gz: string } {
  return typeof v === 'object' && v !== null && typeof (v as { gz?: unknown }).gz === 'string';
}

function checksum(payload: unknown): string {
  return sha256Of(JSON.stringify(payload) ?? '');
}

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function splitDigest(digest: string): [string, string] {
  const m = /^([a-z0-9]+):([a-f0-9]{32,})$/.exec(digest);
  if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`layer cache: not a digest: ${digest}`);
  return [m[1], m[2]];
}

function isDeletions(v: unknown): v is LayerDeletions {
  const d = v as Partial<LayerDeletions> | null;
  return typeof d === 'object' && d !== null && Array.isArray(d.whiteouts) && Array.isArray(d.opaqueDirs);
}

function isDetectorResult(v: unknown): v is DetectorLayerResult {
  const d = v as Partial<DetectorLayerResult> | null;
  return (
    typeof d === 'object' && d !== null && typeof d.detector === 'string' && typeof d.version === 'number' && Array.isArray(d.files) && Array.isArray(d.links)
  );
}
