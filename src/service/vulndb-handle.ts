/** The service holds the vulnerability DB through the engine's swappable handle (src/services/vulndb-handle.ts). */
export { VulnDbHandle, type VulnDbLease } from '../services/vulndb-handle.js';
