import { PackageURL } from 'packageurl-js';
import type { Distro } from '../domain/distro.js';
import type { PackageRecord } from '../domain/package.js';

/**
 * purl of an OS package (deb, rpm, apk), per the purl spec's type rules: namespace is the
 * distribution id, `distro` qualifier `<id>-<version>`, rpm versions without epoch (epoch is a
 * qualifier), and the source package in `upstream` when it differs.
 */
export function osPurl(record: PackageRecord, distro: Distro | undefined): string {
  const qualifiers: Record<string, string> = {};
  if (record.arch) qualifiers.arch = record.arch;
  if (distro) qualifiers.distro = distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id;
  let version = record.version;
  if (record.ecosystem === 'rpm') {
    const colon = version.indexOf(':');
    if (colon >= 0) version = version.slice(colon + 1);
    if (record.epoch !== undefined && record.epoch !== 0) qualifiers.epoch = String(record.epoch);
  }
  if (record.sourceName && record.sourceName !== record.name) {
    qualifiers.upstream = record.sourceVersion ? `${record.sourceName}@${record.sourceVersion}` : record.sourceName;
  }
  const namespace = distro?.id ?? defaultNamespace(record.ecosystem);
  return new PackageURL(record.ecosystem, namespace, record.name, version, qualifiers, undefined).toString();
}

function defaultNamespace(ecosystem: PackageRecord['ecosystem']): string {
  if (ecosystem === 'deb') return 'debian';
  if (ecosystem === 'apk') return 'alpine';
  return 'redhat';
}
