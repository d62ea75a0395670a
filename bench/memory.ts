/**
 * Memory per active key: the in-memory window (src/aggregate/window.ts) after applying N keys a
 * second for S seconds, and the ingest pipeline's queue of deltas not yet in the store. Measured
 * as the growth of V8 heap + array buffers after full GCs (run with --expose-gc), per edge key
 * per second held; each second also carries its origin and dimension records (support/records.ts).
 * Baseline: the same records held in a plain Map<string, record> (what a naive window would keep).
 * Run: node --expose-gc --import tsx bench/memory.ts
 */
import path from 'node:path';
import pino from 'pino';
import { createWindow } from '../src/aggregate/window.ts';
import { testConfig } from '../src/config/config.ts';
import { createIngestPipeline } from '../src/ingest/pipeline.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { deltaFromRecordSet, deltaToRecordSet, emptyDelta, type Delta } from '../src/model/delta.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import { createEventBatch } from '../src/model/event.ts';
import type { RecordSet } from '../src/model/record.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { machineLine, withTempDir } from './support/fixtures.ts';
import { secondOfRecords, type KeyShape } from './support/records.ts';
import { bytes, int, ratio, report, type BenchRow } from './support/report.ts';
import { collectGarbage } from './support/stats.ts';

if (!collectGarbage()) {
  console.error('run with --expose-gc: node --expose-gc --import tsx bench/memory.ts');
  process.exit(2);
}

const SHAPE: KeyShape = { services: 100, pops: 20, domainsPerService: 2 }; // 4,000 edge keys a second
const SECONDS = 60;
const T0 = 1_767_225_600;
const edgeKeys = SHAPE.services * SHAPE.pops * SHAPE.domainsPerService * SECONDS;

const used = (): number => {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Bytes retained by what `fill` builds and `keep` returns, per edge key-second. */
async function perKey(fill: () => Promise<unknown>): Promise<number> {
  const before = used();
  const kept = await fill();
  const after = used();
  if (kept === undefined) throw new Error('nothing kept');
  return (after - before) / edgeKeys;
}

const records = (s: number): RecordSet => secondOfRecords(T0 + s, SHAPE);

console.log(machineLine());
console.log(
  `memory: ${SHAPE.services} services x ${SHAPE.pops} POPs x ${SHAPE.domainsPerService} domains = ` +
    `${int(edgeKeys / SECONDS)} edge keys a second (+ ${SHAPE.services * SHAPE.pops} origin, ${SHAPE.services * SHAPE.domainsPerService * 2} dimension), ${SECONDS} s`,
);

// Baseline: a Map of record objects keyed by their joined key (what the naive window would hold).
const naive = await perKey(async () => {
  const map = new Map<string, unknown>();
  for (let s = 0; s < SECONDS; s++) {
    const rs = records(s);
    for (const r of rs.edge) map.set(`${r.second}|${r.service}|${r.datacenter}|${r.domain}|${r.product}`, r);
    for (const r of rs.origin) map.set(`${r.second}|${r.service}|${r.datacenter}|${r.backend}`, r);
    for (const r of rs.dimension) map.set(`${r.second}|${r.service}|${r.domain}|${r.product}|${r.dimension}|${r.value}`, r);
  }
  return map;
});

// The window: every second stays (published or not) within windowSeconds.
const clock = createFakeClock((T0 + SECONDS + 5) * 1000);
const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 600 });
const windowBytes = await perKey(async () => {
  // One delta a second, built before it is applied; each is garbage once applied (the window
  // copies its vector bytes), so what stays is the window's own.
  for (let s = 0; s < SECONDS; s++) window.apply(deltaFromRecordSet(records(s)));
  return window;
});
const windowStats = window.stats();
console.log(`window stats: ${JSON.stringify(windowStats)} (its own estimate: ${bytes(windowStats.bytes / edgeKeys)} per edge key-second)`);

// The pipeline's queue of deltas not yet stored: its window is a stub that never publishes, so
// everything stays pending (the worst case: the store is behind by SECONDS seconds).
const pipelineBytes = await withTempDir('memory', async (dir) => {
  const config = testConfig(dir);
  const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
  const store = await createDuckDbMetricStore(db, { retention: config.retention });
  let next: Delta = emptyDelta();
  const pipeline = await createIngestPipeline({
    config,
    clock,
    logger: pino({ level: 'silent' }),
    store: { append: (lsn, delta) => store.append({ lsn, delta: deltaFromRecordSet(deltaToRecordSet(delta)) }), appliedLsn: (s) => store.appliedLsn(s), readRecent: async () => emptyDelta() },
    window: { apply: () => undefined, latestPublished: () => 0 },
    // The records are built outside; the batch only carries the call.
    aggregate: () => next,
    dictionaries: createDictionaries(),
    writeIntervalMs: 3_600_000,
  });
  const perKeyBytes = await perKey(async () => {
    // A batch of one (stub) event: the pipeline skips empty batches without aggregating.
    const batch = createEventBatch(1);
    batch.length = 1;
    for (let s = 0; s < SECONDS; s++) {
      next = deltaFromRecordSet(records(s));
      await pipeline.ingest(batch);
    }
    next = emptyDelta();
    return pipeline;
  });
  console.log(`pipeline stats: ${JSON.stringify(pipeline.stats())}`);
  await pipeline.close();
  await store.close();
  db.close();
  return perKeyBytes;
});

const rows: BenchRow[] = [
  {
    bench: 'memory',
    what: 'window, per edge key-second held (with its origin / dimension share)',
    value: bytes(windowBytes),
    baseline: `${bytes(naive)} (Map of record objects)`,
    ratio: `${ratio(naive, windowBytes)} smaller`,
  },
  {
    bench: 'memory',
    what: 'ingest pipeline queue (not yet stored), per edge key-second',
    value: bytes(pipelineBytes),
    baseline: `${bytes(naive)} (Map of record objects)`,
    ratio: `${ratio(naive, pipelineBytes)} smaller`,
  },
  {
    bench: 'memory',
    what: 'window for 600 s x 4,000 edge keys a second (extrapolated)',
    value: bytes(windowBytes * 4000 * 600),
  },
];
report(rows, 'node --expose-gc --import tsx bench/memory.ts');
