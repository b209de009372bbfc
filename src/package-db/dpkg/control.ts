/**
 * A reader for Debian control-file stanzas (the RFC 822-like format of `var/lib/dpkg/status`).
 * Written by hand because no maintained npm package parses deb822 the way dpkg does (case-insensitive
 * field names, continuation lines, tolerant paragraph separators) without pulling in a whole apt client.
 */

import { textLines } from '../common.js';

/** One paragraph of a control file. */
export interface ControlStanza {
  /** Field values keyed by lower-cased field name; continuation lines are joined with `\n`. */
  fields: Map<string, string>;
  /** 1-based line number of the stanza's first field, for warnings. */
  line: number;
  /** Lines that were neither a field nor a continuation (kept for warnings, otherwise ignored). */
  strayLines: number[];
}

/**
 * Splits control-file text into stanzas. Tolerates CRLF line ends, a UTF-8 byte-order mark, several
 * blank lines between stanzas, lines holding only spaces or tabs as separators, and `#` comment lines.
 * A field repeated inside one stanza keeps its last value (dpkg would reject the file; we keep going).
 * Returns [] for empty or whitespace-only text.
 */
export function parseControlStanzas(text: Uint8Array | string): ControlStanza[] {
  return [...controlStanzas(text)];
}

/**
 * The stanzas of a control file one at a time, as parseControlStanzas reads them: only the current
 * stanza is held, so a database of 200,000 packages costs no more than its largest stanza on top of
 * its bytes (decoded line by line, see textLines).
 */
export function* controlStanzas(text: Uint8Array | string): Generator<ControlStanza> {
  let current: ControlStanza | undefined;
  let lastField: string | undefined;
  let lineNo = 0;
  for (const raw of textLines(text)) {
    lineNo += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Blank (or whitespace-only) lines end a stanza; deb822 parsers may accept the latter as separators.
    if (line.trim() === '') {
      if (current) yield current;
      current = undefined;
      lastField = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current && lastField !== undefined) {
        const previous = current.fields.get(lastField) ?? '';
        // Multi-line values (Conffiles, Description) may start on the next line; a lone "." marks an
        // empty line inside Description and is kept as written.
        current.fields.set(lastField, previous === '' ? line.trim() : `${previous}\n${line.trim()}`);
      } else {
        current ??= { fields: new Map(), line: lineNo, strayLines: [] };
        current.strayLines.push(lineNo);
      }
      continue;
    }
    current ??= { fields: new Map(), line: lineNo, strayLines: [] };
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current.strayLines.push(lineNo);
      lastField = undefined;
      continue;
    }
    lastField = line.slice(0, colon).trim().toLowerCase();
    current.fields.set(lastField, line.slice(colon + 1).trim());
  }
  if (current) yield current;
}
