/** Small statistics for the bench scripts: medians and percentiles of samples. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  // Nearest-rank: the smallest sample with at least p% of the samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = (): number => performance.now();

/** Runs `f` and returns how long it took in milliseconds. */
export async function timeAsync(f: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await f();
  return now() - t0;
}

export function timeSync(f: () => unknown): number {
  const t0 = now();
  f();
  return now() - t0;
}

/** Calls `gc()` when node runs with --expose-gc; a few times, so weak and finalized objects go too. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  for (let i = 0; i < 3; i++) gc();
  return true;
}
