/**
 * A p99 over one month for one service (issue 11): the edge-time distribution of a service's
 * 30 days merged from the 1 d tier and ranked (store.sumDistribution + quantileOf, what the query
 * API, the Azion series and the ODSL CDN metric run), beside the month's request total from the
 * same rows (store.sumEdge) in the same process, interleaved: the ratio is what a percentile
 * costs over a sum. DuckDB store, 100 services x 20 domains x 2 POPs, every row with 20 edge-time
 * and 20 object-size buckets set (a realistic spread for one key-day).
 * Run: node --import tsx bench/percentile-query.ts [queries]
 */
import path from 'node:path';
import { EDGE_DISTRIBUTIONS, quantileOf } from '../src/model/distributions.ts';
import { countersOf } from '../src/model/delta.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { machineLine, withTempDir } from './support/fixtures.ts';
import { int, ms, ratio, report } from './support/report.ts';
import { random } from './support/records.ts';
import { now, percentile } from './support/stats.ts';

const QUERIES = Number(process.argv[2] ?? 200);
const SERVICES = 100;
const DOMAINS = 20;
const POPS = 2;
const DAYS = 30;
const DAY = 86_400;
const LAST = Date.UTC(2026, 2, 15) / 1000;
const NO_RETENTION = { secondSeconds: Infinity, minuteSeconds: Infinity, hourSeconds: Infinity, daySeconds: Infinity, usageSeconds: Infinity };

const [edgeTime, , objectSize] = EDGE_DISTRIBUTIONS;
if (edgeTime === undefined || objectSize === undefined) throw new Error('edge distributions missing');
const C = countersOf('edge');
const REQUESTS = EDGE_FIELDS.indexOf('requests');

/**
 * The 1 d rows: counters `requests` then 20 edge-time and 20 object-size buckets, ids strictly
 * ascending (bucket k of a run at base + 5k + [0, 4)), counts summing to about `requests`.
 */
const generateSql = (): string => {
  const ids = (base: number): string => `list_transform(range(20), k -> CAST(${C + base} + k * 5 + CAST(floor(random() * 4) AS INTEGER) AS USMALLINT))`;
  const counts = `list_transform(range(20), k -> CAST(round(r / 20 + random()) AS DOUBLE))`;
  return (
    `INSERT INTO edge_1d SELECT b, 'svc-' || s, 'P' || p, 'd' || d || '.svc-' || s || '.example', 'edge_application', ` +
    `list_concat([CAST(${REQUESTS} AS USMALLINT)], ${ids(edgeTime.offset + 300)}, ${ids(objectSize.offset + 400)}), ` +
    `list_concat([CAST(r AS DOUBLE)], ${counts}, ${counts}) ` +
    `FROM (SELECT ${LAST} - i * ${DAY} AS b, s, d, p, round(200000 * (0.5 + random())) AS r ` +
    `FROM range(${DAYS}) t(i), range(${SERVICES}) ts(s), range(${DOMAINS}) td(d), range(${POPS}) tp(p))`
  );
};

await withTempDir('percentile-query', async (dir) => {
  console.log(machineLine());
  const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
  const store = await createDuckDbMetricStore(db, { retention: NO_RETENTION });
  const writer = await db.connect();
  const t0 = now();
  await writer.run(generateSql());
  writer.closeSync();
  const rows = SERVICES * DOMAINS * POPS * DAYS;
  console.log(`generated ${int(rows)} rows in edge_1d (${DAYS} days x ${SERVICES} services x ${DOMAINS} domains x ${POPS} POPs, 41 values each) in ${ms(now() - t0)}`);

  const from = LAST - (DAYS - 1) * DAY;
  const to = LAST + DAY;
  const month = { tier: '1d' as const, from, to, bucketSeconds: to - from };
  const p99Times: number[] = [];
  const sumTimes: number[] = [];
  let checked = 0;
  for (let i = -10; i < QUERIES; i++) {
    const filter = { services: [`svc-${Math.floor(random() * SERVICES)}`] };
    const p99 = async (): Promise<void> => {
      const t = now();
      const [row] = await store.sumDistribution({ ...month, kind: 'edgeDist', filter });
      const value = row === undefined ? undefined : quantileOf(edgeTime, row.ids, row.counts, 990);
      if (i >= 0) p99Times.push(now() - t);
      if (!(typeof value === 'number' && value > 0)) throw new Error(`no p99 for ${filter.services[0]}`);
      checked++;
    };
    const sum = async (): Promise<void> => {
      const t = now();
      const [row] = await store.sumEdge({ ...month, fields: ['requests'], filter });
      if (i >= 0) sumTimes.push(now() - t);
      if (!((row?.values[0] ?? 0) > 0)) throw new Error(`no requests for ${filter.services[0]}`);
    };
    // Alternate which goes first: neither always finds DuckDB warm.
    if (i % 2 === 0) {
      await p99();
      await sum();
    } else {
      await sum();
      await p99();
    }
  }
  await store.close();
  db.close();
  console.log(`${checked} p99 answers, each a positive edge time`);

  const p = percentile;
  report(
    [
      {
        bench: 'percentile-query',
        what: `edge_time_p99 of one service over ${DAYS} days (1 d tier, ${SERVICES * DOMAINS * POPS} keys x ${DAYS} days), p50 / p99 of ${QUERIES}`,
        value: `${ms(p(p99Times, 50))} / ${ms(p(p99Times, 99))}`,
        baseline: `${ms(p(sumTimes, 50))} / ${ms(p(sumTimes, 99))} (requests of the same month)`,
        ratio: `${ratio(p(p99Times, 50), p(sumTimes, 50))} the sum's median`,
        target: `p99 < 50 ms: ${p(p99Times, 99) < 50 ? 'yes' : 'no'}`,
      },
    ],
    `node --import tsx bench/percentile-query.ts ${QUERIES}`,
  );
});
