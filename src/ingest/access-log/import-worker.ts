/**
 * `rtmetrics import`'s parse worker: segments of whole lines of the log come in (in file order;
 * the other workers get the segments in between), and out go Deltas: lines -> the format's parser -> the ingest validator -> aggregateToDelta, the
 * same steps import-run.ts takes in-thread, so the main thread only makes the deltas durable
 * and writes the store. Rejected lines are tallied here, with their file and line number.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deltaBuffers } from '../../model/delta.ts';
import { createLineParser } from './formats.ts';
import { BLANK, parseLineInto } from './import-run.ts';
import type { FromImportWorker, ImportWorkerData, ToImportWorker } from './import-protocol.ts';
import { createImportTally } from './import-tally.ts';
import { createLineSplitter, cutAfterLines, type LineSplitter } from './line-splitter.ts';
import { LogRecord } from './log-record.ts';
import { createDeltaBatcher } from './submit.ts';

const port = parentPort;
if (port === null) throw new Error('import-worker.ts runs as a worker thread');
const data = workerData as ImportWorkerData;
const { maxLineBytes, batchSize } = data;
const parser = createLineParser(data.format);
const batcher = createDeltaBatcher(batchSize);
const tally = createImportTally(data.maxErrors);
const rec = new LogRecord();
let file = '';
let fileIndex = 0;
/** The file index of each error kept in the tally. */
const errorFiles: number[] = [];
let maxSecond = Number.POSITIVE_INFINITY;
let splitter: LineSplitter | undefined;

const post = (m: FromImportWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const ship = (): void => {
  if (batcher.length === 0) return;
  const events = batcher.length;
  const { delta, topValues } = batcher.take();
  post({ kind: 'delta', delta, events, topValues }, deltaBuffers(delta));
};

// The batcher takes the validator's row: it is a SubmitBatch in parseLineInto's eyes.
const batch = {
  get length() {
    return batcher.length;
  },
  add: (r: LogRecord) => batcher.add(r, maxSecond),
};

const reject = (line: number, reason: string): void => {
  const kept = tally.errors.length;
  tally.reject(file, line, reason);
  if (tally.errors.length > kept) errorFiles.push(fileIndex);
};

const newSplitter = (startLine: number): LineSplitter =>
  createLineSplitter(
    {
      // Hot path: per line one decode, one parse, one validation into the batch.
      line(buf, start, end, line) {
        const reason = parseLineInto(buf, start, end, parser, rec, batch);
        if (reason === BLANK) return;
        tally.lines++;
        if (reason !== undefined) reject(line, reason);
        else tally.accept(rec);
      },
      tooLong(line, bytes) {
        tally.lines++;
        reject(line, `line is ${bytes} bytes, longer than the limit of ${maxLineBytes} bytes`);
      },
    },
    { maxLineBytes, startLine },
  );

function onMessage(m: ToImportWorker): void {
  switch (m.kind) {
    case 'segment':
      file = m.file;
      fileIndex = m.fileIndex;
      splitter = newSplitter(m.startLine);
      return;
    case 'chunk': {
      maxSecond = m.maxSecond;
      const chunk = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      const s = splitter as LineSplitter;
      // Fed in slices that fit the batch, so a delta holds at most batchSize records.
      let pos = 0;
      while (pos < chunk.length) {
        const cut = cutAfterLines(chunk, pos, batchSize - batcher.length);
        s.push(pos === 0 && cut === chunk.length ? chunk : chunk.subarray(pos, cut));
        pos = cut;
        if (batcher.length >= batchSize) ship();
      }
      post({ kind: 'chunkDone', lines: tally.lines, rejected: tally.rejected });
      return;
    }
    case 'endSegment':
      maxSecond = m.maxSecond;
      splitter?.end();
      splitter = undefined;
      if (batcher.length >= batchSize) ship();
      return;
    case 'end':
      ship();
      post({ kind: 'done', tally: tally.result(), secondsSeen: tally.secondsSeen(), errorFiles });
      return;
  }
}

port.on('message', (m: ToImportWorker) => {
  try {
    onMessage(m);
  } catch (err) {
    post({ kind: 'failure', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
