/**
 * Outgoing webhooks: a notice per manifest whose findings changed (Quay's "new vulnerability
 * found", made a diff: introduced, fixed, severity changed, with every repository:tag of the
 * digest), POSTed as JSON to each configured URL. The body is signed with the URL's secret,
 * `X-Portcullis-Signature: sha256=<hex HMAC-SHA256 of the exact body>`, so a receiver can check it
 * came from this service. Deliveries are retried with exponential backoff and logged.
 */
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { CatalogStore } from '../store/catalog.js';
import type { WebhookDelivery, WebhookStore } from '../store/webhooks.js';
import type { ManifestDiff } from './rematch.js';

export interface WebhookTarget {
  url: string;
  secret: string;
}

/** The event name of a findings-changed notice. */
export const FINDINGS_CHANGED = 'findings.changed';

/** `sha256=<hex>` of the body under the secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Queues one notice per changed manifest for every target; returns how many deliveries were queued.
 * `db` names what the results were matched against (the vulnerability DB's built_at); a notice of
 * an external scanner backend's re-scan names the `backend` instead.
 */
export async function queueFindingsChanged(diffs: readonly ManifestDiff[], db: string, targets: readonly WebhookTarget[], deps: { catalog: CatalogStore; webhooks: WebhookStore }, backend?: string): Promise<number> {
  let queued = 0;
  if (targets.length === 0) return 0;
  for (const diff of diffs) {
    const tags = (await deps.catalog.tagsOfDigest(diff.digest)).map((t) => ({ repository: t.repository, tag: t.name }));
    const body = JSON.stringify({ event: FINDINGS_CHANGED, digest: diff.digest, tags, ...(backend !== undefined ? { backend } : { db }), introduced: diff.introduced, fixed: diff.fixed, severityChanged: diff.severityChanged });
    for (const target of targets) {
      await deps.webhooks.enqueue(target.url, FINDINGS_CHANGED, body);
      queued++;
    }
  }
  return queued;
}

export interface DelivererOptions {
  webhooks: WebhookStore;
  targets: readonly WebhookTarget[];
  /** Attempts before a delivery is left failed (default 8). */
  maxAttempts?: number;
  /** Backoff base and cap (default 5 s, 1 h). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Sends every due delivery once; returns [delivered, failed attempts]. A 2xx answer is delivered;
 * anything else, a timeout or a refused connection is retried after the backoff, until the
 * attempts run out. A URL no longer in the configuration is failed at once (its secret is gone).
 */
export async function deliverDue(options: DelivererOptions): Promise<[number, number]> {
  const now = options.now ?? (() => new Date());
  const secrets = new Map(options.targets.map((t) => [t.url, t.secret]));
  let delivered = 0;
  let failed = 0;
  for (const d of await options.webhooks.due(50)) {
    const secret = secrets.get(d.url);
    if (secret === undefined) {
      await options.webhooks.attemptFailed(d.id, 'the URL is no longer in the webhooks configuration', null, undefined);
      failed++;
      continue;
    }
    const outcome = await post(d, secret, options.timeoutMs ?? 10_000);
    if (outcome.ok) {
      await options.webhooks.delivered(d.id, outcome.status ?? 0);
      delivered++;
      continue;
    }
    failed++;
    const attempt = d.attempts + 1;
    const retry = attempt < (options.maxAttempts ?? 8);
    const wait = Math.min(options.backoffMaxMs ?? 3_600_000, (options.backoffBaseMs ?? 5_000) * 2 ** (attempt - 1));
    await options.webhooks.attemptFailed(d.id, outcome.error, outcome.status ?? null, retry ? new Date(now().getTime() + wait) : undefined);
  }
  return [delivered, failed];
}

async function post(d: WebhookDelivery, secret: string, timeoutMs: number): Promise<{ ok: true; status: number } | { ok: false; status?: number; error: string }> {
  try {
    const res = await request(d.url, {
      method: 'POST',
      body: d.payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'portcullis-webhooks',
        'x-portcullis-event': d.event,
        'x-portcullis-delivery': String(d.id),
        'x-portcullis-signature': signBody(secret, d.payload),
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // undici's request follows no redirect: a signed body goes only to the configured URL.
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `answered HTTP ${res.statusCode}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, error: `${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}` };
  }
}
