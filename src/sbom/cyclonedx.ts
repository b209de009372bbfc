/**
 * CycloneDX 1.6 JSON SBOMs in and out of the Inventory.
 *
 * Out: built with @cyclonedx/cyclonedx-library (models + its JSON serializer). The metadata component
 * is the image (a `pkg:oci/...` purl with `repository_url`, `tag`, `arch` and the manifest digest as
 * version); each inventory package is one component with its purl, a bom-ref, and `portcullis:*`
 * properties (layer, layer index, path, source package, distro, ...). The inventory facts that have no
 * CycloneDX field (layers, detectors, warnings, stats, platform) ride in one metadata property,
 * `portcullis:inventory`, as JSON, so that our own SBOM reads back into the same Inventory and
 * `scan sbom:FILE` matches exactly what scanning the image matched. Each project whose lockfile the
 * image holds (npm's `/app`) is an `application` component that `dependsOn` its direct dependencies
 * in the dependency graph; it is never read back as a package, so it is never matched.
 *
 * In: our SBOMs exactly; other producers' (syft, trivy, ...) best-effort from purls (`deb`, `rpm`,
 * `apk` with the `distro=` qualifier, `npm`, `pypi`, `golang`, `maven`, `gem`, `cargo`) and the
 * location properties syft and trivy write. Components of other types are counted in a warning.
 */
import { Enums, Models, Serialize, Spec, SPDX } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import * as z from 'zod';
import type { Distro } from '../domain/distro.js';
import { PortcullisError } from '../domain/errors.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory } from '../domain/inventory.js';
import { ECOSYSTEMS, isOsEcosystem, type Ecosystem, type InventoryPackage, type InventoryProject, type OsOwner } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';
import { ECOSYSTEM_DESCRIPTORS, languageDescriptor, OS_ECOSYSTEM_DESCRIPTORS } from '../ecosystems/registry.js';
import { StreamedArray } from '../util/json-stream.js';

const MODULE = 'sbom';

/** Property names this module writes and reads. */
export const SBOM_PROPERTIES = {
  inventory: 'portcullis:inventory',
  ecosystem: 'portcullis:ecosystem',
  layer: 'portcullis:layer',
  layerIndex: 'portcullis:layer-index',
  path: 'portcullis:path',
  sourceName: 'portcullis:source-name',
  sourceVersion: 'portcullis:source-version',
  distro: 'portcullis:distro',
  arch: 'portcullis:arch',
  epoch: 'portcullis:epoch',
  modularityLabel: 'portcullis:modularity-label',
  attributePrefix: 'portcullis:attribute:',
  /** `portcullis:os-owner:<field>`: the OS package that installed a language package (InventoryPackage.osOwner). */
  osOwnerPrefix: 'portcullis:os-owner:',
  /** Project (application) components: the lockfile, the manifest beside it, its direct dependencies (JSON array of names). */
  projectEcosystem: 'portcullis:project:ecosystem',
  projectLockfile: 'portcullis:project:lockfile',
  projectManifest: 'portcullis:project:manifest',
  projectDependencies: 'portcullis:project:dependencies',
} as const;

/** The osOwner fields, as written after `portcullis:os-owner:`. */
const OS_OWNER_FIELDS = [
  ['ecosystem', 'ecosystem'],
  ['name', 'name'],
  ['version', 'version'],
  ['sourceName', 'source-name'],
  ['sourceVersion', 'source-version'],
  ['arch', 'arch'],
] as const satisfies readonly (readonly [keyof OsOwner, string])[];

/** Inventory fields carried whole in the `portcullis:inventory` metadata property (packages and projects are components). */
type InventoryEnvelope = Omit<Inventory, 'packages' | 'projects'>;

/**
 * bom-refs for a package list, in order: the purl when it is unique in the list, else
 * `purl|path` (and `|layerIndex` if that still repeats). VEX documents may point at either form.
 */
export function packageBomRefs(packages: readonly Pick<InventoryPackage, 'purl' | 'path' | 'layerIndex'>[]): string[] {
  const count = new Map<string, number>();
  for (const p of packages) count.set(p.purl, (count.get(p.purl) ?? 0) + 1);
  // Only repeated purls need the longer forms; most SBOMs have none, and 200,000 keys cost memory.
  const withPath = new Map<string, number>();
  for (const p of packages) {
    if (count.get(p.purl) === 1) continue;
    const key = `${p.purl}|${p.path}`;
    withPath.set(key, (withPath.get(key) ?? 0) + 1);
  }
  return packages.map((p) => {
    if (count.get(p.purl) === 1) return p.purl;
    const key = `${p.purl}|${p.path}`;
    return withPath.get(key) === 1 ? key : `${key}|${p.layerIndex}`;
  });
}

/** `debian:11` style label of a distro (`id:versionId`, or just `id` for rolling releases). */
export function distroLabel(distro: Distro | undefined): string | undefined {
  if (!distro) return undefined;
  return distro.versionId ? `${distro.id}:${distro.versionId}` : distro.id;
}

/** The image as a `pkg:oci` purl, or undefined when the inventory knows too little to name it. */
export function imagePurl(image: Inventory['image']): string | undefined {
  const repository = image.repository ?? image.reference.replace(/^[a-z-]+:/, '').split(/[@:]/)[0] ?? '';
  const name = repository.split('/').pop()?.toLowerCase();
  if (!name) return undefined;
  const qualifiers: Record<string, string> = {};
  if (image.registry && image.repository) qualifiers.repository_url = `${image.registry}/${image.repository}`;
  if (image.tag) qualifiers.tag = image.tag;
  if (image.platform?.architecture) qualifiers.arch = image.platform.architecture;
  try {
    return new PackageURL('oci', undefined, name, image.manifestDigest ?? image.indexDigest, Object.keys(qualifiers).length > 0 ? qualifiers : undefined, undefined).toString();
  } catch {
    return undefined;
  }
}

function license(value: string): Models.License {
  return SPDX.isSupportedSpdxId(value) ? new Models.SpdxLicense(value) : new Models.NamedLicense(value);
}

function packageComponent(pkg: InventoryPackage, bomRef: string, distro: string | undefined): Models.Component {
  const props: [string, string | undefined][] = [
    [SBOM_PROPERTIES.ecosystem, pkg.ecosystem],
    [SBOM_PROPERTIES.layer, pkg.layer],
    [SBOM_PROPERTIES.layerIndex, String(pkg.layerIndex)],
    [SBOM_PROPERTIES.path, pkg.path],
    [SBOM_PROPERTIES.sourceName, pkg.sourceName],
    [SBOM_PROPERTIES.sourceVersion, pkg.sourceVersion],
    [SBOM_PROPERTIES.distro, distro],
    [SBOM_PROPERTIES.arch, pkg.arch],
    [SBOM_PROPERTIES.epoch, pkg.epoch === undefined ? undefined : String(pkg.epoch)],
    [SBOM_PROPERTIES.modularityLabel, pkg.modularityLabel],
    ...Object.entries(pkg.attributes ?? {}).map(([k, v]): [string, string] => [`${SBOM_PROPERTIES.attributePrefix}${k}`, v]),
    ...OS_OWNER_FIELDS.map(([field, suffix]): [string, string | undefined] => [`${SBOM_PROPERTIES.osOwnerPrefix}${suffix}`, pkg.osOwner?.[field]]),
  ];
  const component = new Models.Component(Enums.ComponentType.Library, pkg.name, {
    bomRef,
    version: pkg.version,
    purl: pkg.purl,
    properties: new Models.PropertyRepository(props.filter((p): p is [string, string] => p[1] !== undefined).map(([n, v]) => new Models.Property(n, v))),
  });
  if (pkg.license !== undefined) component.licenses.add(license(pkg.license));
  return component;
}

/**
 * Builds the library's Bom model for an inventory (components and metadata, no vulnerabilities), and
 * the bom-ref of each package in inventory order. Report writers add vulnerabilities to it.
 */
export function inventoryToBomModel(inventory: Inventory): { bom: Models.Bom; packageRefs: string[] } {
  const bom = new Models.Bom();
  const { packages, projects, ...envelope } = inventory;
  bom.metadata.timestamp = new Date(inventory.createdAt);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, inventory.tool.name, { version: inventory.tool.version }));

  const purl = imagePurl(inventory.image);
  const imageName = inventory.image.registry && inventory.image.repository ? `${inventory.image.registry}/${inventory.image.repository}` : inventory.image.reference;
  const image = new Models.Component(Enums.ComponentType.Container, imageName, { bomRef: purl ?? `image:${inventory.image.reference}` });
  const imageVersion = inventory.image.manifestDigest ?? inventory.image.tag;
  if (imageVersion !== undefined) image.version = imageVersion;
  if (purl !== undefined) image.purl = purl;
  bom.metadata.component = image;
  bom.metadata.properties.add(new Models.Property(SBOM_PROPERTIES.inventory, JSON.stringify(envelope satisfies InventoryEnvelope)));

  const distro = distroLabel(inventory.distro);
  if (inventory.distro) {
    const os = new Models.Component(Enums.ComponentType.OperatingSystem, inventory.distro.id, { bomRef: `os:${distro ?? inventory.distro.id}` });
    if (inventory.distro.versionId !== undefined) os.version = inventory.distro.versionId;
    if (inventory.distro.prettyName !== undefined) os.description = inventory.distro.prettyName;
    bom.components.add(os);
  }
  const packageRefs = packageBomRefs(packages);
  const byRef = new Map<string, Models.Component>();
  packages.forEach((pkg, i) => {
    const component = packageComponent(pkg, packageRefs[i] ?? pkg.purl, distro);
    bom.components.add(component);
    byRef.set(packageRefs[i] ?? pkg.purl, component);
  });
  const dependencyRefs = projectDependencyRefs(projects ?? [], packages, packageRefs);
  (projects ?? []).forEach((project, i) => {
    const component = projectComponent(project);
    for (const ref of dependencyRefs[i] ?? []) {
      const dependency = byRef.get(ref);
      if (dependency) component.dependencies.add(dependency.bomRef);
    }
    bom.components.add(component);
  });
  return { bom, packageRefs };
}

/**
 * The bom-refs of each project's direct dependencies: the package installed in the project's
 * node_modules, else the lockfile's record of that name (the first, should the lockfile pin
 * several versions); a dependency the image does not hold is left out.
 */
function projectDependencyRefs(projects: readonly InventoryProject[], packages: readonly Inventory['packages'][number][], refs: readonly string[]): string[][] {
  if (projects.length === 0) return [];
  const byPath = new Map<string, string>();
  const byLockfile = new Map<string, { name: string; ref: string }[]>();
  packages.forEach((pkg, i) => {
    if (pkg.ecosystem !== 'npm') return;
    const ref = refs[i] ?? pkg.purl;
    byPath.set(pkg.path, ref);
    const list = byLockfile.get(pkg.path);
    if (list) list.push({ name: pkg.name, ref });
    else byLockfile.set(pkg.path, [{ name: pkg.name, ref }]);
  });
  return projects.map((project) => {
    const dir = project.lockfile.includes('/') ? project.lockfile.slice(0, project.lockfile.lastIndexOf('/') + 1) : '';
    return project.dependencies.flatMap((name) => {
      const ref = byPath.get(`${dir}node_modules/${name}/package.json`) ?? byLockfile.get(project.lockfile)?.find((c) => c.name === name)?.ref;
      return ref === undefined ? [] : [ref];
    });
  });
}

function projectComponent(project: InventoryProject): Models.Component {
  const props: [string, string | undefined][] = [
    [SBOM_PROPERTIES.projectEcosystem, project.ecosystem],
    [SBOM_PROPERTIES.projectLockfile, project.lockfile],
    [SBOM_PROPERTIES.projectManifest, project.manifest],
    [SBOM_PROPERTIES.projectDependencies, JSON.stringify(project.dependencies)],
    [SBOM_PROPERTIES.layer, project.layer],
    [SBOM_PROPERTIES.layerIndex, String(project.layerIndex)],
  ];
  const component = new Models.Component(Enums.ComponentType.Application, project.name, {
    bomRef: `project:${project.lockfile}`,
    purl: project.purl,
    properties: new Models.PropertyRepository(props.filter((p): p is [string, string] => p[1] !== undefined).map(([n, v]) => new Models.Property(n, v))),
  });
  if (project.version !== undefined) component.version = project.version;
  return component;
}

/** Serializes a Bom model to CycloneDX 1.6 JSON data (a plain object), keeping insertion order. */
export function bomToJson(bom: Models.Bom): Record<string, unknown> {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return JSON.parse(serializer.serialize(bom, { sortLists: false })) as Record<string, unknown>;
}

/**
 * A CycloneDX 1.6 SBOM (JSON data) of the inventory; see the module comment. An inventory without
 * packages gives an SBOM with the image and (when known) the OS component only.
 */
export function inventoryToCycloneDx(inventory: Inventory): Record<string, unknown> {
  return bomToJson(inventoryToBomModel(inventory).bom);
}

/**
 * The same SBOM as inventoryToCycloneDx, as a value for writeJson (src/util/json-stream.ts): each
 * package's component and dependency entry is made by the library's normalizer only as it is
 * written, so writing the SBOM of 200,000 packages holds one component at a time, not a Bom model
 * and a string of the whole document.
 */
export function inventoryToCycloneDxStream(inventory: Inventory): Record<string, unknown> {
  const { packages, projects: projectList, ...rest } = inventory;
  const projects = projectList ?? [];
  const skeleton = inventoryToCycloneDx({ ...rest, packages: [] });
  const refs = packageBomRefs(packages);
  const distro = distroLabel(inventory.distro);
  const dependencyRefs = projectDependencyRefs(projects, packages, refs);
  const normalizer = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6).makeForComponent();
  const head = (key: string): unknown[] => {
    const value = skeleton[key];
    return Array.isArray(value) ? value : [];
  };
  return {
    ...skeleton,
    // The order inventoryToBomModel adds them in: the OS, every package, then the projects.
    components: new StreamedArray(function* () {
      yield* head('components');
      for (const [i, pkg] of packages.entries()) {
        const normalized = normalizer.normalize(packageComponent(pkg, refs[i] ?? pkg.purl, distro), { sortLists: false });
        if (normalized !== undefined) yield normalized;
      }
      for (const project of projects) {
        const normalized = normalizer.normalize(projectComponent(project), { sortLists: false });
        if (normalized !== undefined) yield normalized;
      }
    }),
    // Packages depend on nothing we know of: one bare entry each, after the skeleton's own; a
    // project depends on its direct dependencies.
    dependencies: new StreamedArray(function* () {
      yield* head('dependencies');
      for (const ref of refs) yield { ref };
      for (const [i, project] of projects.entries()) {
        const dependsOn = dependencyRefs[i] ?? [];
        yield dependsOn.length > 0 ? { ref: `project:${project.lockfile}`, dependsOn } : { ref: `project:${project.lockfile}` };
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

interface CdxProperty {
  name: string;
  value?: string;
}
interface CdxComponent {
  type?: string;
  'bom-ref'?: string;
  name?: string;
  version?: string;
  purl?: string;
  description?: string;
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  properties?: CdxProperty[];
  components?: CdxComponent[];
}
const property = z.looseObject({ name: z.string(), value: z.string().optional() });
const component: z.ZodType<CdxComponent> = z.lazy(() =>
  z.looseObject({
    type: z.string().optional(),
    'bom-ref': z.string().optional(),
    name: z.string().optional(),
    version: z.string().optional(),
    purl: z.string().optional(),
    description: z.string().optional(),
    licenses: z.array(z.looseObject({ license: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(), expression: z.string().optional() })).optional(),
    properties: z.array(property).optional(),
    components: z.array(component).optional(),
  }),
);
const bomSchema = z.looseObject({
  bomFormat: z.literal('CycloneDX', { message: 'bomFormat must be "CycloneDX"' }),
  specVersion: z.string(),
  metadata: z
    .looseObject({
      timestamp: z.string().optional(),
      component: component.optional(),
      properties: z.array(property).optional(),
    })
    .optional(),
  components: z.array(component).optional(),
});

function propsOf(c: { properties?: CdxProperty[] }): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of c.properties ?? []) if (p.value !== undefined && !out.has(p.name)) out.set(p.name, p.value);
  return out;
}

function licenseOf(c: CdxComponent): string | undefined {
  const first = c.licenses?.[0];
  return first?.expression ?? first?.license?.id ?? first?.license?.name;
}

function flatten(list: CdxComponent[] | undefined, out: CdxComponent[] = []): CdxComponent[] {
  for (const c of list ?? []) {
    out.push(c);
    flatten(c.components, out);
  }
  return out;
}

function inputError(file: string, reason: string): PortcullisError {
  return new PortcullisError('E_INPUT', `${MODULE}: ${file}: ${reason}`, { file, reason });
}

function ourPackage(c: CdxComponent, props: Map<string, string>, file: string): InventoryPackage {
  const ecosystem = props.get(SBOM_PROPERTIES.ecosystem) as Ecosystem;
  const layerIndex = Number(props.get(SBOM_PROPERTIES.layerIndex));
  if (!ECOSYSTEMS.includes(ecosystem) || c.name === undefined || c.version === undefined || c.purl === undefined || !Number.isInteger(layerIndex)) {
    throw inputError(file, `component ${c['bom-ref'] ?? c.name ?? '?'} lacks the name, version, purl or portcullis properties of a portcullis package`);
  }
  const pkg: InventoryPackage = {
    ecosystem,
    name: c.name,
    version: c.version,
    path: props.get(SBOM_PROPERTIES.path) ?? '',
    purl: c.purl,
    layer: props.get(SBOM_PROPERTIES.layer) ?? '',
    layerIndex,
  };
  const optional: [keyof InventoryPackage, string][] = [
    ['sourceName', SBOM_PROPERTIES.sourceName],
    ['sourceVersion', SBOM_PROPERTIES.sourceVersion],
    ['arch', SBOM_PROPERTIES.arch],
    ['modularityLabel', SBOM_PROPERTIES.modularityLabel],
  ];
  for (const [field, name] of optional) {
    const v = props.get(name);
    if (v !== undefined) (pkg as unknown as Record<string, unknown>)[field] = v;
  }
  const epoch = props.get(SBOM_PROPERTIES.epoch);
  if (epoch !== undefined) pkg.epoch = Number(epoch);
  const lic = licenseOf(c);
  if (lic !== undefined) pkg.license = lic;
  const attributes: Record<string, string> = {};
  for (const [k, v] of props) if (k.startsWith(SBOM_PROPERTIES.attributePrefix)) attributes[k.slice(SBOM_PROPERTIES.attributePrefix.length)] = v;
  if (Object.keys(attributes).length > 0) pkg.attributes = attributes;
  const owner = osOwnerOf(props);
  if (owner !== undefined) pkg.osOwner = owner;
  return pkg;
}

/** The `portcullis:os-owner:*` properties back into an owner; undefined when absent or incomplete. */
function osOwnerOf(props: Map<string, string>): OsOwner | undefined {
  const get = (suffix: string): string | undefined => props.get(`${SBOM_PROPERTIES.osOwnerPrefix}${suffix}`);
  const ecosystem = get('ecosystem');
  const name = get('name');
  const version = get('version');
  if (ecosystem === undefined || !isOsEcosystem(ecosystem) || name === undefined || version === undefined) return undefined;
  const owner: OsOwner = { ecosystem, name, version };
  for (const [field, suffix] of OS_OWNER_FIELDS) {
    const value = get(suffix);
    if (value !== undefined && (field === 'sourceName' || field === 'sourceVersion' || field === 'arch')) owner[field] = value;
  }
  return owner;
}

/** A project component of our own SBOM back into an InventoryProject. */
function ourProject(c: CdxComponent, props: Map<string, string>, file: string): InventoryProject {
  const lockfile = props.get(SBOM_PROPERTIES.projectLockfile) ?? '';
  const layerIndex = Number(props.get(SBOM_PROPERTIES.layerIndex));
  let dependencies: unknown;
  try {
    dependencies = JSON.parse(props.get(SBOM_PROPERTIES.projectDependencies) ?? '[]');
  } catch {
    dependencies = undefined;
  }
  if (props.get(SBOM_PROPERTIES.projectEcosystem) !== 'npm' || c.name === undefined || c.purl === undefined || !Number.isInteger(layerIndex) || !Array.isArray(dependencies) || !dependencies.every((d) => typeof d === 'string')) {
    throw inputError(file, `project component ${c['bom-ref'] ?? c.name ?? '?'} (${lockfile}) lacks the name, purl or portcullis properties of a portcullis project`);
  }
  const project: InventoryProject = {
    ecosystem: 'npm',
    name: c.name,
    ...(c.version !== undefined ? { version: c.version } : {}),
    purl: c.purl,
    lockfile,
    ...(props.has(SBOM_PROPERTIES.projectManifest) ? { manifest: props.get(SBOM_PROPERTIES.projectManifest) } : {}),
    dependencies: dependencies as string[],
    layer: props.get(SBOM_PROPERTIES.layer) ?? '',
    layerIndex,
  };
  return project;
}

const PURL_TYPES: Record<string, Ecosystem> = Object.fromEntries(ECOSYSTEM_DESCRIPTORS.map((d) => [d.purlType, d.id]));
const DEFAULT_DB_PATH: Partial<Record<Ecosystem, string>> = Object.fromEntries(OS_ECOSYSTEM_DESCRIPTORS.map((d) => [d.id, d.databasePath]));

/** `debian-11`, `ubuntu-22.04`, `alpine-3.18.4`, `rhel-8.9` -> Distro; undefined for anything else. */
function distroFromQualifier(value: string | undefined): Distro | undefined {
  const m = value ? /^([a-z][a-z-]*?)-(\d[\w.]*)$/.exec(value.toLowerCase()) : null;
  if (!m?.[1] || !m[2]) return undefined;
  return { id: m[1], versionId: m[2], source: 'sbom' };
}

/** The source package from purl `upstream=` (deb `src@ver`, rpm `name-ver-rel.src.rpm`, apk origin). */
function upstreamSource(type: string, upstream: string | undefined): { name: string; version?: string } | undefined {
  if (!upstream) return undefined;
  if (type === 'rpm' && upstream.endsWith('.src.rpm')) {
    const nvr = upstream.slice(0, -'.src.rpm'.length).split('-');
    if (nvr.length >= 3) return { name: nvr.slice(0, -2).join('-'), version: nvr.slice(-2).join('-') };
  }
  const at = upstream.indexOf('@');
  return at > 0 ? { name: upstream.slice(0, at), version: upstream.slice(at + 1) } : { name: upstream };
}

function foreignPackage(c: CdxComponent, purl: PackageURL, ecosystem: Ecosystem, layers: string[]): InventoryPackage {
  const q = (purl.qualifiers ?? {}) as Record<string, string>;
  const props = propsOf(c);
  const ns = purl.namespace;
  let name = purl.name;
  const separator = languageDescriptor(ecosystem)?.purlNamespaceSeparator;
  if (ns && separator !== undefined) name = `${ns}${separator}${purl.name}`;
  let version = purl.version ?? c.version ?? '';
  const epoch = q.epoch;
  if (ecosystem === 'rpm' && epoch && epoch !== '0' && !version.includes(':')) version = `${epoch}:${version}`;

  const path = props.get('syft:location:0:path') ?? props.get('aquasecurity:trivy:FilePath') ?? DEFAULT_DB_PATH[ecosystem] ?? '';
  const layer = props.get('syft:location:0:layerID') ?? props.get('aquasecurity:trivy:LayerDigest') ?? props.get('aquasecurity:trivy:LayerDiffID') ?? '';
  if (layer !== '' && !layers.includes(layer)) layers.push(layer);
  const pkg: InventoryPackage = { ecosystem, name, version, path: path.replace(/^\/+/, ''), purl: purl.toString(), layer, layerIndex: layer === '' ? -1 : layers.indexOf(layer) };

  const source = upstreamSource(purl.type, q.upstream);
  const sourceName = props.get('syft:metadata:source') ?? props.get('aquasecurity:trivy:SrcName') ?? source?.name;
  const sourceVersion = props.get('syft:metadata:sourceVersion') ?? props.get('aquasecurity:trivy:SrcVersion') ?? source?.version;
  if (sourceName) pkg.sourceName = sourceName;
  if (sourceVersion) pkg.sourceVersion = sourceVersion;
  if (q.arch) pkg.arch = q.arch;
  if (ecosystem === 'rpm' && epoch && /^\d+$/.test(epoch)) pkg.epoch = Number(epoch);
  const lic = licenseOf(c);
  if (lic !== undefined) pkg.license = lic;
  return pkg;
}

function imageFromMetadata(meta: CdxComponent | undefined): Inventory['image'] {
  const image: Inventory['image'] = { reference: meta?.name ?? 'sbom', transport: 'sbom' };
  const purl = meta?.purl?.startsWith('pkg:oci/') ? PackageURL.fromString(meta.purl) : undefined;
  const q = (purl?.qualifiers ?? {}) as Record<string, string>;
  const digest = purl?.version ?? (meta?.version?.startsWith('sha256:') ? meta.version : undefined);
  if (digest) image.manifestDigest = digest;
  const repoUrl = q.repository_url;
  if (repoUrl) {
    const slash = repoUrl.indexOf('/');
    if (slash > 0 && /[.:]|^localhost$/.test(repoUrl.slice(0, slash))) {
      image.registry = repoUrl.slice(0, slash);
      image.repository = repoUrl.slice(slash + 1);
    } else {
      image.repository = repoUrl;
    }
  }
  const tag = q.tag ?? (meta?.version && !meta.version.startsWith('sha256:') ? meta.version : undefined);
  if (tag) image.tag = tag;
  if (meta?.name) image.reference = tag ? `${meta.name}:${tag}` : digest ? `${meta.name}@${digest}` : meta.name;
  return image;
}

/**
 * Reads a CycloneDX JSON SBOM (already parsed) into an Inventory. Our own SBOMs come back exactly as
 * written; others' best-effort (see the module comment): packages whose location or layer the SBOM
 * does not give get the ecosystem's default database path (or '') and layer '' with layerIndex -1.
 * Throws E_INPUT naming `file` when the data is not a CycloneDX BOM. A BOM without components yields
 * an inventory without packages.
 */
export function cycloneDxToInventory(bom: unknown, options: { file?: string; toolVersion?: string; now?: Date } = {}): Inventory {
  const file = options.file ?? 'SBOM';
  const parsed = bomSchema.safeParse(bom);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(file, `not a CycloneDX JSON BOM${issue ? ` (${issue.path.join('.') || 'document'}: ${issue.message})` : ''}`);
  }
  const data = parsed.data;
  const meta = propsOf(data.metadata ?? {});
  const all = flatten(data.components);

  const envelopeText = meta.get(SBOM_PROPERTIES.inventory);
  if (envelopeText !== undefined) {
    let envelope: InventoryEnvelope;
    try {
      envelope = JSON.parse(envelopeText) as InventoryEnvelope;
    } catch (err) {
      throw inputError(file, `invalid ${SBOM_PROPERTIES.inventory} property: ${(err as Error).message}`);
    }
    if (envelope.schema !== INVENTORY_SCHEMA || envelope.schemaVersion !== INVENTORY_SCHEMA_VERSION) {
      throw inputError(file, `${SBOM_PROPERTIES.inventory} holds an unsupported inventory schema ${JSON.stringify(envelope.schema)} v${String(envelope.schemaVersion)}`);
    }
    const packages = all.flatMap((c) => {
      const props = propsOf(c);
      return props.has(SBOM_PROPERTIES.ecosystem) ? [ourPackage(c, props, file)] : [];
    });
    const projects = all.flatMap((c) => {
      const props = propsOf(c);
      return props.has(SBOM_PROPERTIES.projectLockfile) ? [ourProject(c, props, file)] : [];
    });
    return { ...envelope, packages, ...(projects.length > 0 ? { projects } : {}) };
  }

  const layers: string[] = [];
  const packages: InventoryPackage[] = [];
  const skipped = new Map<string, number>();
  let distro: Distro | undefined;
  for (const c of all) {
    if (c.type === 'operating-system' && c.name && !distro) {
      distro = { id: c.name.toLowerCase(), source: 'sbom' };
      if (c.version) distro.versionId = c.version;
      if (c.description) distro.prettyName = c.description;
      continue;
    }
    if (c.purl === undefined) {
      if (c.type !== 'file' && c.type !== 'operating-system' && c.type !== 'container') skipped.set('without purl', (skipped.get('without purl') ?? 0) + 1);
      continue;
    }
    let purl: PackageURL;
    try {
      purl = PackageURL.fromString(c.purl);
    } catch {
      skipped.set('with an invalid purl', (skipped.get('with an invalid purl') ?? 0) + 1);
      continue;
    }
    const ecosystem = PURL_TYPES[purl.type];
    if (ecosystem === undefined) {
      skipped.set(`of purl type ${purl.type}`, (skipped.get(`of purl type ${purl.type}`) ?? 0) + 1);
      continue;
    }
    const pkg = foreignPackage(c, purl, ecosystem, layers);
    distro ??= distroFromQualifier((purl.qualifiers as Record<string, string> | undefined)?.distro);
    packages.push(pkg);
  }
  const warnings: ScanWarning[] = [...skipped].map(([what, n]) => ({ code: 'W_SBOM_COMPONENT_SKIPPED', message: `${MODULE}: ${n} component(s) ${what} skipped`, detector: 'cyclonedx-sbom' }));
  const inventory: Inventory = {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: options.toolVersion ?? '0.0.0' },
    createdAt: data.metadata?.timestamp ?? (options.now ?? new Date()).toISOString(),
    image: imageFromMetadata(data.metadata?.component),
    layers: layers.map((digest, index) => ({ index, digest, size: -1, mediaType: '', packageCount: packages.filter((p) => p.layer === digest).length, readFrom: 'cache' })),
    packages,
    detectors: [{ id: 'cyclonedx-sbom', version: 1 }],
    warnings,
    stats: { layersRead: 0, layersFromCache: 0, bytesRead: 0 },
  };
  if (distro) inventory.distro = distro;
  return inventory;
}
