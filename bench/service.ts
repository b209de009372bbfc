/**
 * Benchmark section "service": `portcullis serve` as a real child process, loaded with autocannon.
 *
 * - webhook throughput: registry notifications stored per second (one new event per request, so
 *   every request is a real insert, on the default SQLite store), against the same server's
 *   `GET /healthz` (the framework's floor: routing, hooks and logging, no auth, no database)
 *   measured in the same run;
 * - peak RSS of serve after both loads, against its RSS right after start.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServe } from '../test/support/serve.js';
import type { Row } from './lib/table.js';

const NOTIFICATION_TOKEN = 'bench-notification-token';
const CONNECTIONS = 10;

/** `VmRSS` / `VmHWM` of a process, in KiB (Linux /proc). */
function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no ${field} for process ${pid}`);
  return Number(m[1]);
}

/** One push notification as a real registry sends it, with a fresh event id. */
function pushEnvelope(n: number): string {
  return JSON.stringify({
    events: [
      {
        id: `bench-${process.pid}-${n}`,
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 350,
          digest: `sha256:${n.toString(16).padStart(64, '0')}`,
          repository: 'bench/app',
          url: `http://127.0.0.1:5000/v2/bench/app/manifests/sha256:${n.toString(16).padStart(64, '0')}`,
          tag: 'latest',
        },
        request: { id: `r${n}`, addr: '127.0.0.1:1', host: '127.0.0.1:5000', method: 'PUT', useragent: 'skopeo/1.9.3' },
        actor: {},
        source: { addr: 'bench:5000', instanceID: 'bench' },
      },
    ],
  });
}

/** Runs autocannon and fails on any error or non-2xx answer (a figure of failures would mean nothing). */
async function load(options: autocannon.Options): Promise<autocannon.Result> {
  const result = await autocannon(options);
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) throw new Error(`${options.url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  return result;
}

/** Measures the service and appends its rows. */
export async function benchService(target: { rows: Row[]; quick: boolean; tmp: string; log: (line: string) => void }): Promise<void> {
  const dir = mkdtempSync(join(target.tmp, 'service-'));
  const serve = await startServe([], { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir, PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN: NOTIFICATION_TOKEN });
  try {
    const pid = serve.child.pid as number;
    const idleRssKiB = memoryKiB(pid, 'VmRSS');
    const duration = target.quick ? 3 : 10;
    target.log(`service: GET /healthz for ${duration} s`);
    const health = await load({ url: `${serve.url}/healthz`, connections: CONNECTIONS, duration });
    target.log(`service: POST /v2/webhooks/events for ${duration} s`);
    let sent = 0;
    const webhook = await load({
      url: `${serve.url}/v2/webhooks/events`,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'POST',
          headers: { authorization: `Bearer ${NOTIFICATION_TOKEN}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
          setupRequest: (request) => ({ ...request, body: pushEnvelope(sent++) }),
        },
      ],
    });
    target.rows.push({
      section: 'III.7 service',
      what: `webhook: push notifications stored per second (SQLite, ${CONNECTIONS} connections, ${webhook.requests.total.toLocaleString('en-US')} events)`,
      ours: { value: webhook.requests.average, unit: 'req/s' },
      refWhat: 'GET /healthz of the same server, same run',
      ref: { value: health.requests.average, unit: 'req/s' },
      better: 'higher',
      note: `p99 latency ${webhook.latency.p99} ms vs ${health.latency.p99} ms`,
    });
    target.rows.push({
      section: 'III.7 service',
      what: 'serve: peak RSS after both loads',
      ours: { value: memoryKiB(pid, 'VmHWM') / 1024, unit: 'MiB' },
      refWhat: 'serve right after start',
      ref: { value: idleRssKiB / 1024, unit: 'MiB' },
      better: 'lower',
    });
  } finally {
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
