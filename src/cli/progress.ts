/**
 * Import progress on stderr: a cli-progress bar (bytes, lines/s, ETA) on a terminal, a plain
 * line every few seconds otherwise (logs, CI), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { ImportProgress } from '../ingest/access-log/import-run.ts';

export interface ProgressView {
  update(p: ImportProgress): void;
  stop(): void;
}

const MIB = 1024 * 1024;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function createProgressView(mode: 'bar' | 'lines' | 'none', intervalMs = 5000): ProgressView {
  const started = performance.now();
  const rate = (lines: number): number => lines / Math.max(0.001, (performance.now() - started) / 1000);
  if (mode === 'none') return { update() {}, stop() {} };
  if (mode === 'lines') {
    let last = Number.NEGATIVE_INFINITY; // the first report at once: it marks the start
    return {
      update(p) {
        const now = performance.now();
        if (now - last < intervalMs) return;
        last = now;
        const of = p.totalBytes === undefined ? '' : ` of ${fmt(p.totalBytes / MIB)} MiB (${Math.floor((100 * p.bytes) / Math.max(1, p.totalBytes))}%)`;
        process.stderr.write(`import: ${fmt(p.lines)} lines, ${fmt(p.events)} events, ${fmt(p.rejected)} rejected, ${fmt(p.bytes / MIB)} MiB${of}, ${fmt(rate(p.lines))} lines/s\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {percentage}% | {mib}/{totalMib} MiB | {lines} lines, {rejected} rejected | {rate} lines/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let begun = false;
  return {
    update(p) {
      const total = p.totalBytes ?? Math.max(p.bytes, 1);
      const payload = { mib: fmt(p.bytes / MIB), totalMib: p.totalBytes === undefined ? '?' : fmt(total / MIB), lines: fmt(p.lines), rejected: fmt(p.rejected), rate: fmt(rate(p.lines)) };
      if (!begun) {
        bar.start(total, p.bytes, payload);
        begun = true;
      } else {
        bar.setTotal(total);
        bar.update(p.bytes, payload);
      }
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
