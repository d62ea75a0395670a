/**
 * The parse worker's hot path of `rtmetrics import` on one thread, step by step: nginx lines
 * (bytes -> LogRecord), then + the ingest validator (-> EventBatch), then + aggregation into
 * Deltas (createDeltaBatcher), on the first MiBs of a gen.js log; lines/s of each, best of 3.
 * Run: node --import tsx bench/import-parse.ts LOG [MiB]   (LOG: node ../shared/peers/gen.js N PREFIX)
 */
import fs from 'node:fs';
import { createLineParser } from '../src/ingest/access-log/formats.ts';
import { BLANK, parseLineInto } from '../src/ingest/access-log/import-run.ts';
import { createLineSplitter } from '../src/ingest/access-log/line-splitter.ts';
import { LogRecord } from '../src/ingest/access-log/log-record.ts';
import { createDeltaBatcher, type SubmitBatch } from '../src/ingest/access-log/submit.ts';
import { int, report, type BenchRow } from './support/report.ts';

const [file, mib = '50'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: node --import tsx bench/import-parse.ts LOG [MiB]');
const GEN_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_cache_status';
const fd = fs.openSync(file, 'r');
const bytes = Buffer.alloc(Number(mib) * 2 ** 20);
const size = fs.readSync(fd, bytes, 0, bytes.length, 0);
fs.closeSync(fd);
const text = bytes.subarray(0, bytes.lastIndexOf(10, size - 1) + 1);
const BATCH = 50_000;

function run(step: 'parse' | 'validate' | 'aggregate'): { lines: number; seconds: number } {
  const parser = createLineParser({ format: 'nginx', service: 'bench', datacenter: 'FRA', logFormat: GEN_FORMAT });
  const rec = new LogRecord();
  let batcher = createDeltaBatcher(BATCH);
  const batch: SubmitBatch =
    step === 'parse'
      ? { length: 0, add: () => undefined }
      : {
          get length() {
            return batcher.length;
          },
          add: (r) => batcher.add(r, Number.POSITIVE_INFINITY),
        };
  let lines = 0;
  const started = performance.now();
  const splitter = createLineSplitter(
    {
      line(buf, start, end) {
        const reason = parseLineInto(buf, start, end, parser, rec, batch);
        if (reason === BLANK) return;
        lines++;
        if (reason !== undefined) throw new Error(reason);
        // The validate step drops its full batch unaggregated (a new one costs a few typed arrays).
        if (step !== 'parse' && batcher.length >= BATCH) {
          if (step === 'aggregate') batcher.take();
          else batcher = createDeltaBatcher(BATCH);
        }
      },
      tooLong() {
        throw new Error('line too long');
      },
    },
    { maxLineBytes: 65_536 },
  );
  for (let at = 0; at < text.length; at += 2 ** 20) splitter.push(text.subarray(at, Math.min(text.length, at + 2 ** 20)));
  splitter.end();
  if (step === 'aggregate') batcher.take();
  return { lines, seconds: (performance.now() - started) / 1000 };
}

const rows: BenchRow[] = [];
for (const step of ['parse', 'validate', 'aggregate'] as const) {
  let best = 0;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const r = run(step);
    lines = r.lines;
    best = Math.max(best, r.lines / r.seconds);
  }
  rows.push({ bench: 'import-parse', what: `${int(lines)} nginx lines: ${step === 'parse' ? 'parse' : step === 'validate' ? 'parse + validate' : 'parse + validate + aggregate'}`, value: `${int(best)} lines/s` });
}
report(rows, `node --import tsx bench/import-parse.ts ${file} ${mib}`);
