/**
 * A generated dpkg status file of N installed packages, for the memory benchmark of `portcullis
 * sbom`: stanzas shaped like the real ones (the fields dpkg writes, a short description, multi-arch
 * and source fields on some), about 330 bytes each, so 200,000 of them fit the dpkg detector's cap.
 */
import { rng } from './random.js';

const SECTIONS = ['libs', 'utils', 'admin', 'net', 'devel', 'python', 'perl', 'text'];
const ARCHES = ['amd64', 'all'];

/** The status file's text, one stanza per package, `pkg-<i>` names, deterministic. */
export function generateDpkgStatus(packages: number, seed = 15): string {
  const r = rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < packages; i++) {
    const name = `pkg-${i.toString(36)}`;
    const version = `${r.int(0, 3) === 0 ? `${r.int(1, 3)}:` : ''}${r.int(0, 20)}.${r.int(0, 99)}.${r.int(0, 9)}-${r.int(1, 9)}${r.chance(0.2) ? `+deb12u${r.int(1, 9)}` : ''}`;
    const lines = [
      `Package: ${name}`,
      'Status: install ok installed',
      `Priority: ${r.chance(0.1) ? 'required' : 'optional'}`,
      `Section: ${r.pick(SECTIONS)}`,
      `Installed-Size: ${r.int(10, 90000)}`,
      'Maintainer: Generated Maintainers <maint@example.invalid>',
      `Architecture: ${r.pick(ARCHES)}`,
    ];
    if (r.chance(0.3)) lines.push('Multi-Arch: same');
    if (r.chance(0.4)) lines.push(`Source: src-${(i >> 2).toString(36)}`);
    lines.push(`Version: ${version}`, `Depends: libc6 (>= 2.36), pkg-${r.int(0, packages - 1).toString(36)}`, `Description: generated package ${i}`, ' A package of the memory benchmark.');
    parts.push(lines.join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}
