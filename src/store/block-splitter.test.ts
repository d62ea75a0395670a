import { describe, expect, it } from 'vitest';
import { concatDeltas, splitToBlockBytes } from '../model/delta-concat.ts';
import { deltaFromRecordSet, emptyDelta } from '../model/delta.ts';
import { createBlockSplitter, rollupSums } from './block-splitter.ts';
import { dimensionRecord, edgeRecord, originRecord } from './record-fixtures.ts';

const T0 = 1_704_067_200;
const delta = deltaFromRecordSet({
  edge: Array.from({ length: 300 }, (_, i) => edgeRecord(T0 + (i % 7), `s${i % 5}`, { requests: i + 1, hits_time: i / 8 }, `P${i % 3}`, `d${i}.example`)),
  origin: [originRecord(T0, 's1', { responses: 4 })],
  dimension: [dimensionRecord(T0 + 1, 's2', 'status', '404', 2, 20)],
});
const plain = (blocks: { second: number; service: string; bytes: Uint8Array }[]) => blocks.map((b) => ({ ...b, bytes: Buffer.from(b.bytes).toString('base64') }));

describe('block splitter', () => {
  it('gives on its worker thread exactly the blocks of the in-thread split, and leaves the delta usable', async () => {
    const splitter = createBlockSplitter({ worker: true });
    try {
      const expected = plain(splitToBlockBytes(delta));
      expect(expected.length).toBeGreaterThan(20);
      const [a, b] = await Promise.all([splitter.split(delta), splitter.split(delta)]);
      expect(plain(a)).toEqual(expected);
      expect(plain(b)).toEqual(expected);
      // The delta was copied to the worker, not moved: the caller still reads it.
      expect(delta.edge.rows).toBe(300);
      expect(plain(splitToBlockBytes(delta))).toEqual(expected);
    } finally {
      await splitter.close();
    }
  });

  it('sums a rollup flush on its worker thread exactly as in-thread, per kind and bucket width', async () => {
    const splitter = createBlockSplitter({ worker: true });
    try {
      const widths = [60, 3600, 86_400];
      const expected = rollupSums(delta, widths);
      expect(expected.edge.map((s) => s.rows)).toEqual([300, 300, 300]);
      const got = await splitter.sums(delta, widths);
      const plainSums = (r: typeof got) =>
        Object.fromEntries(Object.entries(r).map(([k, list]) => [k, list.map((s) => ({ rows: s.rows, bucket: [...s.bucket], keys: [...s.keys], fieldStart: [...s.fieldStart], ids: [...s.ids], sums: [...s.sums] }))]));
      expect(plainSums(got)).toEqual(plainSums(expected));
      // Every edge row carries its requests (field 0), summed: 1 + 2 + ... + 300 in all.
      const e = got.edge[0];
      let requests = 0;
      for (let r = 0; r < (e?.rows ?? 0); r++) if (e?.ids[e.fieldStart[r] as number] === 0) requests += e.sums[e.fieldStart[r] as number] as number;
      expect(requests).toBe((300 * 301) / 2);
      expect(delta.edge.rows).toBe(300);
    } finally {
      await splitter.close();
    }
  });

  it('sums an owned delta by transfer: the same sums, and the delta left detached here', async () => {
    const splitter = createBlockSplitter({ worker: true });
    try {
      const widths = [60, 3600];
      const expected = rollupSums(delta, widths);
      const own = concatDeltas([delta, emptyDelta()]);
      expect(own.edge.vec).not.toBe(delta.edge.vec);
      const got = await splitter.sums(own, widths, true);
      expect(got.edge.map((s) => [...s.sums])).toEqual(expected.edge.map((s) => [...s.sums]));
      expect(got.origin.map((s) => [...s.keys])).toEqual(expected.origin.map((s) => [...s.keys]));
      // Moved, not copied: this thread's view of it is empty, the caller's delta untouched.
      expect(own.edge.vec.byteLength).toBe(0);
      expect(own.stringBytes.byteLength).toBe(0);
      expect(delta.edge.vec.byteLength).toBeGreaterThan(0);
    } finally {
      await splitter.close();
    }
  });

  it('rejects a delta that cannot be split with the same error as in-thread', async () => {
    const bad = deltaFromRecordSet({ edge: [edgeRecord(T0 + 0.5, 's1', { requests: 1 })], origin: [], dimension: [] });
    expect(() => splitToBlockBytes(bad)).toThrow(/not an integer/);
    const splitter = createBlockSplitter({ worker: true });
    try {
      await expect(splitter.split(bad)).rejects.toThrow(/not an integer/);
      // And it goes on working.
      expect((await splitter.split(delta)).length).toBeGreaterThan(20);
    } finally {
      await splitter.close();
    }
  });
});
