/**
 * Real version and requirement strings of the feeds that have no comparison table (RubyGems,
 * crates.io), for the gem and cargo tests (not built).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sharedData } from '../../../test/support/shared-data.js';

/** One ruby-advisory-db record's requirement lists. */
export interface RubysecAdvisory {
  file: string;
  patched: string[];
  unaffected: string[];
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (entry.name.endsWith('.yml')) out.push(path);
  }
  return out.sort();
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Every advisory of shared/data/feeds/rubysec. */
export function rubysecAdvisories(): RubysecAdvisory[] {
  return yamlFiles(sharedData('feeds', 'rubysec', 'gems')).map((file) => {
    const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return { file, patched: strings(doc.patched_versions), unaffected: strings(doc.unaffected_versions) };
  });
}

/** The versions named in the rubysec requirement strings (`~> 1.2.3, >= 1.2.3.1` gives 1.2.3 and 1.2.3.1). */
export function rubysecVersions(): string[] {
  const seen = new Set<string>();
  for (const a of rubysecAdvisories()) {
    for (const req of [...a.patched, ...a.unaffected]) {
      for (const item of req.split(',')) seen.add(item.trim().replace(/^(~>|>=|<=|!=|=|>|<)\s*/, ''));
    }
  }
  return [...seen].sort();
}

/** The versions of the crates.io OSV records (`versions` lists and SEMVER range events). */
export function cratesVersions(): string[] {
  const dir = sharedData('feeds', 'osv', 'crates.io');
  const seen = new Set<string>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { affected?: { versions?: unknown; ranges?: { events?: Record<string, unknown>[] }[] }[] };
    for (const affected of doc.affected ?? []) {
      for (const v of strings(affected.versions)) seen.add(v);
      for (const range of affected.ranges ?? []) {
        for (const event of range.events ?? []) {
          for (const v of Object.values(event)) if (typeof v === 'string') seen.add(v);
        }
      }
    }
  }
  return [...seen].sort();
}
