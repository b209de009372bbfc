/** Ubuntu release codenames and their version numbers (os-release VERSION_ID). */
export const UBUNTU_RELEASES = {
  warty: '4.10',
  hoary: '5.04',
  breezy: '5.10',
  dapper: '6.06',
  edgy: '6.10',
  feisty: '7.04',
  gutsy: '7.10',
  hardy: '8.04',
  intrepid: '8.10',
  jaunty: '9.04',
  karmic: '9.10',
  lucid: '10.04',
  maverick: '10.10',
  natty: '11.04',
  oneiric: '11.10',
  precise: '12.04',
  quantal: '12.10',
  raring: '13.04',
  saucy: '13.10',
  trusty: '14.04',
  utopic: '14.10',
  vivid: '15.04',
  wily: '15.10',
  xenial: '16.04',
  yakkety: '16.10',
  zesty: '17.04',
  artful: '17.10',
  bionic: '18.04',
  cosmic: '18.10',
  disco: '19.04',
  eoan: '19.10',
  focal: '20.04',
  groovy: '20.10',
  hirsute: '21.04',
  impish: '21.10',
  jammy: '22.04',
  kinetic: '22.10',
  lunar: '23.04',
  mantic: '23.10',
  noble: '24.04',
  oracular: '24.10',
  plucky: '25.04',
  questing: '25.10',
  resolute: '26.04',
} as const satisfies Record<string, string>;

/**
 * Maps a release key of the Ubuntu CVE tracker (or the `distro` qualifier of Ubuntu's VEX purls) to a
 * namespace:
 * - a plain codename: `focal` -> `ubuntu:20.04`;
 * - Expanded Security Maintenance, written `trusty/esm`, `esm-infra/xenial`, `esm-apps/focal` or
 *   `esm-infra-legacy/trusty`: `ubuntu:<version>:esm`. ESM fixes ship only to Ubuntu Pro machines, so
 *   they get their own namespace instead of overriding the standard release's status (which for an
 *   ESM-era release is typically `ignored (end of standard support)`); a matcher that knows an image
 *   uses ESM packages (`+esm` versions) consults both.
 * Returns undefined for keys that are not an installable release: `upstream`, `devel` (its version
 * changes every six months), `snap`, product overlays (`vivid/ubuntu-core`, `*-fips*`, `ros-esm`...)
 * and unknown codenames.
 */
export function ubuntuNamespace(key: string): string | undefined {
  const k = key.trim().toLowerCase();
  const esm = /^(?:esm-(?:infra|apps|infra-legacy)\/([a-z]+)|([a-z]+)\/esm)$/.exec(k);
  if (esm) {
    const version = releaseVersion(esm[1] ?? esm[2] ?? '');
    return version === undefined ? undefined : `ubuntu:${version}:esm`;
  }
  const version = releaseVersion(k);
  return version === undefined ? undefined : `ubuntu:${version}`;
}

function releaseVersion(codename: string): string | undefined {
  return Object.hasOwn(UBUNTU_RELEASES, codename) ? UBUNTU_RELEASES[codename as keyof typeof UBUNTU_RELEASES] : undefined;
}
