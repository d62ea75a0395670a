import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientCell, clientCellOfBytes, estimateClients, HLL_CELLS, HLL_RANKS, HLL_REGISTERS, NO_CLIENT } from './unique-clients.ts';

/** Summed cell counts of `addresses` (one event each), as the sparse (cells, counts) a record holds. */
function cellsOf(addresses: Iterable<string>): { cells: number[]; counts: number[] } {
  const counts = new Map<number, number>();
  for (const a of addresses) {
    const c = clientCell(a);
    if (c !== NO_CLIENT) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const cells = [...counts.keys()].sort((x, y) => x - y);
  return { cells, counts: cells.map((c) => counts.get(c) as number) };
}

const estimate = (addresses: Iterable<string>): number => {
  const { cells, counts } = cellsOf(addresses);
  return estimateClients(cells, counts);
};

/** Adds sparse cell counts, as a tier or another node does. */
function merge(...parts: { cells: number[]; counts: number[] }[]): { cells: number[]; counts: number[] } {
  const sum = new Map<number, number>();
  for (const p of parts) p.cells.forEach((c, k) => sum.set(c, (sum.get(c) ?? 0) + (p.counts[k] as number)));
  const cells = [...sum.keys()].sort((x, y) => x - y);
  return { cells, counts: cells.map((c) => sum.get(c) as number) };
}

const ipv4 = (i: number): string => `${10 + ((i >>> 24) & 63)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => ipv4(from + i));

describe('unique clients (HyperLogLog cells)', () => {
  it('puts every address in one cell of the sketch, the same from its string and from its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 45, unit: 'grapheme' }), (address) => {
        const cell = clientCell(address);
        expect(cell).toBeGreaterThanOrEqual(0);
        expect(cell).toBeLessThan(HLL_CELLS);
        const bytes = Buffer.from(`"${address}"`, 'utf8');
        expect(clientCellOfBytes(bytes, 1, bytes.length - 1)).toBe(cell);
      }),
    );
    expect(clientCell('')).toBe(NO_CLIENT);
    expect(HLL_CELLS).toBe(HLL_REGISTERS * HLL_RANKS);
  });

  it('counts 0 for no client and is exact for small sets (linear counting range)', () => {
    expect(estimateClients([], [])).toBe(0);
    for (const n of [1, 2, 7, 50, 100]) expect(estimate(range(0, n))).toBe(n);
    // Repeats count once.
    expect(estimate([...range(0, 40), ...range(0, 40), ...range(10, 30)])).toBe(40);
  });

  it('stays within 2% of the exact count from 1,000 to 1,000,000 distinct addresses', () => {
    for (const n of [1_000, 10_000, 100_000, 1_000_000]) {
      const got = estimate(range(0, n));
      expect(Math.abs(got - n) / n, `${n} distinct: estimated ${got}`).toBeLessThan(0.02);
    }
  });

  it('merges exactly: the sum of any split equals the sketch of the whole, and a part counted twice (a retried write) changes nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 400 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 400 }), (ids, parts) => {
        const addresses = ids.map(ipv4);
        const split = [0, 1, 2, 3].map((p) => cellsOf(addresses.filter((_, i) => (parts[i] ?? 0) === p)));
        const whole = cellsOf(addresses);
        const merged = merge(...split);
        const want = estimateClients(whole.cells, whole.counts);
        expect(estimateClients(merged.cells, merged.counts)).toBe(want);
        const retried = merge(...split, split[0] as { cells: number[]; counts: number[] });
        expect(estimateClients(retried.cells, retried.counts)).toBe(want);
        const distinct = new Set(addresses).size;
        expect(Math.abs(want - distinct)).toBeLessThanOrEqual(Math.max(2, 0.02 * distinct));
      }),
    );
  });

  it('ignores cells outside the sketch and cells whose count is not positive', () => {
    const { cells, counts } = cellsOf(range(0, 20));
    expect(estimateClients([...cells, HLL_CELLS, -1], [...counts, 5, 5])).toBe(20);
    expect(estimateClients(cells, counts.map(() => 0))).toBe(0);
  });
});
