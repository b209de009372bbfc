/**
 * Test harness: a stand-in for a Clair v2.0.9 server, answering with the bodies a real one was
 * recorded answering (test/data/api-samples/clair-v2) and checking each request as Clair does:
 * the envelope (Layer, Name, Format), the parent chain (a parent must have been indexed first), and
 * the layer's `Path` downloaded with the request's `Headers` from the real registry harness, its
 * bytes checked against the blob digest the Path names and its compression sniffed (zstd is
 * refused with 422, as v2.0.9 did). A health server answers `GET /health` on its own port.
 *
 * `behaviour` makes it misbehave for bad-input tests: never answer, answer 500, answer non-JSON,
 * answer 200 with a body of another shape, send headers and then stall the body, or index every
 * layer but answer the report of another layer (the recorded one, under its recorded name).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sharedData } from '../support/shared-data.js';

export type ClairBehaviour = 'recorded' | 'no-answer' | 'status-500' | 'non-json' | 'wrong-shape' | 'stalled-body' | 'other-layer';

/** A POST /v1/layers the stand-in received, with what it found fetching the Path. */
export interface ReceivedLayerPost {
  body: unknown;
  /** Status the registry answered the Path download with (undefined when not fetched). */
  blobStatus?: number;
  status: number;
}

export interface FakeClairV2 {
  /** `http://127.0.0.1:PORT` (the API). */
  url: string;
  /** Port of the health server. */
  healthPort: number;
  posts: ReceivedLayerPost[];
  gets: string[];
  /** Names of the layers indexed so far. */
  indexed(): string[];
  stop(): Promise<void>;
}

interface Recorded {
  status: number;
  response_body: unknown;
}

function recorded(file: string): Recorded {
  return JSON.parse(readFileSync(sharedData('api-samples', 'clair-v2', file), 'utf8')) as Recorded;
}

/** Starts the stand-in on free 127.0.0.1 ports. */
export async function startFakeClairV2(options: { behaviour?: ClairBehaviour } = {}): Promise<FakeClairV2> {
  const behaviour = options.behaviour ?? 'recorded';
  const samples = {
    created: recorded('01_post_layer_bookworm_minbase.json'),
    unknownLayer: recorded('07_err_get_unknown_layer.json'),
    badFormat: recorded('08_err_post_format_oci.json'),
    blobMissing: recorded('09_err_post_blob_404.json'),
    unknownParent: recorded('10_err_post_unknown_parent.json'),
    noName: recorded('11_err_post_no_name.json'),
    badJson: recorded('12_err_post_bad_json.json'),
    noLayer: recorded('13_err_post_no_layer.json'),
    zstd: recorded('14_compress_zst_post.json'),
    top: recorded('32_synthetic_get_top_layer_multilayer_portus_query.json'),
  };
  const layers = new Map<string, { parent: string }>();
  const posts: ReceivedLayerPost[] = [];
  const gets: string[] = [];
  const stalled = new Set<ServerResponse>();

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', server: 'clair' });
    res.end(JSON.stringify(body));
  };

  const misbehave = (res: ServerResponse): boolean => {
    switch (behaviour) {
      case 'recorded':
      case 'other-layer':
        return false;
      case 'no-answer':
        stalled.add(res);
        return true;
      case 'status-500':
        answer(res, 500, { Error: { Message: 'database: could not establish connection' } });
        return true;
      case 'non-json':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>502 Bad Gateway</body></html>');
        return true;
      case 'wrong-shape':
        answer(res, 200, { Layer: { Name: 42, Features: 'none' } });
        return true;
      case 'stalled-body':
        res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', server: 'clair' });
        res.write('{"Layer":{"Name":"');
        stalled.add(res);
        return true;
    }
  };

  const postLayer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const post: ReceivedLayerPost = { body: text, status: 0 };
    posts.push(post);
    const reply = (r: Recorded | { status: number; response_body: unknown }): void => {
      post.status = r.status;
      answer(res, r.status, r.response_body);
    };
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch {
      return reply(samples.badJson);
    }
    post.body = doc;
    const layer = (doc as { Layer?: Record<string, unknown> } | null)?.Layer;
    if (layer === undefined || layer === null || typeof layer !== 'object') return reply(samples.noLayer);
    const name = typeof layer['Name'] === 'string' ? layer['Name'] : '';
    if (name === '') return reply(samples.noName);
    const format = typeof layer['Format'] === 'string' ? layer['Format'] : '';
    if (format !== 'Docker') return reply({ status: samples.badFormat.status, response_body: { Error: { Message: `unsupported image format '${format}'` } } });
    const parent = typeof layer['ParentName'] === 'string' ? layer['ParentName'] : '';
    if (parent !== '' && !layers.has(parent)) return reply(samples.unknownParent);
    const path = typeof layer['Path'] === 'string' ? layer['Path'] : '';
    const headers = isStringRecord(layer['Headers']) ? layer['Headers'] : {};
    let bytes: Buffer;
    try {
      const blob = await fetch(path, { headers });
      post.blobStatus = blob.status;
      if (blob.status !== 200) return reply(samples.blobMissing);
      bytes = Buffer.from(await blob.arrayBuffer());
    } catch {
      return reply(samples.blobMissing);
    }
    const named = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path)?.[1];
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (named !== actual) return reply({ status: 400, response_body: { Error: { Message: `could not find layer: downloaded ${actual}, Path names ${named ?? 'no digest'}` } } });
    if (bytes.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return reply(samples.zstd);
    layers.set(name, { parent });
    const echo = { ...(samples.created.response_body as { Layer: Record<string, unknown> }).Layer, Name: name, Path: path, Headers: headers, ...(parent !== '' ? { ParentName: parent } : {}) };
    reply({ status: samples.created.status, response_body: { Layer: echo } });
  };

  const getLayer = (url: URL, res: ServerResponse): void => {
    const name = decodeURIComponent(url.pathname.slice('/v1/layers/'.length));
    gets.push(`${name}${url.search}`);
    if (!layers.has(name)) return answer(res, samples.unknownLayer.status, samples.unknownLayer.response_body);
    const top = structuredClone(samples.top.response_body) as { Layer: Record<string, unknown> };
    if (behaviour !== 'other-layer') top.Layer['Name'] = name;
    // Clair v2 reads both query keys as presence flags; without either, no Features at all.
    if (!url.searchParams.has('features') && !url.searchParams.has('vulnerabilities')) delete top.Layer['Features'];
    answer(res, samples.top.status, top);
  };

  const api = createServer((req, res) => {
    if (misbehave(res)) return;
    const url = new URL(req.url ?? '/', 'http://clair.invalid');
    if (req.method === 'POST' && url.pathname === '/v1/layers') {
      postLayer(req, res).catch((err: unknown) => answer(res, 500, { Error: { Message: String(err) } }));
    } else if (req.method === 'GET' && url.pathname.startsWith('/v1/layers/')) {
      getLayer(url, res);
    } else {
      answer(res, 404, { Error: { Message: 'the resource cannot be found' } });
    }
  });
  const health = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404);
    res.end();
  });
  const apiPort = await listen(api);
  const healthPort = await listen(health);
  return {
    url: `http://127.0.0.1:${apiPort}`,
    healthPort,
    posts,
    gets,
    indexed: () => [...layers.keys()],
    stop: async () => {
      for (const res of stalled) res.destroy();
      api.closeAllConnections();
      health.closeAllConnections();
      await Promise.all([close(api), close(health)]);
    },
  };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
