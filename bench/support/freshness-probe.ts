/**
 * Freshness under load: once a second, one event stamped now is posted for a probe service, and
 * the time from its acknowledgement to the first `ts/{t}` answer that holds it is recorded (the
 * Fastly long-poll, as a real-time client reads). Issue 8's bound: acknowledged at t, visible by
 * t + AggregateDelay + 1 s.
 */
export const PROBE_SERVICE = 'freshness-probe';

export interface FreshnessProbe {
  /** Stops probing; resolves with each probe's ack-to-visible delay, ms. */
  stop(): Promise<number[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ChannelAnswer {
  Timestamp: number;
  Data: { recorded: number; aggregated: Record<string, number> }[];
}

export function startFreshnessProbe(url: string, token: string): FreshnessProbe {
  const delays: number[] = [];
  let stopped = false;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      const sentAt = Date.now();
      const second = Math.floor(sentAt / 1000);
      const line = JSON.stringify({ timestamp: sentAt / 1000, service: PROBE_SERVICE, datacenter: 'FRA', domain: 'probe.example', status: 200 });
      const res = await fetch(`${url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body: `${line}\n` });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`freshness probe: POST /ingest answered ${res.status}`);
      const ackedAt = Date.now();
      // Follow the cursor from the second before until an answer holds the probe's second.
      for (let t = second - 1, seen = false; !seen && !stopped; ) {
        const answer = (await (await fetch(`${url}/v1/channel/${PROBE_SERVICE}/ts/${t}`, { headers: { 'Fastly-Key': token } })).json()) as ChannelAnswer;
        seen = answer.Data.some((d) => d.recorded === second && (d.aggregated['requests'] ?? 0) >= 1);
        if (seen) delays.push(Date.now() - ackedAt);
        else if (answer.Timestamp > t) t = answer.Timestamp - 1;
      }
      // One probe a second, each in a second of its own.
      await sleep(Math.max(0, (second + 1) * 1000 - Date.now() + 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return delays;
    },
  };
}
