/**
 * `rtmetrics import` in process with its parsing on worker threads (import-worker.ts): this
 * thread reads the sources and cuts their bytes into segments of whole lines (at the last line
 * break of each chunk, counting line breaks for the line numbers), which go to the workers in
 * turn; a worker parses, validates and aggregates them into Deltas; this thread makes each delta
 * durable (the pipeline's WAL, then the window and the store). Memory is bounded at every step:
 * at most `chunksAhead` chunks wait for each worker, at most `deltasAhead` deltas wait for the
 * WAL, and while the rows not yet in the store exceed `maxBacklogRows` the reader has them
 * written and waits. A line
 * longer than a chunk stays in one segment, so the worker's line splitter skips it as it does
 * in-thread. The summary is the one runImport gives for the same input (the workers' tallies merged).
 */
import { Worker } from 'node:worker_threads';
import type { FormatOptions } from './formats.ts';
import type { ImportProgress, ImportSummary } from './import-run.ts';
import { summaryOf } from './import-run.ts';
import type { FromImportWorker, ImportWorkerData, ToImportWorker } from './import-protocol.ts';
import type { RejectedLine, TallyResult } from './import-tally.ts';
import type { LogSource } from './source.ts';
import type { DeltaSubmitter } from './submit.ts';

export interface WorkerImportOptions {
  sources: readonly LogSource[];
  /** The format and its options, as createLineParser takes them (each worker builds its parser). */
  format: FormatOptions;
  submitter: DeltaSubmitter;
  maxLineBytes: number;
  /** Parse worker threads. Default 2. */
  workers?: number;
  /** Records per delta. Default 50,000. */
  batchSize?: number;
  /** Rejected lines kept for the summary. Default 100. */
  maxErrors?: number;
  /** Chunks (1 MiB) read ahead of each worker. Default 3. */
  chunksAhead?: number;
  /** Deltas made but not yet durable. Default: workers + 1. */
  deltasAhead?: number;
  /**
   * Rows durable but not yet in the store above which reading pauses while they are written
   * (gen.js logs make about 0.8 rows per line). Default 100,000.
   */
  maxBacklogRows?: number;
  onProgress?: (p: ImportProgress) => void;
}

const WORKER_URL = new URL('./import-worker-entry.mjs', import.meta.url);

interface Slot {
  worker: Worker;
  chunksOut: number;
  lines: number;
  rejected: number;
  done: Extract<FromImportWorker, { kind: 'done' }> | undefined;
}

function countLineBreaks(buf: Uint8Array, end: number): number {
  let n = 0;
  for (let at = buf.indexOf(10); at >= 0 && at < end; at = buf.indexOf(10, at + 1)) n++;
  return n;
}

export async function runImportOnWorker(opts: WorkerImportOptions): Promise<ImportSummary> {
  const { submitter } = opts;
  const started = performance.now();
  const workers = opts.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`an import needs at least one worker, got ${workers}`);
  const chunksAhead = opts.chunksAhead ?? 3;
  const deltasAhead = opts.deltasAhead ?? workers + 1;
  const maxBacklogRows = opts.maxBacklogRows ?? 100_000;
  const maxErrors = opts.maxErrors ?? 100;
  const data: ImportWorkerData = { format: opts.format, maxLineBytes: opts.maxLineBytes, batchSize: opts.batchSize ?? 50_000, maxErrors };
  const knownTotal = opts.sources.every((s) => s.size !== undefined) ? opts.sources.reduce((n, s) => n + (s.size ?? 0), 0) : undefined;

  let file = '';
  let rawBytes = 0;
  let events = 0;
  let deltasOut = 0;
  let failure: Error | undefined;
  const durable: Promise<void>[] = [];
  /** Wakes the reader (or the final wait) when something it waits for changed. */
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    poke();
  };
  const slots: Slot[] = [];
  const progress = (): void => {
    let lines = 0;
    let rejected = 0;
    for (const s of slots) {
      lines += s.lines;
      rejected += s.rejected;
    }
    opts.onProgress?.({ file, bytes: rawBytes, totalBytes: knownTotal, lines, events, rejected });
  };

  for (let i = 0; i < workers; i++) {
    const slot: Slot = { worker: new Worker(WORKER_URL, { workerData: data }), chunksOut: 0, lines: 0, rejected: 0, done: undefined };
    slots.push(slot);
    slot.worker.on('message', (m: FromImportWorker) => {
      switch (m.kind) {
        case 'chunkDone':
          slot.chunksOut--;
          slot.lines = m.lines;
          slot.rejected = m.rejected;
          progress();
          break;
        case 'delta':
          deltasOut++;
          durable.push(
            submitter.submit(m.delta, m.events, m.topValues).then(
              (outcome) => {
                events += outcome.accepted;
                deltasOut--;
                poke();
              },
              (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
            ),
          );
          break;
        case 'done':
          slot.done = m;
          slot.lines = m.tally.lines;
          slot.rejected = m.tally.rejected;
          break;
        case 'failure':
          fail(new Error(`import worker failed: ${m.message}`));
          break;
      }
      poke();
    });
    slot.worker.on('error', (err) => fail(err));
    slot.worker.on('exit', (code) => {
      if (slot.done === undefined) fail(new Error(`import worker exited with code ${code} before it was done`));
    });
  }

  const waitUntil = async (ready: () => boolean): Promise<void> => {
    while (failure === undefined && !ready()) {
      if (submitter.backlogRows() > maxBacklogRows) {
        // Written now rather than at the store writer's next tick: the backlog shrinks without a message.
        await submitter.drain();
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failure !== undefined) throw failure;
  };
  const canTakeMore = (): boolean => deltasOut < deltasAhead && submitter.backlogRows() <= maxBacklogRows;
  const send = (slot: Slot, m: ToImportWorker, transfer: ArrayBuffer[] = []): void => slot.worker.postMessage(m, transfer);
  const sendBytes = async (slot: Slot, part: Uint8Array): Promise<void> => {
    await waitUntil(() => slot.chunksOut < chunksAhead && canTakeMore());
    // A copy of exactly these bytes (a read buffer may share its memory), moved to the worker.
    const bytes = new Uint8Array(part.length);
    bytes.set(part);
    slot.chunksOut++;
    send(slot, { kind: 'chunk', bytes, maxSecond: submitter.maxSecond() }, [bytes.buffer]);
  };

  try {
    let next = 0;
    for (const [fileIndex, source] of opts.sources.entries()) {
      file = source.name;
      /** The worker of the open segment. */
      let open: Slot | undefined;
      let linesBefore = 0;
      const openSegment = (): Slot => {
        // The next worker in turn: segments are about a chunk each, so the turn spreads the work.
        const slot = slots[next] as Slot;
        next = (next + 1) % slots.length;
        send(slot, { kind: 'segment', file, fileIndex, startLine: linesBefore });
        return slot;
      };
      for await (const chunk of source.chunks((n) => (rawBytes += n))) {
        const lastBreak = chunk.lastIndexOf(10);
        open ??= openSegment();
        if (lastBreak < 0) {
          // No line ends here: the line goes on in the same segment.
          await sendBytes(open, chunk);
          continue;
        }
        await sendBytes(open, chunk.subarray(0, lastBreak + 1));
        send(open, { kind: 'endSegment', maxSecond: submitter.maxSecond() });
        open = undefined;
        linesBefore += countLineBreaks(chunk, lastBreak + 1);
        if (lastBreak + 1 < chunk.length) {
          open = openSegment();
          await sendBytes(open, chunk.subarray(lastBreak + 1));
        }
      }
      // A last line without a line break is a line too.
      if (open !== undefined) send(open, { kind: 'endSegment', maxSecond: submitter.maxSecond() });
    }
    for (const s of slots) send(s, { kind: 'end' });
    await waitUntil(() => slots.every((s) => s.done !== undefined) && deltasOut === 0);
    await Promise.all(durable);
    if (failure !== undefined) throw failure;
  } finally {
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
  file = '';
  progress();
  return summaryOf(opts.sources.length, mergeTallies(slots.map((s) => s.done as NonNullable<Slot['done']>), maxErrors), events, 0, rawBytes, started);
}

/** The workers' tallies as one: sums, the union of their seconds and services, the first errors in file and line order. */
function mergeTallies(done: readonly NonNullable<Slot['done']>[], maxErrors: number): TallyResult {
  const seconds = new Set<number>();
  const services = new Set<string>();
  const errors: { fileIndex: number; e: RejectedLine }[] = [];
  let lines = 0;
  let rejected = 0;
  let firstSecond: number | undefined;
  let lastSecond: number | undefined;
  for (const d of done) {
    const t = d.tally;
    lines += t.lines;
    rejected += t.rejected;
    for (const s of d.secondsSeen) seconds.add(s);
    for (const s of t.services) services.add(s);
    t.errors.forEach((e, i) => errors.push({ fileIndex: d.errorFiles[i] ?? 0, e }));
    if (t.firstSecond !== undefined && (firstSecond === undefined || t.firstSecond < firstSecond)) firstSecond = t.firstSecond;
    if (t.lastSecond !== undefined && (lastSecond === undefined || t.lastSecond > lastSecond)) lastSecond = t.lastSecond;
  }
  // Each worker kept its first maxErrors, in order: the first maxErrors of all are among them.
  errors.sort((a, b) => a.fileIndex - b.fileIndex || a.e.line - b.e.line);
  return {
    lines,
    rejected,
    errors: errors.slice(0, maxErrors).map((x) => x.e),
    seconds: seconds.size,
    firstSecond,
    lastSecond,
    services: [...services].sort(),
  };
}
