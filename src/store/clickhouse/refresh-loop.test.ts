import { describe, expect, it, vi } from 'vitest';
import { createFailureReport, startRefreshLoop } from './refresh-loop.ts';

describe('refresh loop', () => {
  it('reads refreshMs after the previous read ended, never two at once, and stops', async () => {
    vi.useFakeTimers();
    try {
      const started: number[] = [];
      let running = 0;
      let overlapped = false;
      const loop = startRefreshLoop(100, async () => {
        started.push(Date.now());
        running++;
        if (running > 1) overlapped = true;
        await new Promise((r) => setTimeout(r, 250)); // a read slower than the interval
        running--;
      });
      const t0 = Date.now();
      await vi.advanceTimersByTimeAsync(1000);
      expect(started.map((t) => t - t0)).toEqual([100, 450, 800]);
      expect(overlapped).toBe(false);
      const stopping = loop.stop();
      await vi.advanceTimersByTimeAsync(300);
      await stopping;
      await vi.advanceTimersByTimeAsync(1000);
      expect(started).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports the first failure of a run and every 60th, and starts counting again after a success', () => {
    const told: number[] = [];
    const report = createFailureReport((_err, n) => told.push(n));
    for (let i = 0; i < 130; i++) report.failed(new Error('down'));
    expect(report.failing).toBe(true);
    expect(told).toEqual([1, 60, 120]);
    report.succeeded();
    expect(report.failing).toBe(false);
    report.failed(new Error('down again'));
    expect(told).toEqual([1, 60, 120, 1]);
  });
});
