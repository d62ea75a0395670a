/**
 * The HTTP load client of bench/ingest-http.ts, run as a child process (fork) so it does not
 * share the server's event loop: N keep-alive connections, each POSTing ~1 MiB NDJSON bodies
 * back to back, with the bodies' timestamps moved to the current second before each send (the
 * server sees live traffic, not late events). Talks to its parent over IPC:
 *   parent -> { run: RunSpec }   child -> { result: RunResult }   (repeatable), { exit: true }.
 */
import http from 'node:http';
import { DEFAULT_SHAPE, makeBodies, retime, timestampOffsets } from './bodies.ts';

export interface RunSpec {
  /** e.g. http://127.0.0.1:40123/ingest */
  url: string;
  token: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

export interface RunResult {
  /** Responses completed inside the measured period. */
  requests: number;
  /** Sum of `accepted` of those responses. */
  accepted: number;
  rejected: number;
  /** Non-200 answers and socket errors (inside or outside the period). */
  failures: number;
  firstFailure?: string;
  /** Per-request latency, ms, of the measured responses. */
  latencies: number[];
  /** Measured period, ms. */
  elapsedMs: number;
  /** The client's CPU time over the measured period, ms (user + system). */
  clientCpuMs: number;
  bodyBytes: number;
  eventsPerBody: number;
}

const BODIES = 4;

function post(agent: http.Agent, url: URL, token: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(spec: RunSpec, templates: Buffer[], offsets: Int32Array[], eventsPerBody: number[]): Promise<RunResult> {
  const url = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const end = measureFrom + spec.durationMs;
  const result: RunResult = {
    requests: 0,
    accepted: 0,
    rejected: 0,
    failures: 0,
    latencies: [],
    elapsedMs: spec.durationMs,
    clientCpuMs: 0,
    bodyBytes: templates[0]?.length ?? 0,
    eventsPerBody: eventsPerBody[0] ?? 0,
  };
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const connection = async (c: number): Promise<void> => {
    // Each connection owns copies of the bodies, so retiming never races a send in flight.
    const own = templates.map((t) => Buffer.from(t));
    for (let i = c; performance.now() < end; i++) {
      const k = i % own.length;
      const body = own[k] as Buffer;
      retime(body, offsets[k] as Int32Array, Math.floor(Date.now() / 1000));
      const t0 = performance.now();
      try {
        const res = await post(agent, url, spec.token, body);
        const t1 = performance.now();
        if (res.status !== 200) {
          result.failures++;
          result.firstFailure ??= `${res.status} ${res.text.slice(0, 300)}`;
          continue;
        }
        if (t1 >= measureFrom && t1 < end) {
          const answer = JSON.parse(res.text) as { accepted: number; rejected: number };
          result.requests++;
          result.accepted += answer.accepted;
          result.rejected += answer.rejected;
          result.latencies.push(t1 - t0);
        }
      } catch (err) {
        result.failures++;
        result.firstFailure ??= String(err);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const timer = setTimeout(() => (cpuAtStart = process.cpuUsage()), spec.warmupMs);
  await Promise.all(Array.from({ length: spec.connections }, (_, c) => connection(c)));
  clearTimeout(timer);
  const cpu = process.cpuUsage(cpuAtStart);
  result.clientCpuMs = (cpu.user + cpu.system) / 1000;
  agent.destroy();
  return result;
}

if (process.send) {
  const bodies = makeBodies(BODIES, Math.floor(Date.now() / 1000), DEFAULT_SHAPE, 23);
  const templates = bodies.map((b) => b.bytes);
  const offsets = templates.map(timestampOffsets);
  const events = bodies.map((b) => b.events);
  process.on('message', (message: { run?: RunSpec; exit?: boolean }) => {
    if (message.exit) process.exit(0);
    if (message.run) {
      void run(message.run, templates, offsets, events).then((result) => process.send?.({ result }));
    }
  });
  process.send({ ready: true });
}
