/**
 * Wording for people about the DB: ages and feed failures. Kept free of imports (the feed registry,
 * SQLite) so the CLI's command definitions can use it without loading the DB code at start-up.
 */
import type { FeedFailure } from './update.js';

/** An age for people: `5h`, `3d`, `unknown`. */
export function formatAge(hours: number): string {
  if (!Number.isFinite(hours)) return 'unknown';
  return hours < 48 ? `${Math.floor(hours)}h` : `${Math.floor(hours / 24)}d`;
}

/** One line per failed feed (`feed: error (url)`), for `--verbose`. */
export function feedFailureLines(failed: readonly FeedFailure[]): string[] {
  return failed.map((f) => `${f.feed}: ${f.error}${f.url ? ` (${f.url})` : ''}`);
}
