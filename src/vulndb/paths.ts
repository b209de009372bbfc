import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where the vulnerability DB lives unless told otherwise: `$PORTCULLIS_DB`, else
 * `$XDG_CACHE_HOME/portcullis/vuln.db` (XDG_CACHE_HOME only when absolute, as the XDG spec says),
 * else `~/.cache/portcullis/vuln.db`. The DB is a cache: it can always be rebuilt from the feeds.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.PORTCULLIS_DB;
  if (explicit !== undefined && explicit.trim() !== '') return explicit;
  const xdg = env.XDG_CACHE_HOME;
  const cacheRoot = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache');
  return join(cacheRoot, 'portcullis', 'vuln.db');
}
