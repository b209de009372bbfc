/**
 * The feed registry: the one list of every feed the vulnerability DB knows, in recognition order
 * (`db import` offers a file to each feed in this order and the first that recognizes it takes it,
 * so the more specific formats come first). Adding a feed means adding it here; nothing registers
 * itself on import.
 */
import { PortcullisError } from '../domain/errors.js';
import { alpineSecdbFeed, wolfiSecdbFeed } from './alpine/index.js';
import { debianDlaFeed, debianDsaFeed, debianTrackerFeed } from './debian/index.js';
import { epssFeed, kevFeed, nvdFeed } from './enrichment/index.js';
import { npmSecurityWgFeed } from './npm-security-wg/index.js';
import { osvFeed } from './osv/index.js';
import { redhatCsafFeed, redhatSecurityDataFeed } from './redhat/index.js';
import { rubysecFeed } from './rubysec/index.js';
import type { Feed } from './types.js';
import { ubuntuUctFeed, ubuntuVexFeed } from './ubuntu/index.js';

/**
 * Throws E_INTERNAL when two feeds share an id (the DB keys everything by feed id) or a feed has no
 * id or a non-positive version. Returns the list unchanged, so a registry can be checked where it
 * is declared. An empty list is valid.
 */
export function checkFeedRegistry<T extends readonly Feed[]>(feeds: T): T {
  const seen = new Set<string>();
  for (const feed of feeds) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(feed.id)) throw new PortcullisError('E_INTERNAL', `feeds: invalid feed id ${JSON.stringify(feed.id)}`);
    if (!Number.isInteger(feed.version) || feed.version < 1) throw new PortcullisError('E_INTERNAL', `feeds: feed ${feed.id} has invalid version ${feed.version}`);
    if (seen.has(feed.id)) throw new PortcullisError('E_INTERNAL', `feeds: duplicate feed id ${JSON.stringify(feed.id)} in the registry`);
    seen.add(feed.id);
  }
  return feeds;
}

/** Every feed, checked at start-up (module evaluation) for duplicate ids. */
export const FEEDS: readonly Feed[] = checkFeedRegistry([
  osvFeed,
  alpineSecdbFeed,
  wolfiSecdbFeed,
  npmSecurityWgFeed,
  rubysecFeed,
  debianTrackerFeed,
  debianDsaFeed,
  debianDlaFeed,
  ubuntuUctFeed,
  ubuntuVexFeed,
  redhatCsafFeed,
  redhatSecurityDataFeed,
  nvdFeed,
  epssFeed,
  kevFeed,
]);

/** The feed with this id, or undefined. */
export function feedById(id: string, feeds: readonly Feed[] = FEEDS): Feed | undefined {
  return feeds.find((f) => f.id === id);
}
