import { PortcullisError } from '../domain/errors.js';
import type { PackageRecord } from '../domain/package.js';
import { languageDescriptor } from './registry.js';

/**
 * The package URL of a language-package record, built by its ecosystem's descriptor with
 * packageurl-js (which applies the purl spec's per-type normalization and encoding). Throws a
 * PortcullisError (E_INTERNAL) for OS ecosystems (deb, apk, rpm), whose purls need the
 * distribution and are built by `inventory/os-purl.ts`.
 */
export function languagePurl(record: PackageRecord): string {
  const descriptor = languageDescriptor(record.ecosystem);
  if (descriptor === undefined) throw new PortcullisError('E_INTERNAL', `purl: ${record.ecosystem} is an OS package type; its purl is built with the distribution`, { ecosystem: record.ecosystem });
  return descriptor.purl(record);
}
