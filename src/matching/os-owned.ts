// Apart from matcher.ts so the CLI can offer `--os-owned` choices without loading the matcher.

/**
 * What to do with language packages an OS package installed (`osOwner`, or the path heuristic
 * `attributes.distroPackaged` where the image has no file lists): the distribution may have fixed
 * them under the upstream version number.
 * - `distro` (default): match them; a finding whose vulnerability the distribution's data says is
 *   fixed in (or does not affect) the owner's installed version becomes not affected, with that
 *   record as the reason; with no record, or one saying still affected, the finding stays.
 * - `report`: match them as any language package; the owner is only shown.
 * - `skip`: leave them out of matching (counted in `coverage[].distroPackaged`), as Trivy does.
 */
export type OsOwnedMode = 'report' | 'distro' | 'skip';
export const OS_OWNED_MODES: readonly OsOwnedMode[] = ['report', 'distro', 'skip'];
