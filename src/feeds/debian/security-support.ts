/** One line of a debian-security-support list. */
export interface SecuritySupportEntry {
  /**
   * Source package name as the list writes it. A few entries are patterns (`php-horde.*`, `node-.*`);
   * use securitySupportMatches to test a name against an entry.
   */
  package: string;
  /** `ended`: no more security updates; `limited`: supported only in some uses (trusted input, ...). */
  status: 'ended' | 'limited';
  /** Last version that had support (ended lists only; `0` means none ever had). */
  version?: string;
  /** Date support ended or will end, YYYY-MM-DD (ended lists only). */
  date?: string;
  /** Free-text details or URL, `''` when the line has none. */
  note: string;
  /** The release the caller said this list is for (`12`, `bookworm`, `debian:12` ...), kept as given. */
  release: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses one list of the debian-security-support package (`security-support-ended.deb12`,
 * `security-support-limited`, ...): `#` comments and blank lines are ignored; a line whose third column
 * is a date is an `ended` entry (`name version date [note]`), any other line a `limited` entry
 * (`name [note]`). Returns [] for a list with no entries (e.g. `security-support-ended.deb11`).
 * Lines are never rejected: the format has no structure beyond whitespace-separated columns.
 */
export function parseSecuritySupport(text: string, release: string): SecuritySupportEntry[] {
  const out: SecuritySupportEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cols = line.split(/\s+/);
    const name = cols[0] ?? '';
    if (cols.length >= 3 && DATE.test(cols[2] ?? '')) {
      out.push({
        package: name,
        status: 'ended',
        version: cols[1] ?? '',
        date: cols[2] ?? '',
        note: restAfter(line, 3),
        release,
      });
      continue;
    }
    out.push({ package: name, status: 'limited', note: restAfter(line, 1), release });
  }
  return out;
}

/** The text of `line` after its first `n` whitespace-separated columns, trimmed. */
function restAfter(line: string, n: number): string {
  const m = new RegExp(`^(?:\\S+\\s+){${n}}(.*)$`).exec(line);
  return m ? (m[1] ?? '').trim() : '';
}

/**
 * True when `sourceName` is covered by `entry`: equal names, or for pattern entries (containing `.*`,
 * the only wildcard the lists use) a whole-name match with `.*` as "anything". Other characters are
 * literal, since real package names contain `+` and `.`.
 */
export function securitySupportMatches(entry: SecuritySupportEntry, sourceName: string): boolean {
  if (!entry.package.includes('.*')) return entry.package === sourceName;
  const pattern = entry.package
    .split('.*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(sourceName);
}
