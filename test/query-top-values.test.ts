/**
 * Top values (issue 11 "Top-N") in the native query API, through the whole app: item and bound
 * rows written through the real store (as a node writes them per service and minute), the edge
 * requests beside them, and every served row checked against topValueOf of sums computed here:
 * exact lists, error bounds, random parts of two services (fast-check), isolation between
 * tokens, and the 400s.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import type { DimensionRecord, EdgeRecord } from '../src/model/record.ts';
import { topValueOf, TOP_VALUES_BOUND, type TopValueDimension } from '../src/model/top-values.ts';
import { edgeRecord } from '../src/store/record-fixtures.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const MIN = 60;
/** Case ranges, each its own minutes, well before the last stored second. */
const EXACT = NOW - 6 * 3600;
const BOUNDS = NOW - 5 * 3600;
/** The property test's runs: one 10-minute slot each. */
const PROPERTY = NOW - 30 * 3600;
const SHOP = 'shop';
const MEDIA = 'media';

let h: Harness;
let lsn = 1_000_000;

/** One part of top values: item rows and the bound row, at the minute's start second. */
interface PartSpec {
  service: string;
  minute: number;
  dimension?: TopValueDimension;
  items: readonly { value: string; count: number; error: number }[];
  counted: number;
  unlisted: number;
}

const partRows = (p: PartSpec): DimensionRecord[] => {
  const row = (value: string, count: number, bytes: number): DimensionRecord => ({ second: p.minute, service: p.service, domain: '', product: '', dimension: p.dimension ?? 'path', value, count, bytes });
  return [...p.items.map((i) => row(i.value, i.count, i.error)), row(TOP_VALUES_BOUND, p.counted, p.unlisted)];
};

/** Edge requests of a service in a minute (one record a few seconds in). */
const requestsIn = (service: string, minute: number, requests: number): EdgeRecord => edgeRecord(minute + 7, service, { requests });

async function write(parts: readonly PartSpec[], edge: readonly EdgeRecord[]): Promise<void> {
  await h.services.store.append({ lsn: lsn++, delta: deltaFromRecordSet({ edge: [...edge], origin: [], dimension: parts.flatMap(partRows) }) });
}

beforeAll(async () => {
  h = await startHarness();
  // A few events just before now: the store's watermark passes every case's minutes and the catalog learns both services.
  const lines = [SHOP, MEDIA].map((service) => JSON.stringify({ timestamp: NOW - 5, service, datacenter: 'FRA', domain: 'a.example', status: 200 }));
  await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
  await h.publishThrough(NOW - 3);
  await h.waitForCatalog([SHOP, MEDIA]);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

type Row = Record<string, unknown>;
interface Answer {
  from: number;
  to: number;
  granularity: string;
  rows: Row[];
  warnings?: string[];
  tiers: { tier: string; source: string }[];
}

async function query(body: Record<string, unknown>, token = ADMIN_TOKEN): Promise<Answer> {
  const res = await h.inject({ method: 'POST', url: '/rtm/v1/query', payload: body, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Answer;
}

describe('exact lists (every value listed, error 0, bound 0, edge requests = counted)', () => {
  beforeAll(async () => {
    await write(
      [
        { service: SHOP, minute: EXACT, items: [{ value: '/a', count: 5, error: 0 }, { value: '/b', count: 3, error: 0 }, { value: '/c', count: 1, error: 0 }], counted: 9, unlisted: 0 },
        { service: SHOP, minute: EXACT + MIN, items: [{ value: '/a', count: 2, error: 0 }, { value: '/b', count: 6, error: 0 }, { value: '/d', count: 4, error: 0 }], counted: 12, unlisted: 0 },
      ],
      [requestsIn(SHOP, EXACT, 9), requestsIn(SHOP, EXACT + MIN, 12)],
    );
  });
  const range = { from: EXACT, to: EXACT + 2 * MIN, metrics: ['requests', 'requests_error'], groupBy: ['path'] };

  it('per minute: the counts, ranked by requests over the range, from the 1 min tier and never the window', async () => {
    const a = await query({ ...range, granularity: '1m' });
    expect(a.rows).toEqual([
      { time: EXACT, path: '/b', requests: 3, requests_error: 0 },
      { time: EXACT, path: '/a', requests: 5, requests_error: 0 },
      { time: EXACT, path: '/c', requests: 1, requests_error: 0 },
      { time: EXACT + MIN, path: '/b', requests: 6, requests_error: 0 },
      { time: EXACT + MIN, path: '/a', requests: 2, requests_error: 0 },
      { time: EXACT + MIN, path: '/d', requests: 4, requests_error: 0 },
    ]);
    expect(a.warnings).toBeUndefined();
    expect(a.tiers.every((t) => t.source === 'store' && t.tier !== '1s')).toBe(true);
  });

  it("'all': summed over the minutes, ordered and limited, with no other row", async () => {
    const all = await query({ ...range, granularity: 'all' });
    expect(all.rows).toEqual([
      { path: '/b', requests: 9, requests_error: 0 },
      { path: '/a', requests: 7, requests_error: 0 },
      { path: '/d', requests: 4, requests_error: 0 },
      { path: '/c', requests: 1, requests_error: 0 },
    ]);
    expect((await query({ ...range, granularity: 'all', limit: 2 })).rows).toEqual(all.rows.slice(0, 2));
    const ascending = await query({ ...range, granularity: 'all', orderBy: [{ metric: 'requests', desc: false }], limit: 3 });
    expect(ascending.rows.map((r) => r['path'])).toEqual(['/c', '/d', '/a']);
    const perMinute = await query({ ...range, granularity: '1m', limit: 1 });
    expect(perMinute.rows).toEqual([
      { time: EXACT, path: '/b', requests: 3, requests_error: 0 },
      { time: EXACT + MIN, path: '/b', requests: 6, requests_error: 0 },
    ]);
  });

  it('filters on the value (eq, in, not_in, prefix); a range inside a minute reads the whole minute', async () => {
    const paths = async (filter: Record<string, unknown>): Promise<unknown[]> => (await query({ ...range, granularity: 'all', filters: [filter] })).rows.map((r) => r['path']);
    expect(await paths({ field: 'path', op: 'eq', value: '/a' })).toEqual(['/a']);
    expect(await paths({ field: 'path', op: 'in', value: ['/a', '/c', '/nothing'] })).toEqual(['/a', '/c']);
    expect(await paths({ field: 'path', op: 'not_in', value: ['/a', '/c'] })).toEqual(['/b', '/d']);
    expect(await paths({ field: 'path', op: 'prefix', value: '/d' })).toEqual(['/d']);
    const inside = await query({ ...range, from: EXACT + 10, to: EXACT + MIN + 50, granularity: 'all' });
    expect(inside).toMatchObject({ from: EXACT, to: EXACT + 2 * MIN });
    expect(inside.rows[0]).toEqual({ path: '/b', requests: 9, requests_error: 0 });
  });

  it('GET answers the same; auto never picks 1 s', async () => {
    const url = `/rtm/v1/query?from=${EXACT}&to=${EXACT + 2 * MIN}&granularity=all&metrics=requests,requests_error&groupBy=path&limit=2`;
    const res = await h.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rows).toEqual([
      { path: '/b', requests: 9, requests_error: 0 },
      { path: '/a', requests: 7, requests_error: 0 },
    ]);
    const auto = await query({ ...range, granularity: 'auto' });
    expect(auto.granularity).toBe('1m');
  });
});

/** requests_error as the contract states it: max(E, M + R - N), computed here from the sums. */
const errorOf = (e: number, m: number, r: number, n: number): number => Math.max(e, m + Math.max(0, r - n));

describe('error bounds', () => {
  beforeAll(async () => {
    await write(
      [
        { service: SHOP, minute: BOUNDS, items: [{ value: '/x', count: 50, error: 5 }, { value: '/y', count: 30, error: 10 }], counted: 100, unlisted: 20 },
        { service: SHOP, minute: BOUNDS + MIN, items: [{ value: '/x', count: 40, error: 0 }, { value: '/z', count: 25, error: 8 }], counted: 90, unlisted: 15 },
        // Another service in the same minutes: only the isolation cases and the admin's sums see it.
        { service: MEDIA, minute: BOUNDS, items: [{ value: '/x', count: 1000, error: 0 }, { value: '/m', count: 700, error: 1 }], counted: 2000, unlisted: 500 },
      ],
      [requestsIn(SHOP, BOUNDS, 110), requestsIn(SHOP, BOUNDS + MIN, 90), requestsIn(MEDIA, BOUNDS, 5000)],
    );
  });
  const shopOnly = { from: BOUNDS, to: BOUNDS + 2 * MIN, metrics: ['requests', 'requests_error'], groupBy: ['path'], filters: [{ field: 'service', op: 'eq', value: SHOP }] };

  it('per minute: max(E, M + R - N), with a warning for the minute whose edge requests exceed the counted', async () => {
    const a = await query({ ...shopOnly, granularity: '1m' });
    expect(a.rows).toEqual([
      { time: BOUNDS, path: '/x', requests: 50, requests_error: errorOf(5, 20, 110, 100) },
      { time: BOUNDS, path: '/y', requests: 30, requests_error: errorOf(10, 20, 110, 100) },
      { time: BOUNDS + MIN, path: '/x', requests: 40, requests_error: errorOf(0, 15, 90, 90) },
      { time: BOUNDS + MIN, path: '/z', requests: 25, requests_error: errorOf(8, 15, 90, 90) },
    ]);
    expect(a.rows.map((r) => r['requests_error'])).toEqual([30, 30, 15, 15]);
    expect(a.warnings).toEqual([expect.stringMatching(/^1 bucket\(s\) hold edge requests that no top-values part counted/)]);
  });

  it("'all': the sums of both minutes, then the bound (never the sum of per-minute bounds)", async () => {
    const a = await query({ ...shopOnly, granularity: 'all' });
    const m = 35;
    const r = 200;
    const n = 190;
    expect(a.rows).toEqual([
      { path: '/x', requests: 90, requests_error: errorOf(5, m, r, n) },
      { path: '/y', requests: 30, requests_error: errorOf(10, m, r, n) },
      { path: '/z', requests: 25, requests_error: errorOf(8, m, r, n) },
    ]);
  });

  it('grouped by service, each service has its own bounds; without it the bounds sum over the services read', async () => {
    const range = { from: BOUNDS, to: BOUNDS + MIN, granularity: 'all', metrics: ['requests', 'requests_error'] };
    const byService = await query({ ...range, groupBy: ['service', 'path'] });
    expect(byService.rows).toEqual([
      { service: MEDIA, path: '/x', requests: 1000, requests_error: errorOf(0, 500, 5000, 2000) },
      { service: MEDIA, path: '/m', requests: 700, requests_error: errorOf(1, 500, 5000, 2000) },
      { service: SHOP, path: '/x', requests: 50, requests_error: errorOf(5, 20, 110, 100) },
      { service: SHOP, path: '/y', requests: 30, requests_error: errorOf(10, 20, 110, 100) },
    ]);
    const merged = await query({ ...range, groupBy: ['path'] });
    const both = { m: 520, r: 5110, n: 2100 };
    expect(merged.rows).toEqual([
      { path: '/x', requests: 1050, requests_error: errorOf(5, both.m, both.r, both.n) },
      { path: '/m', requests: 700, requests_error: errorOf(1, both.m, both.r, both.n) },
      { path: '/y', requests: 30, requests_error: errorOf(10, both.m, both.r, both.n) },
    ]);
  });
});

describe('isolation', () => {
  it("a token granted only shop never sees media's values nor media's counts in the bounds", async () => {
    const shopReader = await h.token('shop-top-reader', [SHOP], ['read']);
    const q = { from: BOUNDS, to: BOUNDS + 2 * MIN, granularity: 'all', metrics: ['requests', 'requests_error'], groupBy: ['path'] };
    const asAdmin = await query({ ...q, filters: [{ field: 'service', op: 'eq', value: SHOP }] });
    const mine = await query(q, shopReader.secret);
    expect(mine.rows).toEqual(asAdmin.rows);
    expect(mine.rows.map((r) => r['path'])).not.toContain('/m');
    expect(mine.rows.find((r) => r['path'] === '/x')).toEqual({ path: '/x', requests: 90, requests_error: 45 });
    const naming = await query({ ...q, filters: [{ field: 'service', op: 'in', value: [MEDIA, SHOP] }] }, shopReader.secret);
    expect(naming.rows).toEqual(mine.rows);
    const grouped = await query({ ...q, groupBy: ['service', 'path'] }, shopReader.secret);
    expect(new Set(grouped.rows.map((r) => r['service']))).toEqual(new Set([SHOP]));
    const other = await query({ ...q, filters: [{ field: 'service', op: 'eq', value: MEDIA }] }, shopReader.secret);
    expect(other.rows).toEqual([]);
    const notShop = await query({ ...q, filters: [{ field: 'service', op: 'not_in', value: [SHOP] }] }, shopReader.secret);
    expect(notShop.rows).toEqual([]);
  });
});

interface ValueFilter {
  field: string;
  op: string;
  value: string | string[];
}

describe('random parts of two services (fast-check)', () => {
  const PATHS = ['/', '/a', '/a/b', '/b', '/img/1.png', '/img/2.png'];
  const MINUTES = 3;
  const itemArb = fc.record({ value: fc.constantFrom(...PATHS), count: fc.integer({ min: 1, max: 60 }) }).chain((i) => fc.record({ value: fc.constant(i.value), count: fc.constant(i.count), error: fc.integer({ min: 0, max: i.count }) }));
  const partArb = fc.record({
    service: fc.constantFrom(SHOP, MEDIA),
    minute: fc.nat(MINUTES - 1),
    items: fc.uniqueArray(itemArb, { selector: (i) => i.value, maxLength: 5 }),
    extraCounted: fc.nat(30),
    unlisted: fc.nat(40),
  });
  const caseArb = fc.record({
    parts: fc.array(partArb, { maxLength: 8 }),
    // Edge requests per (service, minute) beyond what the parts counted (a part lost, or none written).
    uncounted: fc.array(fc.nat(25), { minLength: 2 * MINUTES, maxLength: 2 * MINUTES }),
    groupBy: fc.constantFrom<string[]>(['path'], ['service', 'path']),
    granularity: fc.constantFrom('1m', 'all'),
    limit: fc.option(fc.integer({ min: 1, max: 4 })),
    filter: fc.option(fc.constantFrom<ValueFilter>({ field: 'path', op: 'prefix', value: '/img' }, { field: 'path', op: 'in', value: ['/a', '/b', '/none'] }, { field: 'path', op: 'not_in', value: ['/'] }, { field: 'service', op: 'eq', value: MEDIA })),
  });

  const keep = (f: ValueFilter | null, service: string, path: string): boolean => {
    if (f === null) return true;
    const v = f.field === 'service' ? service : path;
    if (f.op === 'prefix') return v.startsWith(f.value as string);
    const values = Array.isArray(f.value) ? f.value : [f.value];
    return values.includes(v) === (f.op !== 'not_in');
  };

  it('every row is topValueOf of the sums, and orderBy/limit keep the largest', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const slot = PROPERTY + run++ * 600;
        const parts: PartSpec[] = c.parts.map((p) => ({ service: p.service, minute: slot + p.minute * MIN, items: p.items, counted: p.items.reduce((s, i) => s + i.count, 0) - p.items.reduce((s, i) => s + i.error, 0) + p.extraCounted, unlisted: p.unlisted }));
        const services = [SHOP, MEDIA];
        const edge: EdgeRecord[] = [];
        const requests = new Map<string, number>();
        services.forEach((service, s) => {
          for (let m = 0; m < MINUTES; m++) {
            const counted = parts.filter((p) => p.service === service && p.minute === slot + m * MIN).reduce((sum, p) => sum + p.counted, 0);
            const r = counted + (c.uncounted[s * MINUTES + m] ?? 0);
            requests.set(`${service}|${m}`, r);
            if (r > 0) edge.push(requestsIn(service, slot + m * MIN, r));
          }
        });
        await write(parts, edge);

        // The answer computed here: sums per (bucket, [service], value) and per (bucket, [service]).
        const byService = c.groupBy.includes('service');
        const bucketOf = (minute: number): number => (c.granularity === 'all' ? slot : minute);
        const readServices = services.filter((s) => keep(c.filter?.field === 'service' ? c.filter : null, s, ''));
        const sums = new Map<string, { bucket: number; service: string; path: string; count: number; error: number }>();
        const bounds = new Map<string, { counted: number; unlisted: number; requests: number }>();
        const boundOf = (bucket: number, service: string) => {
          const k = `${bucket}|${service}`;
          if (!bounds.has(k)) bounds.set(k, { counted: 0, unlisted: 0, requests: 0 });
          return bounds.get(k)!;
        };
        for (const p of parts) {
          if (!readServices.includes(p.service)) continue;
          const owner = byService ? p.service : '';
          const b = boundOf(bucketOf(p.minute), owner);
          b.counted += p.counted;
          b.unlisted += p.unlisted;
          for (const i of p.items) {
            if (!keep(c.filter?.field === 'path' ? c.filter : null, p.service, i.value)) continue;
            const k = `${bucketOf(p.minute)}|${owner}|${i.value}`;
            const s = sums.get(k) ?? { bucket: bucketOf(p.minute), service: owner, path: i.value, count: 0, error: 0 };
            s.count += i.count;
            s.error += i.error;
            sums.set(k, s);
          }
        }
        for (const service of readServices) for (let m = 0; m < MINUTES; m++) boundOf(bucketOf(slot + m * MIN), byService ? service : '').requests += requests.get(`${service}|${m}`) ?? 0;
        const cells = [...sums.values()].map((s) => ({ ...s, ...topValueOf(s, bounds.get(`${s.bucket}|${s.service}`)!) }));
        const groupKey = (s: { service: string; path: string }): string[] => (byService ? [s.service, s.path] : [s.path]);
        const totals = new Map<string, number>();
        for (const s of cells) totals.set(groupKey(s).join('|'), (totals.get(groupKey(s).join('|')) ?? 0) + s.requests);
        const ranked = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || compareGroups(a.split('|'), b.split('|')));
        const kept = ranked.slice(0, c.limit ?? ranked.length);
        const want = cells
          .filter((s) => kept.includes(groupKey(s).join('|')))
          .sort((x, y) => x.bucket - y.bucket || kept.indexOf(groupKey(x).join('|')) - kept.indexOf(groupKey(y).join('|')))
          .map((s) => ({ ...(c.granularity === 'all' ? {} : { time: s.bucket }), ...(byService ? { service: s.service } : {}), path: s.path, requests: s.requests, requests_error: s.requests_error }));

        const a = await query({
          from: slot,
          to: slot + MINUTES * MIN,
          granularity: c.granularity,
          metrics: ['requests', 'requests_error'],
          groupBy: c.groupBy,
          ...(c.limit === null ? {} : { limit: c.limit }),
          ...(c.filter === null ? {} : { filters: [c.filter] }),
        });
        expect(a.rows).toEqual(want);
        expect(a.rows.some((r) => r['path'] === TOP_VALUES_BOUND)).toBe(false);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

const compareGroups = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as string) < (b[i] as string) ? -1 : 1;
  return 0;
};

describe('client_ip', () => {
  it('is served like path, and never together with it', async () => {
    const minute = EXACT + 30 * MIN;
    await write([{ service: SHOP, minute, dimension: 'client_ip', items: [{ value: '192.0.2.1', count: 8, error: 2 }, { value: '2001:db8::1', count: 3, error: 0 }], counted: 11, unlisted: 1 }], [requestsIn(SHOP, minute, 11)]);
    const a = await query({ from: minute, to: minute + MIN, granularity: '1m', metrics: ['requests_error', 'requests'], groupBy: ['service', 'client_ip'] });
    expect(a.rows).toEqual([
      { time: minute, service: SHOP, client_ip: '192.0.2.1', requests_error: 2, requests: 8 },
      { time: minute, service: SHOP, client_ip: '2001:db8::1', requests_error: 1, requests: 3 },
    ]);
    // The path list of that minute is empty: the dimensions are kept apart.
    expect((await query({ from: minute, to: minute + MIN, granularity: '1m', metrics: ['requests'], groupBy: ['path'] })).rows).toEqual([]);
  });
});

describe('400s', () => {
  it.each([
    [{ groupBy: ['path'], metrics: ['edge_hit_ratio'] }, /metrics\/0: edge_hit_ratio is not one of the top values/],
    [{ groupBy: ['path'], metrics: ['requests'], granularity: '1s' }, /granularity: top values are counted per minute/],
    [{ groupBy: ['path', 'client_ip'], metrics: ['requests'] }, /path and client_ip cannot be combined/],
    [{ groupBy: ['path'], metrics: ['requests'], filters: [{ field: 'client_ip', op: 'eq', value: '192.0.2.1' }] }, /path and client_ip cannot be combined/],
    [{ groupBy: ['service'], metrics: ['requests'], filters: [{ field: 'path', op: 'eq', value: '/' }] }, /groupBy: a query on path must group by path/],
    [{ groupBy: ['path', 'datacenter'], metrics: ['requests'] }, /groupBy\/1: top values \(path, client_ip\) cannot be grouped by datacenter/],
    [{ groupBy: ['status'], metrics: ['requests_error'] }, /metrics\/0: requests_error is not one of the status and method breakdowns/],
  ])('%j', async (body, detail) => {
    const res = await h.inject({ method: 'POST', url: '/rtm/v1/query', payload: { from: EXACT, to: EXACT + 2 * MIN, ...body }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('RTM_ERR_REQUEST_BAD_PARAM');
    expect(res.json().error.detail).toMatch(detail);
  });
});
