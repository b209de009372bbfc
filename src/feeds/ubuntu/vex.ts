import { PackageURL } from 'packageurl-js';
import * as z from 'zod';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { AdvisoryFeed, AdvisoryParseResult, FeedFile, SkippedRecord } from '../types.js';
import { affectedKey, dpkgSourceAffected } from '../debian/affected.js';
import { ubuntuNamespace } from './releases.js';

/** Canonical's repository of security notices; its `vex/cve/<year>/` folders hold one OpenVEX document per CVE. */
export const UBUNTU_VEX_TARBALL_URL = 'https://github.com/canonical/ubuntu-security-notices/archive/refs/heads/main.tar.gz';

const statementSchema = z.object({
  vulnerability: z.object({ name: z.string().min(1), description: z.string().optional() }),
  timestamp: z.string().optional(),
  products: z.array(z.object({ '@id': z.string() })),
  status: z.enum(['fixed', 'affected', 'not_affected', 'under_investigation']),
});

const documentSchema = z.object({
  '@context': z.string().regex(/openvex/),
  '@id': z.string().optional(),
  timestamp: z.string().optional(),
  statements: z.array(z.unknown()),
});

/**
 * Parses one Ubuntu OpenVEX document into one Advisory per vulnerability it speaks about (feed
 * `ubuntu-vex`). Only source products (`pkg:deb/ubuntu/<src>@<version>?arch=source&distro=<release>`)
 * are used: binary products repeat them per architecture. `fixed` -> fixed in the purl's version,
 * `affected` -> unfixed (vendorStatus `affected`), `under_investigation` -> unfixed (vendorStatus
 * `under_investigation`), `not_affected` -> not_affected; the distro qualifier maps through
 * ubuntuNamespace (ESM distros -> `ubuntu:<ver>:esm`). A statement that fails validation is skipped and
 * counted; a document that fails validation counts as one skipped record. A document without
 * statements gives no advisories.
 */
export function parseUbuntuVex(files: FeedFile[]): AdvisoryParseResult {
  const byId = new Map<string, Advisory>();
  const seen = new Map<string, Set<string>>();
  const skipped: SkippedRecord[] = [];
  let newest: string | undefined;
  for (const file of files) {
    let doc: z.infer<typeof documentSchema>;
    try {
      doc = documentSchema.parse(JSON.parse(file.bytes.toString('utf8')));
    } catch (err) {
      skipped.push({ record: file.name, reason: `ubuntu-vex: not an OpenVEX document: ${(err as Error).message.slice(0, 200)}` });
      continue;
    }
    if (doc.timestamp !== undefined && (newest === undefined || doc.timestamp > newest)) newest = doc.timestamp;
    doc.statements.forEach((raw, i) => {
      const st = statementSchema.safeParse(raw);
      if (!st.success) {
        skipped.push({ record: `${file.name}#${i}`, reason: `ubuntu-vex: ${st.error.issues[0]?.message ?? 'invalid statement'}` });
        return;
      }
      const id = st.data.vulnerability.name;
      let advisory = byId.get(id);
      if (advisory === undefined) {
        advisory = { id, aliases: [], feed: 'ubuntu-vex', severities: [], references: [`https://ubuntu.com/security/${id}`], affected: [] };
        if (st.data.vulnerability.description) advisory.description = st.data.vulnerability.description;
        byId.set(id, advisory);
        seen.set(id, new Set());
      }
      const keys = seen.get(id) ?? new Set<string>();
      for (const product of st.data.products) {
        const affected = productAffected(product['@id'], st.data.status);
        if (affected === undefined) continue;
        const key = affectedKey(affected);
        if (keys.has(key)) continue;
        keys.add(key);
        advisory.affected.push(affected);
      }
    });
  }
  const advisories = [...byId.values()];
  return newest === undefined ? { advisories, skipped } : { advisories, skipped, newestRecord: newest };
}

function productAffected(purl: string, status: z.infer<typeof statementSchema>['status']): AffectedPackage | undefined {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
  if (p.type !== 'deb' || p.qualifiers?.arch !== 'source') return undefined;
  const namespace = ubuntuNamespace(p.qualifiers?.distro ?? '');
  if (namespace === undefined) return undefined;
  const base = { namespace, packageName: p.name };
  if (status === 'fixed') {
    if (!p.version) return undefined;
    return dpkgSourceAffected({ ...base, state: 'fixed', fixedVersion: p.version });
  }
  if (status === 'not_affected') return dpkgSourceAffected({ ...base, state: 'not_affected' });
  return dpkgSourceAffected({ ...base, state: 'unfixed', vendorStatus: status });
}

/** Ubuntu's OpenVEX documents (`ubuntu-vex`). */
export const ubuntuVexFeed: AdvisoryFeed = {
  kind: 'advisories',
  id: 'ubuntu-vex',
  version: 1,
  description: 'Ubuntu OpenVEX: fixed / affected / not-affected statements per source package and release',
  upstream: [{ url: UBUNTU_VEX_TARBALL_URL, format: 'tar-gz' }],
  recognizes(file: FeedFile): boolean {
    if (!/\.json$/i.test(file.name)) return false;
    const head = file.bytes.subarray(0, 2048).toString('utf8');
    return /"@context"\s*:\s*"https:\/\/openvex\.dev\/ns/.test(head) && /Canonical|ubuntu/i.test(head);
  },
  parse: parseUbuntuVex,
};
