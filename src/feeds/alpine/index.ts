/**
 * Alpine and Wolfi security databases (secdb format, see secdb.ts).
 */
import type { AdvisoryFeed, FeedFile, FeedUpstream } from '../types.js';
import { head } from '../text.js';
import { alpineNamespace, parseSecdbFiles, wolfiNamespace } from './secdb.js';

export { idsOfLine, parseSecdbFiles, alpineNamespace, wolfiNamespace, type LineIds, type SecdbParseOptions } from './secdb.js';

/** Where Alpine serves secdb documents. */
export const ALPINE_SECDB_BASE = 'https://secdb.alpinelinux.org';

/** Alpine releases whose secdb `db update` fetches (each has `main` and `community`). */
export const ALPINE_RELEASES = ['v3.10', 'v3.11', 'v3.12', 'v3.13', 'v3.14', 'v3.15', 'v3.16', 'v3.17', 'v3.18', 'v3.19', 'v3.20', 'v3.21', 'v3.22', 'edge'] as const;

/** Where Wolfi serves its secdb. */
export const WOLFI_SECDB_URL = 'https://packages.wolfi.dev/os/security.json';

type SecdbFlavour = 'alpine' | 'wolfi';

/**
 * Which secdb flavour a file is, by content: secdb documents have `packages` with `pkg`/`secfixes`;
 * Alpine's name a `distroversion`, Wolfi's do not and point at packages.wolfi.dev (or name the
 * `os` repository). Undefined for anything else.
 */
export function secdbFlavour(file: FeedFile): SecdbFlavour | undefined {
  if (!/\.(json|ya?ml)$/i.test(file.name)) return undefined;
  const text = head(file.bytes, 1 << 20);
  const hasPackages = /["']?packages["']?\s*:/.test(text);
  // An empty secdb (`packages: null`) still carries the `apkurl` template.
  const isSecdb = hasPackages && (/["']?(secfixes|pkg)["']?\s*:/.test(text) || /["']?apkurl["']?\s*:/.test(text));
  if (!isSecdb) return undefined;
  if (/["']?distroversion["']?\s*:/.test(text)) return 'alpine';
  if (/wolfi\.dev/.test(text) || /["']?reponame["']?\s*:\s*["']?os["']?/.test(text)) return 'wolfi';
  return undefined;
}

/** The Alpine secdb feed (namespace `alpine:<release>` from `distroversion`). */
export const alpineSecdbFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'alpine-secdb',
  version: 1,
  description: 'Alpine Linux security database (secdb)',
  upstream: ALPINE_RELEASES.flatMap((release): FeedUpstream[] =>
    ['main', 'community'].map((repo) => ({ url: `${ALPINE_SECDB_BASE}/${release}/${repo}.json`, format: 'json' })),
  ),
  recognizes: (file) => secdbFlavour(file) === 'alpine',
  parse: (files) =>
    parseSecdbFiles(files, {
      feedId: 'alpine-secdb',
      label: 'alpine-secdb',
      namespaceOf: alpineNamespace,
      reference: (id) => `https://security.alpinelinux.org/vuln/${id}`,
    }),
};

/** The Wolfi secdb feed (namespace `wolfi:rolling`). */
export const wolfiSecdbFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'wolfi-secdb',
  version: 1,
  description: 'Wolfi security database (secdb)',
  upstream: [{ url: WOLFI_SECDB_URL, format: 'json' }],
  recognizes: (file) => secdbFlavour(file) === 'wolfi',
  parse: (files) => parseSecdbFiles(files, { feedId: 'wolfi-secdb', label: 'wolfi-secdb', namespaceOf: wolfiNamespace }),
};
