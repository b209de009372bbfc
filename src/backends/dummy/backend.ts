/**
 * The dummy backend: fixed findings for development and demos, as Portus's `dummy` driver was. It
 * reads no image. `security.dummy.server` chooses the fixture, as Portus's dummy took a server string:
 * - `builtin`: Portus's default fixture (three OpenSSL advisories of 2016), in our findings shape;
 * - `pending`: always "still working", to exercise a UI's pending state;
 * - `fixture:/path/to/file.json` (or .yaml): a fixture file, see {@link parseDummyFixture}.
 */
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { parsePolicyYaml, readPolicyFile, zodReason } from '../../policy/input.js';
import { backendSeverity } from '../severity.js';
import type { BackendHealth, BackendPackageFindings, BackendScanOutput, ScannerBackend } from '../types.js';

/** The dummy backend's name (its `security:` key and the name its results are stored under). */
export const DUMMY_BACKEND = 'dummy';

const vulnerabilitySchema = z.strictObject({
  id: z.string().min(1),
  /** Any scanner's word (see backendSeverity); kept as `backendSeverity`. */
  severity: z.string(),
  fixedBy: z.string().optional(),
  link: z.string().optional(),
  description: z.string().optional(),
  namespace: z.string().optional(),
});

const fixtureSchema = z.strictObject({
  /** true: every scan answers "still working". */
  pending: z.boolean().default(false),
  packageCount: z.number().int().min(0).optional(),
  packages: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        version: z.string(),
        namespace: z.string().optional(),
        vulnerabilities: z.array(vulnerabilitySchema),
      }),
    )
    .default([]),
});

/** A fixture as a file states it. */
export type DummyFixture = z.input<typeof fixtureSchema>;

/** A validated fixture: what every scan reports, or that it is always still working. */
export interface DummyFixtureData {
  pending: boolean;
  output: BackendScanOutput;
}

/**
 * Portus's `fixtures/dummy.json` named three advisories and no package; all three are OpenSSL's,
 * so here they belong to one openssl package. Links are the ones Portus's fixture gave.
 */
const BUILTIN_FIXTURE: DummyFixture = {
  packages: [
    {
      name: 'openssl',
      version: '1.0.2h',
      namespace: 'dummy',
      vulnerabilities: [
        { id: 'CVE-2016-6304', severity: 'High', link: 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-6304' },
        { id: 'CVE-2016-7052', severity: 'Medium', link: 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-7052' },
        { id: 'CVE-2016-2178', severity: 'Low', link: 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-2178' },
      ],
    },
  ],
};

/** Validates a fixture document; E_CONFIG naming `where` and the first problem. */
export function parseDummyFixture(doc: unknown, where: string): DummyFixtureData {
  const parsed = fixtureSchema.safeParse(doc ?? {});
  if (!parsed.success) throw new PortcullisError('E_CONFIG', `config: security.dummy.server: ${where}: ${zodReason(parsed.error)}`, { key: 'security.dummy.server' });
  const packages: BackendPackageFindings[] = parsed.data.packages.map((p) => ({
    name: p.name,
    version: p.version,
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
    vulnerabilities: p.vulnerabilities.map((v) => ({
      id: v.id,
      severity: backendSeverity(v.severity),
      backendSeverity: v.severity,
      ...(v.fixedBy !== undefined ? { fixedBy: v.fixedBy } : {}),
      ...(v.link !== undefined ? { link: v.link } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v.namespace !== undefined ? { namespace: v.namespace } : p.namespace !== undefined ? { namespace: p.namespace } : {}),
    })),
  }));
  return { pending: parsed.data.pending, output: { packages, ...(parsed.data.packageCount !== undefined ? { packageCount: parsed.data.packageCount } : {}) } };
}

/** The fixtures backend. */
export class DummyBackend implements ScannerBackend {
  readonly name = DUMMY_BACKEND;
  readonly needs = 'image-name' as const;

  constructor(
    private readonly fixture: DummyFixtureData,
    /** Where the fixture came from, for health and messages. */
    private readonly source: string,
  ) {}

  /**
   * The backend `security.dummy.server` describes (`builtin`, `pending`, or `fixture:<path>`);
   * E_CONFIG for any other value or a fixture file that is missing or malformed.
   */
  static fromServerSetting(setting: string): DummyBackend {
    if (setting === 'builtin') return new DummyBackend(parseDummyFixture(BUILTIN_FIXTURE, 'builtin'), 'builtin');
    if (setting === 'pending') return new DummyBackend({ pending: true, output: { packages: [] } }, 'pending');
    if (setting.startsWith('fixture:')) {
      const file = setting.slice('fixture:'.length);
      let doc: unknown;
      try {
        doc = parsePolicyYaml('dummy', file, readPolicyFile('dummy', file));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new PortcullisError('E_CONFIG', `config: security.dummy.server: ${reason}`, { key: 'security.dummy.server' }, { cause: err });
      }
      return new DummyBackend(parseDummyFixture(doc, file), file);
    }
    throw new PortcullisError('E_CONFIG', `config: security.dummy.server: ${JSON.stringify(setting)}: expected "builtin", "pending" or "fixture:/path/to/fixture.json" ("" turns the dummy backend off)`, {
      key: 'security.dummy.server',
    });
  }

  health(): Promise<BackendHealth> {
    return Promise.resolve({ ok: true, detail: `dummy: fixture ${this.source}${this.fixture.pending ? ' (always still working)' : ''}` });
  }

  scan(): Promise<BackendScanOutput> {
    if (this.fixture.pending) return Promise.reject(new PortcullisError('E_PENDING', `dummy: still working (fixture ${this.source})`));
    return Promise.resolve(structuredClone(this.fixture.output));
  }
}
