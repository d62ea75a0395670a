/**
 * What the store costs per event on the high-cardinality stream of ../shared/peers: the deltas
 * the parse workers make of it (parseBodyToDelta per ~1 MiB body, the seconds grouped into
 * store writes of one second each as the pipeline publishes them), appended to a DuckDB store in
 * a temp dir and their rollups flushed; CPU of every thread of this process (DuckDB's included)
 * per event, and wall time. The parsing is done before and not counted.
 *
 * Run: node --import tsx bench/store-peers.ts [--events 1000000]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseBodyToDelta } from '../src/ingest/parse-body.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import { concatDeltas } from '../src/model/delta-concat.ts';
import { deltaSeconds, type Delta } from '../src/model/delta.ts';
import { filterDelta } from '../src/model/delta-builder.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { machineLine, withTempDir } from './support/fixtures.ts';
import { peerStream } from './support/peer-stream.ts';
import { int, report } from './support/report.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
const EVENTS = Number(args.events);
const COMMAND = `node --import tsx bench/store-peers.ts --events ${EVENTS}`;
const NO_RETENTION = { secondSeconds: Infinity, minuteSeconds: Infinity, hourSeconds: Infinity, daySeconds: Infinity, usageSeconds: Infinity };

const stream = peerStream(EVENTS);
const all = fs.readFileSync(stream.eventsFile);
const deltas: Delta[] = [];
for (let start = 0; start < all.length; ) {
  let end = Math.min(all.length, start + (1 << 20));
  if (end < all.length) end = all.lastIndexOf(10, end - 1) + 1;
  deltas.push(parseBodyToDelta(all.subarray(start, end), { maxLineBytes: 65_536, maxEvents: 1_000_000 }, createDictionaries()).delta);
  start = end;
}
const joined = concatDeltas(deltas);
const seconds = [...deltaSeconds(joined)].sort((a, b) => a - b);
// One write per published second, as the pipeline's store writer drains them.
const bySecond = new Map(seconds.map((s, i) => [s, i]));
const writes: Delta[] = seconds.map(() => joined);
for (const [s, i] of bySecond) writes[i] = filterDelta(joined, (x) => x === s);

console.log(machineLine());
await withTempDir('rtm-bench-store-peers-', async (dir) => {
  const db = await openDuckDb(path.join(dir, 'store.duckdb'), { memoryBytes: 1024 ** 3 });
  const store = await createDuckDbMetricStore(db, { retention: NO_RETENTION });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lsn = 1;
  for (const delta of writes) await store.append({ lsn: lsn++, delta });
  await store.flushRollups();
  const cpuFlushed = process.cpuUsage(cpu0);
  const tFlushed = performance.now();
  await store.compact();
  console.log(`appends + rollup flushes: ${((cpuFlushed.user + cpuFlushed.system) / 1e6).toFixed(1)} CPU-s, ${((tFlushed - t0) / 1000).toFixed(1)} s; compaction: ${((performance.now() - tFlushed) / 1000).toFixed(1)} s`);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  await store.close();
  db.close();
  report(
    [
      { bench: 'store-peers', what: `store writes of ${int(EVENTS)} events (${writes.length} seconds) + rollup flush + compaction, CPU of all threads`, value: `${cpuS.toFixed(1)} CPU-s, ${int(EVENTS / cpuS)} events/CPU-s` },
      { bench: 'store-peers', what: 'the same, wall time', value: `${wall.toFixed(1)} s, ${int(EVENTS / wall)} events/s` },
    ],
    COMMAND,
  );
});
