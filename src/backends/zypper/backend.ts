/**
 * zypper-docker as a backend (Portus's experimental `zypper` driver): `zypper-docker serve` lists
 * the patches an openSUSE/SLE image lacks. `GET {server}/images?image={repo}:{tag}`:
 * - 200: `{"Security": <count>, "List": [{"Name", "Version", "IsSecurity", "Severity", "Summary", ...}]}`;
 *   the items with `IsSecurity` are the findings (none when `Security` is null or 0, as Portus read it);
 * - 202: zypper-docker is still working on the image: E_PENDING, so the queue asks again after its backoff;
 * - anything else, or a body of another shape: a failed scan with the reason (Portus logged it and
 *   showed nothing).
 * zypper-docker knows images by name, so the target's tag is used (the digest when none names it).
 */
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { zodReason } from '../../policy/input.js';
import { backendFetch, errorMessageOf, parseJsonBody } from '../http.js';
import { backendSeverity } from '../severity.js';
import type { BackendHealth, BackendPackageFindings, BackendScanOutput, ScannerBackend, ScanTarget } from '../types.js';

/** The zypper-docker backend's name (its `security:` key and the name its results are stored under). */
export const ZYPPER_BACKEND = 'zypper';

const itemSchema = z.looseObject({
  Name: z.string().min(1),
  Version: z.string().optional(),
  IsSecurity: z.boolean().optional(),
  Severity: z.string().optional(),
  Summary: z.string().optional(),
  Category: z.string().optional(),
});

const answerSchema = z.looseObject({
  Security: z.number().int().nullish(),
  List: z.array(itemSchema).nullish(),
});

export interface ZypperBackendOptions {
  /** `security.zypper.server`, e.g. `http://zypper-docker:8080`. */
  server: string;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

/** The zypper-docker backend. */
export class ZypperBackend implements ScannerBackend {
  readonly name = ZYPPER_BACKEND;
  readonly needs = 'image-name' as const;
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(options: ZypperBackendOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** zypper-docker has no health route; its images route answering at all is the sign of life. */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    try {
      const answer = await backendFetch(`${this.server}/images`, { backend: this.name, timeoutMs: Math.min(this.timeoutMs, 10_000), ...(signal ? { signal } : {}) });
      return { ok: answer.status < 500, detail: `zypper-docker answered ${answer.status}` };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async scan(target: ScanTarget, signal: AbortSignal): Promise<BackendScanOutput> {
    const image = target.tags[0] !== undefined ? `${target.repository}:${target.tags[0]}` : `${target.repository}@${target.digest}`;
    const url = `${this.server}/images?image=${encodeURIComponent(image)}`;
    const answer = await backendFetch(url, { backend: this.name, timeoutMs: this.timeoutMs, signal });
    if (answer.status === 202) throw new PortcullisError('E_PENDING', `zypper: still working on ${image}`, { backend: this.name });
    if (answer.status !== 200) {
      throw new PortcullisError('E_INTERNAL', `zypper: GET /images?image=${image} answered ${answer.status}: ${errorMessageOf(answer.text)}`, { backend: this.name, status: answer.status });
    }
    const parsed = answerSchema.safeParse(parseJsonBody(answer, this.name, `GET /images?image=${image}`));
    if (!parsed.success) throw new PortcullisError('E_INTERNAL', `zypper: GET /images?image=${image}: unexpected answer: ${zodReason(parsed.error)}`, { backend: this.name });
    const { Security, List } = parsed.data;
    const items = List ?? [];
    if (Security === null || Security === undefined || Security === 0) return { packages: [], packageCount: items.length };
    const packages: BackendPackageFindings[] = items
      .filter((item) => item.IsSecurity === true)
      .map((item) => ({
        name: item.Name,
        version: item.Version ?? '',
        vulnerabilities: [
          {
            id: item.Name,
            severity: backendSeverity(item.Severity),
            backendSeverity: item.Severity ?? '',
            ...(item.Version !== undefined ? { fixedBy: item.Version } : {}),
            ...(item.Summary !== undefined ? { description: item.Summary } : {}),
          },
        ],
      }));
    return { packages, packageCount: items.length };
  }
}
