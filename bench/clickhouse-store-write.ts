/**
 * ClickHouse store write throughput and two reads, on a private clickhouse-server (18.16, started
 * by test/support/clickhouse-server.ts): the store-write.ts shape (K edge keys a second over 60
 * POPs, an origin record per edge key, two dimension records per service), S seconds, one
 * store.append each (every tier written per append, each insert with its ledger row), then
 * readEdge of one service's last 120 s on the 1 s tier (the Fastly history) and sumEdge of one
 * service's 30 days by day on the 1 h tier (Azion last-30-days), 50 times each. With shards=2,
 * two servers as two shards of one cluster: writes split by service, reads through Distributed.
 *
 * Run: node --import tsx bench/clickhouse-store-write.ts [keys=1000,10000] [seconds=30] [shards=1]
 */
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseMetricStore } from '../src/store/clickhouse/metric-store.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import type { RecordSet } from '../src/model/record.ts';
import { startClickHouseCluster } from '../test/support/clickhouse-server.ts';
import { machineLine } from './support/fixtures.ts';
import { secondOfRecords, serviceName } from './support/records.ts';
import { int, ms, report, type BenchRow } from './support/report.ts';
import { median, now, percentile } from './support/stats.ts';

const keyCounts = (process.argv[2] ?? '1000,10000').split(',').map(Number);
const SECONDS = Number(process.argv[3] ?? 30);
const SHARDS = Number(process.argv[4] ?? 1);
const NO_RETENTION = { secondSeconds: Infinity, minuteSeconds: Infinity, hourSeconds: Infinity, daySeconds: Infinity, usageSeconds: Infinity };
const T0 = 1_704_067_230;

const at = (rs: RecordSet, second: number): RecordSet => ({
  edge: rs.edge.map((r) => ({ ...r, second })),
  origin: rs.origin.map((r) => ({ ...r, second })),
  dimension: rs.dimension.map((r) => ({ ...r, second })),
});

async function timed(times: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = now();
    await f();
    out.push(now() - t);
  }
  return out;
}

console.log(machineLine());
const cluster = await startClickHouseCluster(SHARDS, 'rtm_bench');
const rows: BenchRow[] = [];
try {
  for (const keys of keyCounts) {
    const shape = secondOfRecords(0, { services: Math.max(1, Math.round(keys / 60)), pops: Math.min(60, keys), domainsPerService: 1 });
    const store = await createClickHouseMetricStore({
      shards: cluster.shards.map((server) => createClickHouseConnection({ url: server.url, database: `bench_${keys}` })),
      ...(SHARDS > 1 ? { cluster: cluster.clusterName } : {}),
      nodeId: 'bench',
      retention: NO_RETENTION,
    });
    const writes: number[] = [];
    const started = now();
    for (let s = 0; s < SECONDS; s++) {
      const delta = deltaFromRecordSet(at(shape, T0 + s));
      const t = now();
      await store.append({ lsn: s + 1, delta });
      writes.push(now() - t);
    }
    const keysPerSecond = (shape.edge.length * SECONDS) / ((now() - started) / 1000);
    const service = serviceName(0);
    const history = await timed(50, () => store.readEdge({ tier: '1s', from: T0 + SECONDS - 120, to: T0 + SECONDS, filter: { services: [service] } }));
    const days = await timed(50, () =>
      store.sumEdge({ tier: '1h', from: T0 - 30 * 86_400, to: T0 + 86_400, filter: { services: [service] }, bucketSeconds: 86_400, fields: ['requests', 'resp_body_bytes'] }),
    );
    await store.close();
    console.log(
      `${int(shape.edge.length)} edge keys/s: ${int(keysPerSecond)} keys/s (write median ${ms(median(writes))}, max ${ms(Math.max(...writes))}); ` +
        `1 s history of one service p50 ${ms(median(history))} p99 ${ms(percentile(history, 99))}; 30 days by day p50 ${ms(median(days))} p99 ${ms(percentile(days, 99))}`,
    );
    const on = SHARDS > 1 ? `, ${SHARDS} shards` : '';
    rows.push({ bench: 'clickhouse-store-write', what: `ClickHouse store writer, ${int(shape.edge.length)} edge keys a second (${SECONDS} s${on})`, value: `${int(keysPerSecond)} keys/s` });
  }
} finally {
  await cluster.stop();
}
report(rows, `node --import tsx bench/clickhouse-store-write.ts ${keyCounts.join(',')} ${SECONDS} ${SHARDS}`);
