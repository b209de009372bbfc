import type { Distro } from '../domain/distro.js';
import { isOsEcosystem, type PackageRecord } from '../domain/package.js';
import { languagePurl } from '../ecosystems/purl.js';
import { osPurl } from './os-purl.js';

/** The purl of any package record: OS packages carry their distribution, language packages do not. */
export function purlFor(record: PackageRecord, distro: Distro | undefined): string {
  if (isOsEcosystem(record.ecosystem)) return osPurl(record, distro);
  return languagePurl(record);
}
