/**
 * `db import`: build the DB from local files, folders and zips, each file recognized by its feed.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { PortcullisError } from '../domain/errors.js';
import { FEEDS } from '../feeds/registry.js';
import type { Feed, FeedFile } from '../feeds/types.js';
import { DEFAULT_ZIP_LIMITS, looksLikeZip, unzipFiles, type ZipLimits } from './archive.js';
import { buildVulnDb, type BuildInput, type BuildSummary } from './build.js';
import { defaultDbPath } from './paths.js';

export interface ImportOptions {
  /** DB file to write (default: defaultDbPath()). */
  target?: string;
  /** Feeds to recognize files with, in order (default: the registry). */
  feeds?: readonly Feed[];
  /** Keep the target's feeds that this import does not provide (default true). */
  keepOthers?: boolean;
  /** Bounds on each zip entry (default DEFAULT_ZIP_LIMITS). */
  zipLimits?: ZipLimits;
  now?: () => Date;
}

export interface ImportSummary {
  build: BuildSummary;
  /** Files per feed id that were recognized and given to the feed. */
  filesByFeed: Record<string, number>;
  /** Files no feed recognized (reported, not fatal), as given or as `archive.zip!/entry`. */
  unrecognized: string[];
}

interface Candidate {
  file: FeedFile;
  /** Shown to people: absolute path, or `archive.zip!/entry`. */
  display: string;
  root: string;
}

async function collect(path: string, out: Candidate[], seenDirs: Set<string>, zipLimits: ZipLimits): Promise<void> {
  const root = resolve(path);
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `vulndb: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { path });
  }
  const addFile = async (abs: string, name: string): Promise<void> => {
    // A zip is read entry by entry from disk, never whole: its entries are what the limits bound.
    if (/\.zip$/i.test(abs) && looksLikeZip(readHead(abs, 4))) {
      for (const entry of await unzipFiles({ path: abs }, abs, zipLimits)) out.push({ file: entry, display: `${abs}!/${entry.name}`, root });
      return;
    }
    out.push({ file: { name, bytes: readFileSync(abs) }, display: abs, root });
  };
  if (st.isFile()) {
    await addFile(root, basename(root));
    return;
  }
  if (!st.isDirectory()) return;
  const walk = async (dir: string): Promise<void> => {
    // Symlinked folders are followed once; a loop is not walked twice.
    const real = realpathSync(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      let s;
      try {
        s = statSync(abs);
      } catch {
        continue;
      }
      if (s.isDirectory()) await walk(abs);
      else if (s.isFile()) await addFile(abs, relative(root, abs));
    }
  };
  await walk(root);
}

/** The first `length` bytes of a file (fewer when it is shorter). */
function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Imports local files, folders (walked recursively, hidden entries skipped) and zips (their
 * entries). Each file goes to the first feed (registry order) whose `recognizes()` accepts it;
 * unrecognized files are listed in the summary. A zip entry over `zipLimits` is E_TOO_LARGE. Feeds found are rebuilt from these files alone;
 * the target's other feeds are kept unless `keepOthers` is false. Throws E_INPUT when a path is
 * unreadable or no file is recognized (the DB is then left untouched).
 */
export async function importFeeds(paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  if (paths.length === 0) throw new PortcullisError('E_USAGE', 'vulndb: import needs at least one path');
  const feeds = options.feeds ?? FEEDS;
  const candidates: Candidate[] = [];
  const seenDirs = new Set<string>();
  for (const p of paths) await collect(p, candidates, seenDirs, options.zipLimits ?? DEFAULT_ZIP_LIMITS);

  const byFeed = new Map<string, { feed: Feed; files: FeedFile[]; roots: Set<string> }>();
  const unrecognized: string[] = [];
  for (const c of candidates) {
    const feed = feeds.find((f) => {
      try {
        return f.recognizes(c.file);
      } catch {
        // A recognizer that throws on odd bytes simply does not recognize them.
        return false;
      }
    });
    if (feed === undefined) {
      unrecognized.push(c.display);
      continue;
    }
    let group = byFeed.get(feed.id);
    if (group === undefined) {
      group = { feed, files: [], roots: new Set() };
      byFeed.set(feed.id, group);
    }
    group.files.push(c.file);
    group.roots.add(c.root);
  }
  if (byFeed.size === 0) {
    throw new PortcullisError('E_INPUT', `vulndb: nothing to import: no file under ${paths.join(', ')} is in a known feed format`, { unrecognized: unrecognized.length });
  }
  const fetchedAt = (options.now?.() ?? new Date()).toISOString();
  const inputs: BuildInput[] = [...byFeed.values()].map((g) => ({
    feed: g.feed,
    files: g.files,
    source: `import:${[...g.roots].join(',')}`,
    fetchedAt,
  }));
  const target = options.target ?? defaultDbPath();
  const build = await buildVulnDb(target, inputs, {
    ...(options.keepOthers === false ? {} : { keepFrom: target }),
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    build,
    filesByFeed: Object.fromEntries([...byFeed.values()].map((g) => [g.feed.id, g.files.length])),
    unrecognized,
  };
}
