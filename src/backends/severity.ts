import type { Severity } from '../domain/severity.js';
import { severityFromLabel } from '../feeds/severity.js';

/**
 * A backend's severity word on Portcullis's scale, which ends at Critical: Clair v2's Defcon1
 * (above Critical) is Critical here, other words read as feeds' labels (`important` is High,
 * unknown words Unknown). Findings keep the word itself beside it as `backendSeverity`.
 */
export function backendSeverity(word: string | undefined): Severity {
  if (word === undefined) return 'Unknown';
  return word.trim().toLowerCase() === 'defcon1' ? 'Critical' : severityFromLabel(word);
}
