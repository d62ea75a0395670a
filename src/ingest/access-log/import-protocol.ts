/** The messages between `rtmetrics import` (main thread, import-parallel.ts) and its parse worker (import-worker.ts). */
import type { TopValueCounts } from '../../aggregate/top-value-counts.ts';
import type { Delta } from '../../model/delta.ts';
import type { FormatOptions } from './formats.ts';
import type { TallyResult } from './import-tally.ts';

/** Given to the worker when it starts. */
export interface ImportWorkerData {
  format: FormatOptions;
  maxLineBytes: number;
  /** Records per delta. */
  batchSize: number;
  maxErrors: number;
}

/**
 * A segment is a run of whole lines of one file, `startLine` lines into it (its first line is
 * line startLine + 1); its bytes come in one or more chunks (moved, not copied), each with the
 * latest second accepted now. Segments of a file go to the workers in turn.
 */
export type ToImportWorker =
  | { kind: 'segment'; file: string; fileIndex: number; startLine: number }
  | { kind: 'chunk'; bytes: Uint8Array; maxSecond: number }
  | { kind: 'endSegment'; maxSecond: number }
  | { kind: 'end' };

export type FromImportWorker =
  /** A chunk is parsed: the worker takes another; the counts so far, for progress. */
  | { kind: 'chunkDone'; lines: number; rejected: number }
  /** `events` records aggregated (arrays moved). */
  | { kind: 'delta'; delta: Delta; events: number; topValues: TopValueCounts }
  /** The worker's tally, the distinct seconds it saw, and the file index of each of its errors. */
  | { kind: 'done'; tally: TallyResult; secondsSeen: number[]; errorFiles: number[] }
  /** A bug, not bad input (bad lines are in the tally). */
  | { kind: 'failure'; message: string };
