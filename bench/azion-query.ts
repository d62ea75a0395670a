/**
 * The Azion v3 API over a month of rollups (issue 3): p50/p99 of `last-30-days` queries through
 * the real route (app.inject) on the DuckDB store, for 100 services x 20 domains; and the rollup
 * write cost of one published second (store.append, every tier) beside writing the 1 s tier only.
 *
 * Generation is bounded: a `last-30-days` query buckets by day and reads only the 1 d tier, so
 * the 1 d tier gets the full 30 days (one compacted row per key and day), and the 1 m tier gets
 * the last hour (for the `last-hour` query, which reads minutes). The 1 m / 1 h tiers for the
 * whole month (43,200 minutes x keys rows) are not generated: no query below reads them.
 * Run: node --import tsx bench/azion-query.ts [requests]
 */
import path from 'node:path';
import Fastify from 'fastify';
import { installErrorHandling } from '../src/app.ts';
import { azionRoutes } from '../src/api/azion/routes.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import type { EdgeRecord, RecordSet } from '../src/model/record.ts';
import { splitToBlockBytes } from '../src/model/delta-concat.ts';
import { appendSecondBlocks } from '../src/store/duckdb/second-tier.ts';
import { createDuckDbCatalog } from '../src/store/duckdb/catalog-store.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { BENCH_TOKEN, benchTokens, machineLine, withTempDir } from './support/fixtures.ts';
import { int, ms, ratio, report, type BenchRow } from './support/report.ts';
import { edgeVector, random } from './support/records.ts';
import { median, percentile, now } from './support/stats.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';

const REQUESTS = Number(process.argv[2] ?? 1000);
const SERVICES = 100;
const DOMAINS = 20;
const POPS = 2;
const DAYS = 30;
const EDGE_APP = 1441740010;
const DAY = 86_400;
// "now" is 2026-03-15 12:34:56 UTC: the current day is a partial bucket, as in production.
const NOW_S = Date.UTC(2026, 2, 15, 12, 34, 56) / 1000;
const NO_RETENTION = { secondSeconds: Infinity, minuteSeconds: Infinity, hourSeconds: Infinity, daySeconds: Infinity, usageSeconds: Infinity };

const serviceId = (s: number): string => `svc-${s}`;
const domainOf = (s: number, d: number): string => `d${d}.svc-${s}.example`;

/** One record per key (service x domain x POP) at `bucket`, `requests` scaled by a per-key factor. */
function recordsAt(bucket: number, requestsPerKey: number, services = SERVICES): EdgeRecord[] {
  const out: EdgeRecord[] = [];
  for (let s = 0; s < services; s++) {
    for (let d = 0; d < DOMAINS; d++) {
      for (let p = 0; p < POPS; p++) {
        out.push({
          second: bucket,
          service: serviceId(s),
          datacenter: `P${p}`,
          domain: domainOf(s, d),
          product: 'edge_application',
          values: edgeVector(Math.round(requestsPerKey * (0.5 + random()))),
        });
      }
    }
  }
  return out;
}

const records = (edge: EdgeRecord[]): RecordSet => ({ edge, origin: [], dimension: [] });

/** The fields the Azion metrics below read, as SQL over `r` (requests of the row) and `h` (its hits). */
const SQL_FIELDS: Readonly<Record<string, string>> = {
  requests: 'r',
  hits: 'h',
  miss: 'r - h',
  req_header_bytes: 'r * 450',
  resp_header_bytes: 'r * 300',
  resp_body_bytes: 'r * 25000',
  hit_resp_header_bytes: 'h * 300',
  hit_resp_body_bytes: 'h * 25000',
  status_2xx: 'round(r * 0.95)',
  status_200: 'round(r * 0.95)',
  status_4xx: 'r - round(r * 0.95)',
  status_404: 'r - round(r * 0.95)',
  edge_requests: 'r',
};

/**
 * One INSERT of `count` buckets (`last`, `last - width`, ...) x every key into edge_<tier>, each
 * row with about `requestsPerKey` requests (0.5x to 1.5x, pseudo-random per row).
 */
function generateSql(tier: '1d' | '1m', last: number, width: number, count: number, requestsPerKey: number): string {
  // The sparse layout (docs/store.md): the ids of the fields set and their values.
  const set = EDGE_FIELDS.flatMap((f, i) => (SQL_FIELDS[f] === undefined ? [] : [[i, SQL_FIELDS[f]] as const]));
  const lists = `CAST([${set.map(([i]) => i).join(', ')}] AS USMALLINT[]), [${set.map(([, sql]) => `CAST(${sql} AS DOUBLE)`).join(', ')}]`;
  return (
    `INSERT INTO edge_${tier} SELECT b, 'svc-' || s, 'P' || p, 'd' || d || '.svc-' || s || '.example', 'edge_application', ${lists} ` +
    `FROM (SELECT b, s, d, p, r, round(r * 0.8) AS h FROM (` +
    `SELECT ${last} - i * ${width} AS b, s, d, p, round(${requestsPerKey} * (0.5 + random())) AS r ` +
    `FROM range(${count}) t(i), range(${SERVICES}) ts(s), range(${DOMAINS}) td(d), range(${POPS}) tp(p)))`
  );
}

await withTempDir('azion', async (dir) => {
  console.log(machineLine());
  const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
  const store = await createDuckDbMetricStore(db, { retention: NO_RETENTION });
  const catalog = await createDuckDbCatalog({ db });
  const keys = SERVICES * DOMAINS * POPS;

  // 1. Generate the tiers the queries read, straight into their tables with INSERT ... SELECT
  //    (DuckDB computes the rows: appending 368k rows of 270 columns from JS takes minutes).
  const writer = await db.connect();
  const today = Math.floor(NOW_S / DAY) * DAY;
  const minute = Math.floor(NOW_S / 60) * 60;
  const t0 = now();
  await catalog.observe(records(recordsAt(today - DAY * DAYS, 1)));
  await writer.run(generateSql('1d', today, DAY, DAYS + 1, 2_000_000));
  await writer.run(generateSql('1m', minute, 60, 61, 1500));
  writer.closeSync();
  const generateMs = now() - t0;
  console.log(
    `generated ${int(keys * (DAYS + 1))} rows in edge_1d (${DAYS + 1} days) and ${int(keys * 61)} rows in edge_1m (61 minutes) ` +
      `for ${SERVICES} services x ${DOMAINS} domains x ${POPS} POPs in ${ms(generateMs)}`,
  );

  // 2. Queries through the route.
  const app = Fastify();
  installErrorHandling(app);
  await app.register(azionRoutes, { store, catalog, tokens: benchTokens, clock: createFakeClock(NOW_S * 1000), timeZone: 'UTC' });
  const services = await catalog.services();
  const headers = { authorization: `Token ${BENCH_TOKEN}`, accept: 'application/json; version=3' };
  const timeQueries = async (url: (confId: number) => string, buckets: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = -20; i < REQUESTS; i++) {
      const service = services[Math.floor(random() * services.length)];
      if (!service) throw new Error('no services in the catalog');
      const useDomain = random() < 0.5;
      const confId = useDomain ? (service.domains[Math.floor(random() * service.domains.length)]?.id ?? service.id) : service.id;
      const t = now();
      const res = await app.inject({ method: 'GET', url: url(confId), headers });
      const elapsed = now() - t;
      if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
      const body = res.json() as [number, number][];
      if (body.length !== buckets || !((body.at(-2)?.[1] ?? 0) > 0)) throw new Error(`unexpected answer ${res.body.slice(0, 200)}`);
      if (i >= 0) samples.push(elapsed); // the first 20 warm up
    }
    return samples;
  };
  const metricUrl = (range: string, metric: string) => (confId: number) =>
    `/metrics/products/${EDGE_APP}/configurations/${confId}/metrics/${metric}?date_from=${range}`;
  const month = await timeQueries(metricUrl('last-30-days', 'data_transferred'), DAYS);
  const hour = await timeQueries(metricUrl('last-hour', 'bandwidth'), 60);
  await app.close();

  // 3. Rollup write cost of one published second of K keys: store.append (1 s tier + 1 m / 1 h / 1 d
  //    rollups + published_lsn) beside appending the same rows to the 1 s tier only.
  const WRITES = 20;
  const WRITE_SERVICES = 25; // 25 x 20 domains x 2 POPs = 1,000 keys a second
  const base = await db.connect();
  const appendCost: number[] = [];
  const secondOnlyCost: number[] = [];
  let lsn = 1;
  const writeAll = async (second: number): Promise<void> => {
    const set = records(recordsAt(second, 10, WRITE_SERVICES));
    const t = now();
    await store.append({ lsn: lsn++, delta: deltaFromRecordSet(set) });
    appendCost.push(now() - t);
  };
  const writeSecondTier = async (second: number): Promise<void> => {
    const set = records(recordsAt(second, 10, WRITE_SERVICES));
    const t = now();
    await base.run('BEGIN TRANSACTION');
    await appendSecondBlocks(base, splitToBlockBytes(deltaFromRecordSet(set)), 1_000_000 + second);
    await base.run('COMMIT');
    secondOnlyCost.push(now() - t);
  };
  for (let i = 0; i < WRITES; i++) {
    // Alternate which goes first: neither always finds DuckDB warm.
    const second = NOW_S + 3600 + i;
    if (i % 2 === 0) {
      await writeAll(second);
      await writeSecondTier(second);
    } else {
      await writeSecondTier(second);
      await writeAll(second);
    }
  }
  base.closeSync();
  await catalog.close();
  await store.close();
  db.close();

  const p = (xs: number[], q: number): number => percentile(xs, q);
  const rows: BenchRow[] = [
    {
      bench: 'azion-query',
      what: `last-30-days data_transferred, ${SERVICES} services x ${DOMAINS} domains (p50 / p99 of ${REQUESTS})`,
      value: `${ms(p(month, 50))} / ${ms(p(month, 99))}`,
      target: `p99 < 50 ms: ${p(month, 99) < 50 ? 'yes' : 'no'}`,
    },
    {
      bench: 'azion-query',
      what: `last-hour bandwidth by minute (p50 / p99 of ${REQUESTS})`,
      value: `${ms(p(hour, 50))} / ${ms(p(hour, 99))}`,
    },
    {
      bench: 'azion-query',
      what: `rollup write cost: store.append of one second, ${int(WRITE_SERVICES * DOMAINS * POPS)} edge keys, all tiers (median of ${WRITES})`,
      value: ms(median(appendCost)),
      baseline: `${ms(median(secondOnlyCost))} (1 s tier only)`,
      ratio: `${ratio(median(appendCost), median(secondOnlyCost))} the cost of the 1 s tier alone`,
    },
  ];
  report(rows, `node --import tsx bench/azion-query.ts ${REQUESTS}`);
});
