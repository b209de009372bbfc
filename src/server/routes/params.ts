/** Path and query parameters several routes share, validated the same way everywhere. */
import * as z from 'zod';

/** A manifest or blob digest as the service stores them. */
export const digestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, { message: 'expected a sha256:<64 hex> digest' });

/** One path component of a repository name, as the OCI distribution spec allows it. */
export const nameSchema = z.string().regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/, { message: 'expected a repository path component (lower case, digits, . _ -)' });
