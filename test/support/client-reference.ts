/**
 * What a test compares a served `unique_clients` with: the exact number of distinct addresses,
 * and the accuracy rule of events.md "Unique clients": within 2%, or 2 clients for fewer than
 * 100 (HyperLogLog at precision 14; a register collision among a few dozen addresses is possible).
 */
import { expect } from 'vitest';

/** A distinct IPv4 (or, for odd `i`, IPv6) address per integer. */
export const clientAddress = (i: number): string =>
  i % 2 === 0 ? `${10 + ((i >>> 25) & 63)}.${(i >>> 17) & 255}.${(i >>> 9) & 255}.${(i >>> 1) & 255}` : `2001:db8::${(i >>> 1).toString(16)}`;

export function expectClients(served: unknown, exact: number, what: string): void {
  expect(typeof served, `${what}: a number`).toBe('number');
  expect(Math.abs((served as number) - exact), `${what}: ${String(served)} within 2% of ${exact}`).toBeLessThanOrEqual(Math.max(2, 0.02 * exact));
}
