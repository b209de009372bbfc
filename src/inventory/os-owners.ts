import { isOsEcosystem, type InventoryPackage, type OsOwner, type OwnedFiles } from '../domain/package.js';


/**
 * Top-level directories that merged-/usr systems (Debian 12, Fedora, Alpine 3.22+) keep as links
 * into /usr: a package listing `/bin/x` installed the file the walk finds at `usr/bin/x`.
 */
const USR_MERGED = /^(bin|sbin|lib|lib32|lib64|libx32)\//;

/**
 * Names, for every language package whose file an OS package's file list holds, that OS package
 * (`osOwner`: name, version, source package) — a Debian `python3-requests` holding
 * `usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO`, a `fzf` holding `usr/bin/fzf`.
 *
 * The lists come from the package databases themselves (`ownedFiles`); an owner is resolved against
 * the inventory's installed OS packages (dpkg lists carry no version), so a list left behind by a
 * removed package owns nothing. Where the image has file lists, they replace the path heuristic
 * `attributes.distroPackaged` (a package under `dist-packages` that no list holds was not installed
 * by the distribution); where it has none (distroless, a stored inventory) the heuristic stays.
 * Returns new package objects where something changed; OS packages are returned as they are.
 */
export function attachOsOwners(packages: InventoryPackage[], ownedFiles: readonly OwnedFiles[]): InventoryPackage[] {
  if (ownedFiles.length === 0) return packages;
  const languagePaths = new Set<string>();
  for (const p of packages) if (!isOsEcosystem(p.ecosystem)) languagePaths.add(p.path);
  if (languagePaths.size === 0) return packages;

  const installed = new Map<string, InventoryPackage[]>();
  for (const p of packages) {
    if (!isOsEcosystem(p.ecosystem)) continue;
    const key = `${p.ecosystem}\u0000${p.name}`;
    const list = installed.get(key);
    if (list) list.push(p);
    else installed.set(key, [p]);
  }

  const ownerOf = new Map<string, OsOwner>();
  for (const list of ownedFiles) {
    let owner: OsOwner | undefined;
    for (const listed of list.files) {
      const path = languagePaths.has(listed) ? listed : USR_MERGED.test(listed) && languagePaths.has(`usr/${listed}`) ? `usr/${listed}` : undefined;
      if (path === undefined || ownerOf.has(path)) continue;
      owner ??= resolveOwner(list, installed.get(`${list.ecosystem}\u0000${list.name}`));
      if (owner === undefined) break;
      ownerOf.set(path, owner);
    }
  }

  return packages.map((p) => {
    if (isOsEcosystem(p.ecosystem)) return p;
    const owner = ownerOf.get(p.path);
    const heuristic = p.attributes?.['distroPackaged'] !== undefined;
    if (owner === undefined && !heuristic) return p;
    const next: InventoryPackage = { ...p };
    if (heuristic) {
      const { distroPackaged: _replaced, ...rest } = p.attributes ?? {};
      if (Object.keys(rest).length > 0) next.attributes = rest;
      else delete next.attributes;
    }
    if (owner !== undefined) next.osOwner = owner;
    return next;
  });
}

/**
 * The installed package a file list belongs to: same name, and same architecture and version when
 * the list says them (dpkg names the architecture of `Multi-Arch: same` packages only).
 */
function resolveOwner(list: OwnedFiles, candidates: InventoryPackage[] | undefined): OsOwner | undefined {
  if (candidates === undefined) return undefined;
  const match = candidates.find((c) => (list.arch === undefined || c.arch === list.arch) && (list.version === undefined || c.version === list.version));
  if (match === undefined) return undefined;
  return {
    ecosystem: list.ecosystem,
    name: match.name,
    version: match.version,
    ...(match.sourceName ? { sourceName: match.sourceName } : {}),
    ...(match.sourceVersion ? { sourceVersion: match.sourceVersion } : {}),
    ...(match.arch ? { arch: match.arch } : {}),
  };
}
