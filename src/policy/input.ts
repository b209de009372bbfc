import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PortcullisError } from '../domain/errors.js';

/**
 * The one way policy modules report a bad file: E_INPUT, a message naming the module, the file and
 * the problem, and the same two facts in `details` for programs.
 */
export function policyInputError(module: string, file: string, reason: string, cause?: unknown): PortcullisError {
  return new PortcullisError('E_INPUT', `${module}: ${file}: ${reason}`, { file, reason }, cause === undefined ? undefined : { cause });
}

/** Reads a policy file as UTF-8; a missing or unreadable file is E_INPUT naming it. */
export function readPolicyFile(module: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw policyInputError(module, file, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`, err);
  }
}

/**
 * Parses YAML (a JSON document is YAML too) into plain data. Syntax errors become E_INPUT with the
 * line and column the yaml library reports. An empty or comment-only document yields `null`.
 */
export function parsePolicyYaml(module: string, file: string, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const offset = first.pos[0];
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const where = ` at line ${line}, column ${offset - before.lastIndexOf('\n')}`;
    throw policyInputError(module, file, `invalid YAML${where}: ${first.message.split('\n')[0] ?? ''}`, first);
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/** Turns the first zod issue into a readable `at a.b[2]: message` reason. */
export function zodReason(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid document';
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  return path === '' ? issue.message : `at ${path}: ${issue.message}`;
}

/** Parses JSON text; syntax errors become E_INPUT naming the file. */
export function parsePolicyJson(module: string, file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw policyInputError(module, file, `invalid JSON: ${(err as Error).message}`, err);
  }
}
