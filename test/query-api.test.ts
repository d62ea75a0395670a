/**
 * The native query API against the whole app: traffic spread over two days (older seconds in the
 * store tiers only, the last minutes in the window too), then random queries whose every row
 * must equal the 1 s records summed by hand (any granularity, grouping and filter), top-N with
 * exact `other` rows, the GET / CSV forms, and the 400s naming the bad field.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../src/model/fields.ts';
import { METRICS, type Family, type GroupField } from '../src/query/metrics.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const SPAN = 2 * 86_400;
const START = NOW - SPAN;
let h: Harness;

const SERVICES = ['alpha', 'beta', 'gamma'];
const DCS = ['FRA', 'LHR', 'NYC'];
const DOMAINS = ['a.example', 'b.example', 'img.b.example'];
const BACKENDS = ['b1', 'b2'];
const STATUSES = [200, 200, 304, 404, 503];
const METHODS = ['GET', 'GET', 'POST'];
const PRODUCTS = ['edge_application', 'live_streaming'];
const CACHES = ['hit', 'miss', 'pass'];

/** Deterministic pseudo-random events: many in the last 15 minutes, a thinner spread over two days. */
function traffic(): string[] {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const lines: string[] = [];
  const one = (second: number): void => {
    const fetched = rnd(3) === 0;
    lines.push(
      JSON.stringify({
        timestamp: second + 0.25,
        service: pick(SERVICES),
        datacenter: pick(DCS),
        domain: pick(DOMAINS),
        status: pick(STATUSES),
        method: pick(METHODS),
        cache: pick(CACHES),
        product: pick(PRODUCTS),
        resp_header_bytes: 100 + rnd(100),
        resp_body_bytes: rnd(50_000),
        bereq_header_bytes: rnd(300),
        ...(fetched ? { origin_status: pick([200, 503]), origin_time_ms: rnd(400), beresp_body_bytes: rnd(20_000), backend: pick(BACKENDS) } : {}),
      }),
    );
  };
  for (let i = 0; i < 3000; i++) one(NOW - 3 - rnd(900));
  for (let i = 0; i < 3000; i++) one(START + rnd(SPAN - 900));
  return lines;
}

beforeAll(async () => {
  h = await startHarness();
  const lines = traffic();
  for (let i = 0; i < lines.length; i += 1000) await h.ingest(ADMIN_TOKEN, `${lines.slice(i, i + 1000).join('\n')}\n`);
  await h.publishThrough(NOW - 3);
  await h.waitForCatalog(SERVICES);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const post = (body: unknown, token = ADMIN_TOKEN, accept?: string) =>
  h.inject({ method: 'POST', url: '/rtm/v1/query', payload: body as Record<string, unknown>, headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });

type Row = Record<string, unknown>;

/** The query answered by hand from the 1 s tier: every record summed into its bucket and group. */
async function expected(q: { from: number; to: number; bucket: number | undefined; family: Family; metrics: string[]; groupBy: GroupField[]; filter?: { field: GroupField; op: string; values: string[] } }): Promise<Row[]> {
  const store = h.services.store;
  const range = { tier: '1s' as const, from: q.from, to: q.to, filter: {} };
  const defs = q.metrics.map((m) => METRICS[q.family].get(m)!);
  type Rec = { second: number; key: Record<string, string>; get: (field: string) => number };
  let recs: Rec[];
  if (q.family === 'edge') {
    recs = (await store.readEdge(range)).map((r) => ({ second: r.second, key: { service: r.service, datacenter: r.datacenter, domain: r.domain, product: r.product }, get: (f) => r.values[EDGE_FIELDS.indexOf(f)] ?? 0 }));
  } else if (q.family === 'origin') {
    recs = (await store.readOrigin(range)).map((r) => ({ second: r.second, key: { service: r.service, datacenter: r.datacenter, backend: r.backend }, get: (f) => r.values[ORIGIN_FIELDS.indexOf(f)] ?? 0 }));
  } else {
    recs = (await store.readDimension(range))
      .filter((r) => r.dimension === 'status')
      .map((r) => ({ second: r.second, key: { service: r.service, domain: r.domain, product: r.product, status: r.value }, get: (f) => (f === 'count' ? r.count : r.bytes) }));
  }
  const cells = new Map<string, { time: number; group: string[]; sums: Map<string, number> }>();
  for (const r of recs) {
    if (q.filter) {
      const v = r.key[q.filter.field] ?? '';
      const hit = q.filter.op === 'prefix' ? v.startsWith(q.filter.values[0] ?? '') : q.filter.values.includes(v);
      if (hit === (q.filter.op === 'not_in')) continue;
    }
    const time = q.bucket === undefined ? q.from : Math.floor(r.second / q.bucket) * q.bucket;
    const group = q.groupBy.map((g) => r.key[g] ?? '');
    const k = `${time}|${group.join('|')}`;
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { time, group, sums: new Map() }));
    for (const input of new Set(defs.flatMap((d) => d.inputs))) c.sums.set(input, (c.sums.get(input) ?? 0) + r.get(input));
  }
  const rows: Row[] = [];
  for (const c of cells.values()) {
    if ([...c.sums.values()].every((x) => x === 0)) continue;
    const row: Row = q.bucket === undefined ? {} : { time: c.time };
    q.groupBy.forEach((g, i) => (row[g] = c.group[i]));
    for (const d of defs) row[d.name] = d.compute(d.inputs.map((i) => c.sums.get(i) ?? 0)) ?? null;
    rows.push(row);
  }
  return rows;
}

const sorted = (rows: Row[]): string[] => rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))))).sort();

const GRAN = { '1s': 1, '1m': 60, '1h': 3600, '1d': 86_400 } as const;

describe('POST /rtm/v1/query equals summing the 1 s records', () => {
  it('for any granularity, grouping and filter', async () => {
    // The 1 s tier of the store, summed by hand, is the reference; the query reads the window and the rollup tiers.
    // Top values (path, client_ip) have their own test: test/query-top-values.test.ts.
    const families: Record<Exclude<Family, 'top'>, { metrics: string[]; keys: GroupField[] }> = {
      edge: { metrics: ['requests', 'bandwidth', 'edge_hit_ratio', 'status_4xx', 'origin_offload', 'resp_body_bytes'], keys: ['service', 'datacenter', 'domain', 'product'] },
      origin: { metrics: ['backend_responses', 'backend_status_5xx', 'backend_latency_100_to_250ms', 'backend_resp_body_bytes'], keys: ['service', 'datacenter', 'backend'] },
      dimension: { metrics: ['requests', 'resp_bytes'], keys: ['service', 'domain', 'product', 'status'] },
    };
    const values: Record<string, string[]> = { service: SERVICES, datacenter: DCS, domain: DOMAINS, product: PRODUCTS, backend: BACKENDS, status: ['200', '404'] };
    const arb = fc
      .record({
        family: fc.constantFrom<Exclude<Family, 'top'>>('edge', 'edge', 'origin', 'dimension'),
        granularity: fc.constantFrom('1s', '1m', '1h', '1d', 'all'),
        start: fc.integer({ min: START - 100, max: NOW }),
        length: fc.integer({ min: 1, max: SPAN + 200 }),
        groupPick: fc.array(fc.nat(3), { maxLength: 3 }),
        metricPick: fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }),
        filterField: fc.option(fc.nat(3)),
        filterValues: fc.subarray([0, 1, 2], { minLength: 1 }),
        filterOp: fc.constantFrom('in', 'not_in', 'prefix'),
      })
      .map((r) => {
        const fam = families[r.family];
        const max = r.granularity === '1s' ? 2000 : r.granularity === '1m' ? 86_400 : SPAN + 200;
        const length = Math.min(r.length, max);
        const keys = r.family === 'dimension' ? [...new Set([...r.groupPick.map((i) => fam.keys[i % fam.keys.length]!), 'status' as GroupField])] : [...new Set(r.groupPick.map((i) => fam.keys[i % fam.keys.length]!))];
        const metrics = [...new Set(r.metricPick.map((i) => fam.metrics[i % fam.metrics.length]!))];
        const field = r.filterField === null ? undefined : fam.keys[r.filterField % fam.keys.length]!;
        const picked = field === undefined ? [] : r.filterValues.map((i) => values[field]![i % values[field]!.length]!);
        const filter = field === undefined ? undefined : r.filterOp === 'prefix' ? { field, op: 'prefix', values: [picked[0]!.slice(0, 1)] } : { field, op: r.filterOp, values: picked };
        return { family: r.family, granularity: r.granularity as keyof typeof GRAN | 'all', from: r.start, to: r.start + length, groupBy: keys, metrics, filter };
      });
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const res = await post({ from: q.from, to: q.to, granularity: q.granularity, metrics: q.metrics, groupBy: q.groupBy, ...(q.filter ? { filters: [{ field: q.filter.field, op: q.filter.op, value: q.filter.op === 'prefix' ? q.filter.values[0] : q.filter.values }] } : {}) });
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json() as { rows: Row[]; final_through: number; tiers: { tier: string; from: number; to: number }[] };
        const bucket = q.granularity === 'all' ? undefined : GRAN[q.granularity];
        const want = await expected({ from: q.from, to: Math.min(q.to, body.final_through + 1), bucket, family: q.family, metrics: q.metrics, groupBy: q.groupBy, ...(q.filter ? { filter: q.filter } : {}) });
        expect(sorted(body.rows.map((r) => ({ ...r, ...Object.fromEntries(q.metrics.map((m) => [m, typeof r[m] === 'number' ? Math.round((r[m] as number) * 1e9) / 1e9 : r[m]])) })))).toEqual(
          sorted(want.map((r) => ({ ...r, ...Object.fromEntries(q.metrics.map((m) => [m, typeof r[m] === 'number' ? Math.round((r[m] as number) * 1e9) / 1e9 : r[m]])) }))),
        );
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe('answers', () => {
  it('reads the window for recent seconds and coarse tiers for the aligned middle, final through the last published second', async () => {
    const from = START + 1234;
    const res = await post({ from, to: NOW, granularity: 'all', metrics: ['requests'] });
    const body = res.json();
    expect(body).toMatchObject({ from, to: NOW, granularity: 'all', final_through: h.services.window.latestPublished() });
    const tiers = body.tiers as { tier: string; source: string; from: number; to: number }[];
    expect(tiers.map((t) => t.tier)).toContain('1d');
    expect(tiers.at(-1)).toMatchObject({ source: 'window', tier: '1s', to: body.final_through + 1 });
    // The parts cover the range without gap or overlap.
    for (let i = 1; i < tiers.length; i++) expect(tiers[i]!.from).toBe(tiers[i - 1]!.to);
    expect(tiers[0]!.from).toBe(from);
    expect(body.rows).toEqual([{ requests: 6000 - (await countBefore(from)) }]);
  });

  it('top N groups plus an other row, so each bucket still sums to its total', async () => {
    const base = { from: NOW - 900, to: NOW, granularity: '1m', metrics: ['requests', 'edge_hit_ratio'] };
    const total = (await post(base)).json().rows as Row[];
    const top = (await post({ ...base, groupBy: ['service', 'datacenter'], orderBy: [{ metric: 'requests' }], limit: 2 })).json().rows as Row[];
    const byTime = new Map<number, Row[]>();
    for (const r of top) byTime.set(r['time'] as number, [...(byTime.get(r['time'] as number) ?? []), r]);
    for (const t of total) {
      const rows = byTime.get(t['time'] as number) ?? [];
      expect(rows.filter((r) => r['other'] !== true).length).toBeLessThanOrEqual(2);
      expect(rows.reduce((s, r) => s + (r['requests'] as number), 0)).toBe(t['requests']);
    }
    const other = top.find((r) => r['other'] === true);
    expect(other).toMatchObject({ service: null, datacenter: null, other: true });
  });

  it('a token sees only its services, even when it names others', async () => {
    const alphaOnly = await h.token('alpha-reader', ['alpha'], ['read']);
    const q = { from: NOW - 900, to: NOW, granularity: 'all', metrics: ['requests'], groupBy: ['service'] };
    const admin = (await post(q)).json().rows as Row[];
    const mine = (await post(q, alphaOnly.secret)).json().rows as Row[];
    expect(mine).toEqual(admin.filter((r) => r['service'] === 'alpha'));
    const asked = await post({ ...q, filters: [{ field: 'service', op: 'in', value: ['beta', 'alpha'] }] }, alphaOnly.secret);
    expect(asked.json().rows).toEqual(mine);
    const none = await post({ ...q, filters: [{ field: 'service', op: 'eq', value: 'beta' }] }, alphaOnly.secret);
    expect(none.json().rows).toEqual([]);
  });

  it('GET takes the same parameters and answers CSV on Accept: text/csv', async () => {
    const body = { from: NOW - 600, to: NOW, granularity: 'all', metrics: ['requests', 'bandwidth'], groupBy: ['datacenter'], orderBy: [{ metric: 'requests', desc: true }] };
    const viaPost = (await post(body)).json();
    const url = `/rtm/v1/query?from=${NOW - 600}&to=${NOW}&granularity=all&metrics=requests,bandwidth&groupBy=datacenter&orderBy=requests:desc`;
    const viaGet = await h.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(viaGet.json()).toEqual(viaPost);
    const csv = await h.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('datacenter,requests,bandwidth');
    expect(lines.slice(1)).toEqual(viaPost.rows.map((r: Row) => `${r['datacenter']},${r['requests']},${r['bandwidth']}`));
    const filtered = await h.inject({ url: `${url}&filter=datacenter:in:FRA|LHR`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((filtered.json().rows as Row[]).map((r) => r['datacenter']).sort()).toEqual(['FRA', 'LHR']);
  });

  it.each([
    [{ from: NOW - 60, metrics: ['requests', 'nonsense'] }, /metrics\/1: unknown metric "nonsense"/],
    [{ from: NOW - 60, metrics: ['requests'], groupBy: ['colour'] }, /groupBy\/0/],
    [{ from: NOW - 60, metrics: ['requests'], groupby: ['service'] }, /groupby/],
    [{ from: NOW - 60, to: NOW - 120, metrics: ['requests'] }, /to: must be after from/],
    [{ from: NOW - 60, metrics: ['requests'], groupBy: ['backend'] }, /metrics\/0: requests is not one of the backend_\* metrics/],
    [{ from: NOW - 60, metrics: ['bandwidth'], groupBy: ['status'] }, /metrics\/0: bandwidth is not one of the status and method breakdowns/],
    [{ from: NOW - 60, metrics: ['requests'], groupBy: ['status'], filters: [{ field: 'datacenter', op: 'eq', value: 'FRA' }] }, /filters\/0\/field/],
    [{ from: NOW - 60, metrics: ['requests'], orderBy: [{ metric: 'bandwidth' }] }, /orderBy\/0\/metric/],
    [{ from: NOW - 7200, metrics: ['requests'], granularity: '1s' }, /1s tier/],
  ])('400 naming the field: %j', async (body, detail) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toMatch(/^RTM_ERR_(REQUEST_BAD_PARAM|QUERY_RANGE_TOO_LARGE)$/);
    expect(res.json().error.detail).toMatch(detail);
  });
});

async function countBefore(from: number): Promise<number> {
  const recs = await h.services.store.readEdge({ tier: '1s', from: 0, to: from, filter: {} });
  return recs.reduce((s, r) => s + (r.values[0] ?? 0), 0);
}
