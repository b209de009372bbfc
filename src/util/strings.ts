/**
 * A flat copy of a string built by concatenation. V8 keeps `a + b + ...` as a rope of one node per
 * piece until something flattens it; a purl is a rope of about ten pieces, three times the memory of
 * its flat form, which matters when 200,000 of them are kept for the whole run.
 */
export function flatString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
