/**
 * A bounded memo for version parsing. Comparing tables and matching inventories parse the same
 * strings again and again; keeping the parsed form makes `compare` cost one map look-up per side.
 * The map is simply emptied when full: cheaper than LRU bookkeeping, and a version scheme's working
 * set (one image's packages against one feed) fits well below the bound.
 */
export function memoParse<T>(parse: (input: string) => T | null, limit = 50_000): (input: string) => T | null {
  const cache = new Map<string, T | null>();
  return (input: string): T | null => {
    const hit = cache.get(input);
    if (hit !== undefined) return hit;
    const parsed = parse(input);
    if (cache.size >= limit) cache.clear();
    cache.set(input, parsed);
    return parsed;
  };
}

/** Orders two strings of ASCII digits without leading zeros by numeric value; works at any length. */
export function compareDigits(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Sign of a number as a Comparison. */
export function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Strips leading ASCII zeros from a digit string, keeping one digit ("000" -> "0"). */
export function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}
