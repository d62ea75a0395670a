/**
 * DuckDB store write cost: ms per store.append (one write = the 1 s tier + 3 rollups, one
 * transaction) for a given number of edge keys, and ms per compaction round after it.
 * Run: node --import tsx bench/store-append.ts [keys=1000] [writes=20] [file=:memory:]
 */
import { testConfig } from '../src/config/config.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { edgeRecord, originRecord } from '../src/store/record-fixtures.ts';

const keys = Number(process.argv[2] ?? 1000);
const writes = Number(process.argv[3] ?? 20);
const file = process.argv[4] ?? ':memory:';
const db = await openDuckDb(file);
const store = await createDuckDbMetricStore(db, { retention: testConfig('/unused').retention });
const T0 = 1_704_067_200;

let total = 0;
for (let w = 0; w < writes; w++) {
  const edge = Array.from({ length: keys }, (_, k) =>
    edgeRecord(T0 + w, `svc${k % 50}`, { requests: 10, hits: 8, miss: 2, resp_body_bytes: 12_345, status_2xx: 10, status_200: 10, tls: 10, http2: 10 }, `DC${k % 60}`, `www${k % 7}.example`),
  );
  const origin = Array.from({ length: Math.ceil(keys / 10) }, (_, k) => originRecord(T0 + w, `svc${k % 50}`, { responses: 2, resp_body_bytes: 999 }, `DC${k % 60}`));
  const t = performance.now();
  await store.append({ lsn: w + 1, records: { edge, origin, dimension: [] } });
  total += performance.now() - t;
}
const t = performance.now();
await store.compact();
console.log(`keys=${keys} writes=${writes} file=${file}`);
console.log(`append: ${(total / writes).toFixed(1)} ms/write (${((keys * writes) / (total / 1000)).toFixed(0)} edge rows/s incl. rollups)`);
console.log(`compact: ${(performance.now() - t).toFixed(1)} ms`);
console.log(`command: node --import tsx bench/store-append.ts ${keys} ${writes} ${file}`);
await store.close();
db.close();
