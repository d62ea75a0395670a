/**
 * In-process ingest throughput: events/s of parseNdjson, aggregateBatch, both, and both plus the
 * window's apply (the pipeline's CPU work but the WAL and the store), on ~1 MiB
 * NDJSON bodies of synthetic events, beside the naive JSON.parse + Map baseline (support/naive.ts)
 * measured in the same process, rounds interleaved so machine drift hits both alike.
 * Run: node --import tsx bench/ingest-inprocess.ts [rounds]
 */
import { aggregateBatch, aggregateBatches } from '../src/aggregate/aggregate-batch.ts';
import { createWindow } from '../src/aggregate/window.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { parseNdjson } from '../src/ingest/ndjson-parser.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import type { EventBatch } from '../src/model/event.ts';
import { DEFAULT_SHAPE, makeBodies } from './support/bodies.ts';
import { createNaiveAggregator } from './support/naive.ts';
import { int, ratio, report, type BenchRow } from './support/report.ts';
import { median, timeSync } from './support/stats.ts';

const ROUNDS = Number(process.argv[2] ?? 7);
const BODIES = 8;
// Each sample runs the bodies PASSES times (~100k events, a few hundred ms): long enough that a
// scheduler hiccup on this shared machine is a small part of it.
const PASSES = 4;
const SECOND = 1_767_225_600; // 2026-01-01T00:00:00Z

const bodies = makeBodies(BODIES, SECOND);
const events = PASSES * bodies.reduce((n, b) => n + b.events, 0);
const dictionaries = createDictionaries();
const parseOptions = { dictionaries, maxLineBytes: 64 * 1024, maxEvents: 1_000_000 };

const parse = (): EventBatch[] =>
  bodies.map((b) => {
    const result = parseNdjson(b.bytes, parseOptions);
    if (result.accepted !== b.events) throw new Error(`parser accepted ${result.accepted} of ${b.events}: ${JSON.stringify(result.errors[0])}`);
    return result.batch;
  });
const batches = parse();
const naive = createNaiveAggregator();
// The window the pipeline applies each delta to (same second every pass: sums, no growth).
const window = createWindow({ clock: createFakeClock((SECOND + 2) * 1000), aggregateDelaySeconds: 1, windowSeconds: 600 });
const recordSets = batches.map((b) => aggregateBatch(b, dictionaries));
// The window takes deltas; until the aggregator emits them, the pipeline cases convert (applyRecords).
const deltas = recordSets.map((rs) => deltaFromRecordSet(rs));

let sink = 0; // keeps results alive so nothing is optimized away
const cases = {
  // What the pipeline does per group commit: the bodies of one fsync aggregated together.
  'parse + aggregate all bodies as one group + window.apply': () => {
    const records = aggregateBatches(
      bodies.map((b) => parseNdjson(b.bytes, parseOptions).batch),
      dictionaries,
    );
    window.applyRecords(records);
    sink += records.edge.length;
  },
  'parse + aggregate + window.apply': () => {
    for (const b of bodies) {
      const records = aggregateBatch(parseNdjson(b.bytes, parseOptions).batch, dictionaries);
      window.applyRecords(records);
      sink += records.edge.length;
    }
  },
  'parse + aggregate': () => {
    for (const b of bodies) sink += aggregateBatch(parseNdjson(b.bytes, parseOptions).batch, dictionaries).edge.length;
  },
  'parse only': () => {
    sink += parse().length;
  },
  'aggregate only': () => {
    for (const batch of batches) sink += aggregateBatch(batch, dictionaries).edge.length;
  },
  'window.apply only': () => {
    for (const delta of deltas) window.apply(delta);
  },
  'naive JSON.parse + Map': () => {
    for (const b of bodies) {
      naive.clear();
      sink += naive.add(b.bytes);
    }
  },
};
type Case = keyof typeof cases;

const samples = new Map<Case, number[]>(Object.keys(cases).map((k) => [k as Case, []]));
for (const f of Object.values(cases)) f(); // warm-up: JIT and dictionaries
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of Object.entries(cases) as [Case, () => void][]) {
    samples.get(name)?.push(
      timeSync(() => {
        for (let pass = 0; pass < PASSES; pass++) f();
      }),
    );
  }
}
const rate = (name: Case): number => events / (median(samples.get(name) ?? []) / 1000);

const totalBytes = bodies.reduce((n, b) => n + b.bytes.length, 0);
console.log(
  `ingest-inprocess: ${BODIES} bodies of ${int(totalBytes / BODIES)} B x ${PASSES} passes = ${int(events)} events a sample ` +
    `(${DEFAULT_SHAPE.services} services x ${DEFAULT_SHAPE.domainsPerService} domains x ${DEFAULT_SHAPE.pops} POPs), ` +
    `median of ${ROUNDS} rounds (sink ${sink > 0 ? 'ok' : '0'})`,
);
const base = rate('naive JSON.parse + Map');
const rows: BenchRow[] = (['parse + aggregate all bodies as one group + window.apply', 'parse + aggregate + window.apply', 'parse + aggregate', 'parse only', 'aggregate only', 'window.apply only'] as const).map((name) => ({
  bench: 'ingest-inprocess',
  what: name,
  value: `${int(rate(name))} events/s`,
  baseline: `${int(base)} events/s`,
  ratio: ratio(rate(name), base),
}));
report(rows, `node --import tsx bench/ingest-inprocess.ts ${ROUNDS}`);
