/**
 * Keeps stored results current when the vulnerability DB changes, without pulling any image (the
 * registry may be down): every stored inventory whose result was matched against an older DB is
 * re-matched — except, when the new DB recorded what changed since the DB a result was matched
 * against, the inventories that hold none of the changed packages, whose results are only marked
 * current. For each re-matched manifest the findings are diffed against its previous result:
 * introduced, fixed, and severity changed.
 */
import type { Logger } from 'pino';
import { silentEngineContext } from '../engine/context.js';
import { Engine, fixedAdvisoryDb, type LeasedAdvisories, type RematchSummary } from '../services/engine.js';
import type { CatalogStore } from '../store/catalog.js';
import { catalogInventoryStore, catalogStoredResults } from './embedded-backend.js';

export { diffFindings, type DiffableFinding, type FindingSummary, type ManifestDiff } from '../services/finding-diff.js';
export type { RematchSummary } from '../services/engine.js';

/**
 * Re-matches the stored results of the embedded backend that `db` may change (the engine's
 * rematch over the catalog); see the module doc. Logs start, counts and duration to `logger`
 * (per-manifest changes at debug).
 */
export async function rematchStored(catalog: CatalogStore, db: LeasedAdvisories, logger?: Logger): Promise<RematchSummary> {
  const engine = new Engine({ advisories: fixedAdvisoryDb(db), inventories: catalogInventoryStore(catalog), context: silentEngineContext(logger ? { logger } : {}) });
  return engine.rematch(catalogStoredResults(catalog));
}
