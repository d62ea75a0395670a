/**
 * DuckDB store write throughput: how many edge keys per second the store writer keeps up with.
 * Each run writes S consecutive published seconds of K edge keys (plus an origin record per
 * edge key and two dimension records per service, as bench/support/records.ts shapes them),
 * one store.append each, with a compaction round every 60 seconds as the maintenance timer does,
 * then flushes the rollup buffer; keys/s = K * S / total time. The runs span minute boundaries,
 * so the minute flushes of the rollup buffer (on their own connection) are in the figure.
 * The baseline is the write path before the sparse 1 s tier and the rollup buffer (one wide row
 * per key in every tier each second, bench/support/wide-store-baseline.ts), over fewer seconds
 * since each of its writes costs the same; its compaction is left out (it only flatters it).
 *
 * Run: node --import tsx bench/store-write.ts [keys=100,1000,10000] [seconds=125] [baselineSeconds=8]
 * The database is a file in a temp dir (DuckDB's own WAL and checkpoints are part of the cost).
 */
import path from 'node:path';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import type { RecordSet } from '../src/model/record.ts';
import { machineLine, withTempDir } from './support/fixtures.ts';
import { secondOfRecords } from './support/records.ts';
import { int, ms, report, type BenchRow } from './support/report.ts';
import { median, now } from './support/stats.ts';
import { createWideStoreBaseline } from './support/wide-store-baseline.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';

const keyCounts = (process.argv[2] ?? '100,1000,10000').split(',').map(Number);
const SECONDS = Number(process.argv[3] ?? 125);
const BASELINE_SECONDS = Number(process.argv[4] ?? 8);
const NO_RETENTION = {
  secondSeconds: Number.POSITIVE_INFINITY,
  minuteSeconds: Number.POSITIVE_INFINITY,
  hourSeconds: Number.POSITIVE_INFINITY,
  daySeconds: Number.POSITIVE_INFINITY,
  usageSeconds: Number.POSITIVE_INFINITY,
};
// 2024-01-01T00:00:30Z: the runs cross minute boundaries at +30 s, +90 s, ...
const T0 = 1_704_067_230;

/** One second of `keys` edge keys (60 POPs x keys / 60 services), re-dated per write. */
function shapeOf(keys: number): RecordSet {
  return secondOfRecords(0, { services: Math.max(1, Math.round(keys / 60)), pops: Math.min(60, keys), domainsPerService: 1 });
}
const at = (rs: RecordSet, second: number): RecordSet => ({
  edge: rs.edge.map((r) => ({ ...r, second })),
  origin: rs.origin.map((r) => ({ ...r, second })),
  dimension: rs.dimension.map((r) => ({ ...r, second })),
});

interface Run {
  keysPerSecond: number;
  medianWriteMs: number;
  maxWriteMs: number;
}

async function runStore(dir: string, shape: RecordSet): Promise<Run> {
  const db = await openDuckDb(path.join(dir, 'store.duckdb'));
  const store = await createDuckDbMetricStore(db, { retention: NO_RETENTION });
  const writes: number[] = [];
  const started = now();
  for (let s = 0; s < SECONDS; s++) {
    const records = at(shape, T0 + s);
    const t = now();
    await store.append({ lsn: s + 1, delta: deltaFromRecordSet(records)});
    writes.push(now() - t);
    if ((T0 + s) % 60 === 59) await store.compact();
  }
  await store.flushRollups();
  const elapsed = now() - started;
  await store.close();
  db.close();
  return { keysPerSecond: (shape.edge.length * SECONDS) / (elapsed / 1000), medianWriteMs: median(writes), maxWriteMs: Math.max(...writes) };
}

async function runBaseline(dir: string, shape: RecordSet): Promise<Run> {
  const db = await openDuckDb(path.join(dir, 'baseline.duckdb'));
  const c = await db.connect();
  const baseline = await createWideStoreBaseline(c);
  const writes: number[] = [];
  const started = now();
  for (let s = 0; s < BASELINE_SECONDS; s++) {
    const records = at(shape, T0 + s);
    const t = now();
    await baseline.append({ lsn: s + 1, delta: deltaFromRecordSet(records)});
    writes.push(now() - t);
  }
  const elapsed = now() - started;
  c.closeSync();
  db.close();
  return { keysPerSecond: (shape.edge.length * BASELINE_SECONDS) / (elapsed / 1000), medianWriteMs: median(writes), maxWriteMs: Math.max(...writes) };
}

console.log(machineLine());
const rows: BenchRow[] = [];
for (const keys of keyCounts) {
  const shape = shapeOf(keys);
  const edgeKeys = shape.edge.length;
  const got = await withTempDir('store-write', (dir) => runStore(dir, shape));
  const base = await withTempDir('store-write-base', (dir) => runBaseline(dir, shape));
  console.log(
    `${int(edgeKeys)} edge keys/s (+${int(shape.origin.length)} origin, ${int(shape.dimension.length)} dimension): ` +
      `store ${int(got.keysPerSecond)} keys/s (write median ${ms(got.medianWriteMs)}, max ${ms(got.maxWriteMs)}, ${SECONDS} s); ` +
      `baseline ${int(base.keysPerSecond)} keys/s (write median ${ms(base.medianWriteMs)}, ${BASELINE_SECONDS} s)`,
  );
  rows.push({
    bench: 'store-write',
    what: `store writer, ${int(edgeKeys)} edge keys a second (sustained keys/s over ${SECONDS} s)`,
    value: `${int(got.keysPerSecond)} keys/s`,
    baseline: `${int(base.keysPerSecond)} keys/s (wide rows in every tier)`,
    ratio: `${(got.keysPerSecond / base.keysPerSecond).toFixed(1)}x`,
    ...(edgeKeys >= 10_000 ? { target: `>= 20,000 keys/s: ${got.keysPerSecond >= 20_000 ? 'yes' : 'no'}` } : {}),
  });
}
report(rows, `node --import tsx bench/store-write.ts ${keyCounts.join(',')} ${SECONDS} ${BASELINE_SECONDS}`);
