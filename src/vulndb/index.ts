/**
 * The local vulnerability DB: a SQLite file built from the feeds (separate from any application
 * DB), opened read-only by matching.
 */
export { buildVulnDb, type BuildInput, type BuildOptions, type BuildSummary, type FeedBuildResult } from './build.js';
export { openVulnDb, DEFAULT_CACHE_CHARS, DEFAULT_CACHE_NAMES, type VulnDb, type VulnDbOptions, type AffectedMatch, type StoredFeed } from './open.js';
export { importFeeds, type ImportOptions, type ImportSummary } from './import.js';
export { updateFeeds, mirroredUrl, type UpdateOptions, type UpdateSummary, type UpdateEvent, type FeedFailure } from './update.js';
export { defaultDbPath } from './paths.js';
export { packageKey, SCHEMA_VERSION } from './schema.js';
export { assessFreshness, feedFreshness, staleFeeds, formatAge, type DbFreshness, type FeedFreshness } from './freshness.js';
