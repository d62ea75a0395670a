import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ChannelSecond, RealtimeSource } from '../../aggregate/realtime-source.ts';
import { EDGE_FIELDS } from '../../model/fields.ts';
import { createPublishedSeconds } from '../../query/published-seconds.ts';
import { startStreamSession, type CloseReason } from './stream-session.ts';

const T = 1_767_225_600;

/** Every second of `svc` has traffic in 50 POPs: about 3 KB an event. */
const source: RealtimeSource = {
  latestPublished: () => T + 100,
  async channel(_service, from, to): Promise<ChannelSecond[]> {
    const out: ChannelSecond[] = [];
    for (let s = from; s < to; s++) {
      const v = new Float64Array(EDGE_FIELDS.length).fill(1);
      out.push({ second: s, aggregated: v, byDatacenter: new Map(Array.from({ length: 50 }, (_, i) => [`P${i}`, v])) });
    }
    return out;
  },
  domains: async () => [],
  origins: async () => [],
};

describe('stream session', () => {
  it('drops a client that does not read instead of buffering without end', async () => {
    // A socket whose peer never reads: writes pile up in writableLength.
    const stuck = new Writable({ highWaterMark: 1024, write: () => undefined });
    const closed: CloseReason[] = [];
    const published = createPublishedSeconds({ source });
    startStreamSession({
      out: { write: (c) => stuck.write(c), get writableLength() { return stuck.writableLength; }, end: () => stuck.destroy() },
      source,
      published,
      services: ['svc'],
      fields: undefined,
      next: T,
      heartbeatMs: 60_000,
      maxBufferedBytes: 64 * 1024,
      onClose: (r) => closed.push(r),
    });
    await new Promise((r) => setTimeout(r, 50));
    published.close();
    expect(closed).toEqual(['slow_client']);
    // It stopped soon after the limit: memory stays bounded by it plus one event.
    expect(stuck.writableLength).toBeLessThan(64 * 1024 + 1024 * 1024);
  });
});
