/**
 * Debian release codenames and the namespace each maps to. Versions follow /etc/debian_version's
 * major number from etch (4) on; releases before etch kept their dotted numbers (woody 3.0, sarge
 * 3.1), so those namespaces keep the dot, otherwise woody and sarge would collapse into one.
 */
export const DEBIAN_RELEASES = {
  buzz: '1.1',
  rex: '1.2',
  bo: '1.3',
  hamm: '2.0',
  slink: '2.1',
  potato: '2.2',
  woody: '3.0',
  sarge: '3.1',
  etch: '4',
  lenny: '5',
  squeeze: '6',
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
} as const satisfies Record<string, string>;
