import type { Comparison } from '../types.js';
import { compareDigits } from './memo.js';

function isNumeric(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return id.length > 0;
}

/**
 * SemVer 2.0 pre-release precedence (rule 11), shared by the Go and Cargo schemes: no pre-release
 * ranks above any pre-release; identifiers compare left to right, numeric ones by value and below
 * alphanumeric ones, alphanumeric ones in ASCII order; a shorter list that is a prefix ranks lower.
 * Identifiers are given without their separators; numeric ones carry no leading zeros.
 */
export function comparePrerelease(a: readonly string[], b: readonly string[]): Comparison {
  if (a.length === 0 || b.length === 0) {
    if (a.length === b.length) return 0;
    return a.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x === y) continue;
    const nx = isNumeric(x);
    const ny = isNumeric(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (nx) return compareDigits(x, y);
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
