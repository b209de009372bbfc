/**
 * The report formats: one plain array, checked for duplicate ids when the registry is built (no
 * import side effects; the CLI builds it at start-up through {@link getReportFormat}).
 */
import { PortcullisError } from '../domain/errors.js';
import { clairScannerFormat } from './clair-scanner.js';
import { cyclonedxFormat } from './cyclonedx.js';
import { jsonFormat } from './json.js';
import { junitFormat } from './junit.js';
import { sarifFormat } from './sarif.js';
import { tableFormat } from './table.js';
import type { ReportFormat } from './types.js';

/** Every report format, in the order `--help` lists them. */
export const REPORT_FORMATS: readonly ReportFormat[] = [tableFormat, jsonFormat, sarifFormat, cyclonedxFormat, junitFormat, clairScannerFormat];

/** Indexes formats by id. Throws E_INTERNAL naming the id when two formats share one. */
export function buildReportRegistry(formats: readonly ReportFormat[]): ReadonlyMap<string, ReportFormat> {
  const byId = new Map<string, ReportFormat>();
  for (const format of formats) {
    if (byId.has(format.id)) throw new PortcullisError('E_INTERNAL', `report: duplicate report format id ${JSON.stringify(format.id)}`, { id: format.id });
    byId.set(format.id, format);
  }
  return byId;
}

let defaultRegistry: ReadonlyMap<string, ReportFormat> | undefined;

/** The format with this id; E_USAGE listing the known ids when there is none. */
export function getReportFormat(id: string): ReportFormat {
  defaultRegistry ??= buildReportRegistry(REPORT_FORMATS);
  const format = defaultRegistry.get(id);
  if (!format) throw new PortcullisError('E_USAGE', `report: unknown format ${JSON.stringify(id)} (known: ${[...defaultRegistry.keys()].join(', ')})`, { id });
  return format;
}
