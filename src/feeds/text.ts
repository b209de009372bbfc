/**
 * Small text helpers shared by the feed parsers: YAML that keeps version-like scalars as written,
 * date normalization and file sniffing.
 */
import { parse as parseYamlText } from 'yaml';

const NUMERIC_TAGS = new Set(['tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

/**
 * Parses YAML with the core schema except that numbers stay strings: feeds write versions and ids
 * unquoted (`1.10`, `0`, `101179`), and reading them as numbers would turn `1.10` into `1.1`.
 * Booleans and null are still resolved. Throws the YAML library's error on malformed input.
 */
export function parseYaml(text: string): unknown {
  return parseYamlText(text, {
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || !NUMERIC_TAGS.has(t.tag)),
    // Feeds are trusted-ish data, but a hostile alias bomb must not hang an import.
    maxAliasCount: 100,
  });
}

/**
 * A date or timestamp as ISO 8601 (`2024-01-02T03:04:05.000Z`), or undefined when absent,
 * unparsable, or a placeholder before 1971 (the Go database writes `0001-01-01T00:00:00Z` for unknown).
 */
export function isoDate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value.trim());
  if (!Number.isFinite(ms) || ms < Date.UTC(1971, 0, 1)) return undefined;
  return new Date(ms).toISOString();
}

/** The newest of some ISO dates (string order is date order for ISO 8601 in UTC); undefined when none. */
export function newestDate(dates: Iterable<string | undefined>): string | undefined {
  let newest: string | undefined;
  for (const d of dates) if (d !== undefined && (newest === undefined || d > newest)) newest = d;
  return newest;
}

/** The first `max` bytes of a file as text, for `recognizes()` sniffing. */
export function head(bytes: Buffer, max = 4096): string {
  return bytes.subarray(0, max).toString('utf8');
}

/** The file name without folders (handles `/`, `\` and the `!/` of zip entries). */
export function baseName(name: string): string {
  const parts = name.split(/[/\\!]/);
  return parts[parts.length - 1] ?? name;
}

/** Unique values in first-seen order. */
export function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}
