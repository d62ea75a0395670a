/**
 * What an import counts line by line for its summary: lines, rejections (the first ones with
 * their file and line number), the distinct seconds and services of the accepted records.
 * One tally per import, kept by whichever thread parses (import-run.ts in-thread, or
 * import-worker.ts on a worker thread).
 */
import type { LogRecord } from './log-record.ts';

export interface RejectedLine {
  file: string;
  line: number;
  reason: string;
}

/** A tally's figures as plain data (what a worker thread sends back). */
export interface TallyResult {
  lines: number;
  rejected: number;
  errors: RejectedLine[];
  seconds: number;
  firstSecond: number | undefined;
  lastSecond: number | undefined;
  services: string[];
}

export interface ImportTally {
  lines: number;
  rejected: number;
  readonly errors: RejectedLine[];
  /** A line rejected with its reason (kept while fewer than maxErrors are). */
  reject(file: string, line: number, reason: string): void;
  /** An accepted record: its second and service are noted. Hot path: two comparisons per line. */
  accept(rec: LogRecord): void;
  result(): TallyResult;
  /** The distinct seconds of the accepted records (to merge tallies). */
  secondsSeen(): number[];
}

export function createImportTally(maxErrors: number): ImportTally {
  const errors: RejectedLine[] = [];
  const seconds = new Set<number>();
  const services = new Set<string>();
  let lastSecondSeen = Number.NaN;
  let firstSecond = Number.POSITIVE_INFINITY;
  let lastSecond = Number.NEGATIVE_INFINITY;
  let lastService: unknown;
  return {
    lines: 0,
    rejected: 0,
    errors,
    reject(file, line, reason) {
      this.rejected++;
      if (errors.length < maxErrors) errors.push({ file, line, reason });
    },
    accept(rec) {
      const t = rec.values[0]; // timestamp is field 0
      const second = typeof t === 'number' ? Math.floor(t) : lastSecondSeen;
      if (second !== lastSecondSeen) {
        seconds.add(second);
        lastSecondSeen = second;
        if (second < firstSecond) firstSecond = second;
        if (second > lastSecond) lastSecond = second;
      }
      const service = rec.get('service');
      if (service !== lastService) {
        services.add(service as string);
        lastService = service;
      }
    },
    secondsSeen: () => [...seconds],
    result() {
      return {
        lines: this.lines,
        rejected: this.rejected,
        errors,
        seconds: seconds.size,
        firstSecond: Number.isFinite(firstSecond) ? firstSecond : undefined,
        lastSecond: Number.isFinite(lastSecond) ? lastSecond : undefined,
        services: [...services].sort(),
      };
    },
  };
}
