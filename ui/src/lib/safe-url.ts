/**
 * Links that come from feeds, registries or backends are shown as links only when they are
 * absolute http(s) URLs; anything else (`javascript:`, `data:`, relative paths, garbage) is shown
 * as plain text by the caller. Preact escapes attribute values, so the scheme is the only risk.
 */
export function safeHttpUrl(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

/**
 * Where an advisory id is described at its source. Known prefixes only; an id from a feed that
 * does not match gets no link rather than a guessed one.
 */
export function advisorySourceUrl(id: string, links: readonly string[] = []): string | undefined {
  const enc = encodeURIComponent(id);
  if (/^CVE-\d{4}-\d+$/.test(id)) return `https://nvd.nist.gov/vuln/detail/${enc}`;
  if (/^GHSA-[\w-]+$/.test(id)) return `https://github.com/advisories/${enc}`;
  if (/^(DSA|DLA)-\d+(-\d+)?$/.test(id)) return `https://security-tracker.debian.org/tracker/${enc}`;
  if (/^(GO|PYSEC|RUSTSEC|OSV)-[\w-]+$/.test(id)) return `https://osv.dev/vulnerability/${enc}`;
  if (/^USN-\d+-\d+$/.test(id)) return `https://ubuntu.com/security/notices/${enc}`;
  if (/^RH[SBE]A-\d{4}:\d+$/.test(id)) return `https://access.redhat.com/errata/${enc}`;
  if (/^ALAS/.test(id)) return undefined;
  return links.map((l) => safeHttpUrl(l)).find((l) => l !== undefined);
}
