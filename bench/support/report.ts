/**
 * How a bench script hands its figures to run-all.ts: each row is printed for the reader, and
 * the whole list once more as one `BENCH-ROWS <json>` line that run-all collects into the table.
 */

export interface BenchRow {
  /** Which script, e.g. `ingest-http`. */
  bench: string;
  /** What was measured, e.g. `parse + aggregate`. */
  what: string;
  /** The figure, formatted with its unit, e.g. `1,234,567 events/s`. */
  value: string;
  /** The same-process baseline's figure, if any. */
  baseline?: string;
  /** value / baseline (or baseline / value for times), `1.8x` meaning 1.8 times better. */
  ratio?: string;
  /** The target and whether it was met, e.g. `>= 1.5M events/s: no`. */
  target?: string;
}

export const BENCH_ROWS_PREFIX = 'BENCH-ROWS ';

/** Prints the rows as a small table, then the machine-readable line, then the command. */
export function report(rows: readonly BenchRow[], command: string): void {
  for (const r of rows) {
    const parts = [`${r.what}: ${r.value}`];
    if (r.baseline !== undefined) parts.push(`baseline ${r.baseline}`);
    if (r.ratio !== undefined) parts.push(`ratio ${r.ratio}`);
    if (r.target !== undefined) parts.push(`target ${r.target}`);
    console.log(`  ${parts.join(' | ')}`);
  }
  console.log(`command: ${command}`);
  console.log(`${BENCH_ROWS_PREFIX}${JSON.stringify(rows)}`);
}

/** `1234567.8` -> `1,234,568`. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Milliseconds with 2 decimals below 10, else 1. */
export const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

/** `value / base` as `2.35x`. */
export const ratio = (value: number, base: number): string => `${(value / base).toFixed(2)}x`;

export const bytes = (n: number): string => {
  if (Math.abs(n) >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
};
