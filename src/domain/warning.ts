/** Something the scan skipped or could not read, reported next to the results instead of failing. */
export interface ScanWarning {
  code: string;
  message: string;
  layer?: string;
  path?: string;
  detector?: string;
}
