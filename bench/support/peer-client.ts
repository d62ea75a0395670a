/**
 * The load client of bench/ingest-peers.ts, run as a forked child so it never shares the server's
 * CPU accounting: reads the events.md spelling of the peers stream, shifts every timestamp by a
 * whole number of seconds so the stream ends at the current second (its 600 s become the last
 * 600 s: live and late traffic as a CDN sends it), cuts it into ~1 MiB NDJSON bodies at line
 * ends, computes the totals a user would check (per service and per service x POP), then POSTs
 * every body once over N keep-alive connections and counts what the server acknowledged.
 */
import fs from 'node:fs';
import http from 'node:http';

export interface PeerRunSpec {
  url: string;
  token: string;
  file: string;
  connections: number;
  bodyBytes: number;
}

export type Totals = Record<string, number>;

export interface PeerRunResult {
  events: number;
  bodies: number;
  accepted: number;
  rejected: number;
  failures: number;
  firstFailure?: string;
  /** Wall clock ms of the first send and of the last acknowledgement. */
  startedAt: number;
  endedAt: number;
  /** Request latencies, ms. */
  latencies: number[];
  /** First and last second of the shifted stream. */
  firstSecond: number;
  lastSecond: number;
  /** service -> field -> total, and "service|pop" -> requests. */
  perService: Record<string, Totals>;
  perPop: Record<string, number>;
}

const TS_PREFIX = Buffer.from('{"timestamp":');
const STREAM_END = 1_700_000_600; // gen.js: 1700000000 + 600 s

type Prepared = Omit<PeerRunResult, 'accepted' | 'rejected' | 'failures' | 'startedAt' | 'endedAt' | 'latencies' | 'firstSecond' | 'lastSecond'>;

function prepare(spec: PeerRunSpec): { bodies: Buffer[]; shift: () => { firstSecond: number; lastSecond: number }; result: Prepared } {
  const data = fs.readFileSync(spec.file);
  const lineStarts: number[] = [];
  const perService: Record<string, Totals> = {};
  const perPop: Record<string, number> = {};
  const bodies: Buffer[] = [];
  let events = 0;
  let bodyStart = 0;
  for (let pos = 0; pos < data.length; ) {
    let end = data.indexOf(10, pos);
    if (end < 0) end = data.length;
    if (data.compare(TS_PREFIX, 0, TS_PREFIX.length, pos, pos + TS_PREFIX.length) !== 0) throw new Error(`line at byte ${pos} does not start with {"timestamp":`);
    lineStarts.push(pos + TS_PREFIX.length);
    const e = JSON.parse(data.toString('utf8', pos, end)) as Record<string, unknown>;
    const svc = e.service as string;
    const t = (perService[svc] ??= {});
    const add = (k: string, v: number): void => {
      t[k] = (t[k] ?? 0) + v;
    };
    add('requests', 1);
    add('resp_body_bytes', e.resp_body_bytes as number);
    add('resp_header_bytes', e.resp_header_bytes as number);
    add(e.cache === 'hit' ? 'hits' : e.cache === 'miss' ? 'miss' : 'pass', 1);
    add(`status_${Math.floor((e.status as number) / 100)}xx`, 1);
    if (e.origin_status !== undefined) add('origin_fetches', 1);
    const pk = `${svc}|${e.datacenter as string}`;
    perPop[pk] = (perPop[pk] ?? 0) + 1;
    events++;
    pos = end + 1;
    if (pos - bodyStart >= spec.bodyBytes || pos >= data.length) {
      bodies.push(data.subarray(bodyStart, Math.min(pos, data.length)));
      bodyStart = pos;
    }
  }
  // Right before sending: the integer part is 10 digits before and after the shift, rewritten in place.
  const shift = (): { firstSecond: number; lastSecond: number } => {
    const offset = Math.floor(Date.now() / 1000) - STREAM_END;
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const at of lineStarts) {
      const second = Number(data.toString('latin1', at, at + 10)) + offset;
      data.write(String(second), at, 10, 'latin1');
      if (second < first) first = second;
      if (second > last) last = second;
    }
    return { firstSecond: first, lastSecond: last };
  };
  return { bodies, shift, result: { events, bodies: bodies.length, perService, perPop } };
}

async function send(spec: PeerRunSpec, bodies: readonly Buffer[]): Promise<Pick<PeerRunResult, 'accepted' | 'rejected' | 'failures' | 'firstFailure' | 'startedAt' | 'endedAt' | 'latencies'>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const url = new URL('/ingest', spec.url);
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const post = (body: Buffer): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${spec.token}`, 'content-type': 'application/x-ndjson', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const t = performance.now();
        try {
          const { status, text } = await post(bodies[i] as Buffer);
          latencies.push(performance.now() - t);
          if (status !== 200) throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
          const ack = JSON.parse(text) as { accepted: number; rejected: number };
          accepted += ack.accepted;
          rejected += ack.rejected;
        } catch (err) {
          failures++;
          firstFailure ??= String(err);
        }
      }
    }),
  );
  const endedAt = Date.now();
  agent.destroy();
  return { accepted, rejected, failures, ...(firstFailure === undefined ? {} : { firstFailure }), startedAt, endedAt, latencies };
}

process.on('message', (m: { run: PeerRunSpec }) => {
  const { bodies, shift, result } = prepare(m.run);
  const range = shift();
  void send(m.run, bodies).then((sent) => {
    process.send?.({ result: { ...result, ...range, ...sent } satisfies PeerRunResult });
  });
});
process.send?.({ ready: true });
