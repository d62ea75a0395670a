/**
 * The shared ClickHouse catalog against a private clickhouse-server (18.16 from Debian): the
 * Catalog conformance suite; two catalog objects on one database (two nodes) that observe the
 * same new names at the same moment settle on the same ids, which are the derived ones; a forced
 * collision (a hash that maps two names to one id) resolves the same way on both; a rename shows
 * on the other within its refresh; a node's own ids from its file are adopted where free; with
 * ClickHouse away the last catalog stays and a new name waits, then gets its id.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeClock } from '../src/model/clock.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import type { EdgeRecord, RecordSet } from '../src/model/record.ts';
import { CATALOG_ID_MAX, CATALOG_ID_MIN, type CatalogService } from '../src/store/catalog.ts';
import { describeCatalogConformance } from '../src/store/catalog-store-conformance.ts';
import { openingOf, reopenable } from '../src/store/reopenable.ts';
import { canonicalName, domainName, serviceName, sha256CatalogId, type IdHash } from '../src/store/clickhouse/catalog-ids.ts';
import { createClickHouseCatalog, type ClickHouseCatalog, type ClickHouseCatalogOptions } from '../src/store/clickhouse/catalog-store.ts';
import { CATALOG_CLAIMS_TABLE, insertClaims } from '../src/store/clickhouse/catalog-tables.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

let server: Promise<ClickHouseServer> | undefined;
const clickhouse = (): Promise<ClickHouseServer> => (server ??= startClickHouseServer());
afterAll(async () => {
  await (await server)?.stop();
});

let databases = 0;
const freshDatabase = (): string => `rtm_catalog_${process.pid}_${++databases}`;
const clock = createFakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));

const edge = (service: string, domain: string, product = 'edge_application'): EdgeRecord => ({ second: 1000, service, datacenter: 'FRA', domain, product, values: new Float64Array(EDGE_FIELDS.length) });
const records = (...edgeRecords: EdgeRecord[]): RecordSet => ({ edge: edgeRecords, origin: [], dimension: [] });
/** [service, id, [[domain, id]...]] by service key: what two nodes must agree on. */
const idTable = (services: readonly CatalogService[]): unknown =>
  [...services].sort((a, b) => a.service.localeCompare(b.service)).map((s) => [s.service, s.id, s.domains.map((d) => [d.domain, d.id]).sort()]);

/** A hash that sends attempt 0 of every service to `id` (domains and later attempts: the real one). */
const collideServicesOn =
  (id: number): IdHash =>
  (canonical, attempt) =>
    attempt === 0 && canonical.startsWith('service\u0000') ? id : sha256CatalogId(canonical, attempt);

describeCatalogConformance('clickhouse', async () => {
  const { url } = await clickhouse();
  const database = freshDatabase();
  const openOne = (): Promise<ClickHouseCatalog> => createClickHouseCatalog({ conn: createClickHouseConnection({ url, database }), clock, nodeId: 'node-a', refreshMs: 3_600_000 });
  return reopenable(async () => openingOf(await openOne()));
});

describe('ClickHouse catalog shared by nodes', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  /** A catalog on `database` (a node); refreshes only when told unless `refreshMs` is given. */
  const open = async (database: string, nodeId: string, extra: Partial<ClickHouseCatalogOptions> = {}, url?: string): Promise<ClickHouseCatalog> => {
    const conn = createClickHouseConnection({ url: url ?? (await clickhouse()).url, database });
    const catalog = await createClickHouseCatalog({ conn, clock, nodeId, refreshMs: 3_600_000, ...extra });
    opened.push(catalog);
    return catalog;
  };

  it('two nodes observing the same new names at once settle on the same derived, in-range ids', async () => {
    const db = freshDatabase();
    const [a, b] = await Promise.all([open(db, 'node-a'), open(db, 'node-b')]);
    const set = records(edge('shop', 'www.shop.com'), edge('shop', 'img.shop.com'), edge('news', 'news.io', 'live_streaming'));
    await Promise.all([a.observe(set), b.observe(set)]);
    await Promise.all([a.refresh(), b.refresh()]);
    const onA = await a.services();
    expect(idTable(await b.services())).toEqual(idTable(onA));
    // The ids are H(name, 0): what any node computes for these names.
    const shop = onA.find((s) => s.service === 'shop');
    expect(shop?.id).toBe(sha256CatalogId(canonicalName(serviceName('shop')), 0));
    expect(shop?.domains.find((d) => d.domain === 'img.shop.com')?.id).toBe(sha256CatalogId(canonicalName(domainName('shop', 'img.shop.com')), 0));
    const ids = onA.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(id >= CATALOG_ID_MIN && id <= CATALOG_ID_MAX).toBe(true);
    // A third node started later reads the same.
    const c = await open(db, 'node-c');
    expect(idTable(await c.services())).toEqual(idTable(onA));
  });

  it('a forced collision: two names hashed to one id, claimed at once on two nodes, are settled the same on both', async () => {
    const db = freshDatabase();
    const SHARED = 1_234_567_890;
    // Every service's first attempt lands on one id; the rest is the real hash.
    const colliding = collideServicesOn(SHARED);
    const [a, b] = await Promise.all([open(db, 'node-a', { hash: colliding }), open(db, 'node-b', { hash: colliding })]);
    // Each node sees a different new service at the same moment: both claim SHARED.
    await Promise.all([a.observe(records(edge('zeta', 'z.io'))), b.observe(records(edge('alpha', 'a.io')))]);
    await Promise.all([a.refresh(), b.refresh()]);
    const onA = await a.services();
    expect(idTable(await b.services())).toEqual(idTable(onA));
    // Every name has exactly one id, all distinct, SHARED held by one of them.
    const ids = onA.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);
    expect(onA.map((s) => s.service).sort()).toEqual(['alpha', 'zeta']);
    expect(new Set(ids).size).toBe(4);
    expect(ids.filter((id) => id === SHARED)).toHaveLength(1);
    const holder = await a.resolve(SHARED);
    expect(await b.resolve(SHARED)).toEqual(holder);
    // The claim table names SHARED more than once (the collision happened), yet one name holds it.
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database: db });
    try {
      const claimants = (await conn.rows(`SELECT DISTINCT service FROM ${db}.${CATALOG_CLAIMS_TABLE} WHERE id = ${SHARED} ORDER BY service`)).map((r) => r[0]);
      // Both claimed it at once: the smaller canonical name ("service\0alpha") keeps it.
      // Otherwise one saw the other's claim first and moved on without claiming.
      if (claimants.length === 2) expect(holder).toMatchObject({ kind: 'service', service: { service: 'alpha' } });
      else expect(claimants).toHaveLength(1);
      expect(holder).toMatchObject({ kind: 'service', service: { service: claimants[0] } });
    } finally {
      await conn.close();
    }
  });

  it('two claims of one id that landed together: both nodes give it to the smaller name, the other takes its next attempt', async () => {
    const db = freshDatabase();
    const SHARED = 1_400_000_003;
    const colliding = collideServicesOn(SHARED);
    const a = await open(db, 'node-a', { hash: colliding });
    // What two nodes leave when both read "no claim" and then both insert (the window of a race).
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database: db });
    try {
      await insertClaims(conn, [{ ...serviceName('zeta'), id: SHARED, attempt: 0 }], { nowMs: clock.now(), node: 'node-z' });
      await insertClaims(conn, [{ ...serviceName('alpha'), id: SHARED, attempt: 0 }], { nowMs: clock.now(), node: 'node-y' });
    } finally {
      await conn.close();
    }
    await a.observe(records(edge('zeta', 'z.io'), edge('alpha', 'a.io')));
    const b = await open(db, 'node-b', { hash: colliding });
    for (const c of [a, b]) {
      const services = await c.services();
      expect(services.find((s) => s.service === 'alpha')?.id).toBe(SHARED);
      expect(services.find((s) => s.service === 'zeta')?.id).toBe(sha256CatalogId(canonicalName(serviceName('zeta')), 1));
    }
  });

  it('a name that settled before a concurrent claim of its id landed moves on at the next refresh, with no new event', async () => {
    const db = freshDatabase();
    const SHARED = 1_500_000_007;
    const colliding = collideServicesOn(SHARED);
    const a = await open(db, 'node-a', { hash: colliding });
    await a.observe(records(edge('zeta', 'z.io')));
    // The window: zeta holds SHARED on node A ...
    expect((await a.services()).map((s) => [s.service, s.id])).toEqual([['zeta', SHARED]]);
    // ... until the claim of a node that read "free" just before zeta's insert lands.
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database: db });
    try {
      await insertClaims(conn, [{ ...serviceName('alpha'), id: SHARED, attempt: 0 }], { nowMs: clock.now(), node: 'node-y' });
    } finally {
      await conn.close();
    }
    await a.refresh();
    const zeta1 = sha256CatalogId(canonicalName(serviceName('zeta')), 1);
    const expected = [
      ['alpha', SHARED, []],
      ['zeta', zeta1, [['z.io', sha256CatalogId(canonicalName(domainName('zeta', 'z.io')), 0)]]],
    ];
    expect(idTable(await a.services())).toEqual(expected);
    expect(await a.resolve(zeta1)).toMatchObject({ kind: 'service', service: { service: 'zeta', domains: [{ domain: 'z.io', products: ['edge_application'] }] } });
    // A node opened now reads the same.
    const b = await open(db, 'node-b', { hash: colliding });
    expect(idTable(await b.services())).toEqual(expected);
  });

  it('a collision with a name that already holds the id moves the newcomer to its next attempt', async () => {
    const db = freshDatabase();
    const SHARED = 1_300_000_001;
    const colliding = collideServicesOn(SHARED);
    const a = await open(db, 'node-a', { hash: colliding });
    // "zeta" first: it holds SHARED (as a service) though "alpha" sorts before it.
    await a.observe(records(edge('zeta', 'z.io')));
    const b = await open(db, 'node-b', { hash: colliding });
    await b.observe(records(edge('alpha', 'a.io')));
    await a.refresh();
    for (const c of [a, b]) {
      const services = await c.services();
      expect(services.find((s) => s.service === 'zeta')?.id).toBe(SHARED);
      expect(services.find((s) => s.service === 'alpha')?.id).toBe(sha256CatalogId(canonicalName(serviceName('alpha')), 1));
    }
  });

  it('observe() of names already known sends no request to ClickHouse', async () => {
    const db = freshDatabase();
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database: db });
    let requests = 0;
    const counted = {
      ...conn,
      rows: (...args: Parameters<typeof conn.rows>) => (requests++, conn.rows(...args)),
      insert: (...args: Parameters<typeof conn.insert>) => (requests++, conn.insert(...args)),
    };
    const a = await createClickHouseCatalog({ conn: counted, clock, nodeId: 'node-a', refreshMs: 3_600_000 });
    opened.push(a);
    const set = records(edge('shop', 'www.shop.com'), edge('shop', 'img.shop.com'));
    await a.observe(set);
    const afterFirst = requests;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) await a.observe(set);
    expect(requests).toBe(afterFirst);
    // A new product of a known domain is one insert, no claim.
    await a.observe(records(edge('shop', 'www.shop.com', 'image_processor')));
    expect(requests).toBe(afterFirst + 1);
  });

  it('a rename on one node shows on the other within its refresh', async () => {
    const db = freshDatabase();
    const a = await open(db, 'node-a');
    const b = await open(db, 'node-b', { refreshMs: 100 });
    await a.observe(records(edge('shop', 'www.shop.com')));
    await vi.waitFor(async () => expect((await b.services()).map((s) => s.name)).toEqual(['shop']), { timeout: 3000, interval: 50 });
    expect(await a.rename('shop', 'My Shop')).toMatchObject({ service: 'shop', name: 'My Shop' });
    await vi.waitFor(async () => expect((await b.services()).map((s) => s.name)).toEqual(['My Shop']), { timeout: 3000, interval: 50 });
    // The later rename wins, wherever it was made.
    await b.rename('shop', 'Shop 2');
    await a.refresh();
    expect((await a.services()).map((s) => s.name)).toEqual(['Shop 2']);
  });

  it("adopts a node's own ids (from its file) where the name and the id are free; the first node to start wins", async () => {
    const db = freshDatabase();
    const local = (service: string, id: number, domains: [string, number][], name = service): CatalogService => ({
      id,
      service,
      name,
      products: ['edge_application'],
      domains: domains.map(([domain, did]) => ({ id: did, domain, products: ['edge_application'] })),
    });
    const a = await open(db, 'node-a', { adopt: [local('shop', 1_111_111_111, [['www.shop.com', 1_111_111_112]], 'The Shop')] });
    // Node B had the same service under other ids, and another service whose id A's shop took.
    const b = await open(db, 'node-b', { adopt: [local('shop', 1_999_999_999, [['www.shop.com', 1_999_999_998]]), local('blog', 1_111_111_111, [['blog.io', 1_888_888_888]])] });
    await a.refresh();
    for (const c of [a, b]) {
      const services = await c.services();
      expect(idTable(services)).toEqual([
        ['blog', sha256CatalogId(canonicalName(serviceName('blog')), 0), [['blog.io', 1_888_888_888]]],
        ['shop', 1_111_111_111, [['www.shop.com', 1_111_111_112]]],
      ]);
      expect(services.find((s) => s.service === 'shop')?.name).toBe('The Shop');
      expect(await c.resolve(1_999_999_999)).toBeUndefined();
    }
  });

  it('with ClickHouse away, keeps the catalog read last and lists a new name only once its id is claimed', async () => {
    const own = await startClickHouseServer();
    opened.push({ close: () => own.stop() });
    const db = freshDatabase();
    const errors: unknown[] = [];
    const a = await open(db, 'node-a', { refreshMs: 100, refreshTimeoutMs: 500, onError: (err) => errors.push(err) }, own.url);
    await a.observe(records(edge('shop', 'www.shop.com')));
    const before = await a.services();
    await own.kill();
    await a.observe(records(edge('news', 'news.io')));
    expect(await a.services()).toEqual(before);
    expect(a.waiting()).toBe(1);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5000, interval: 50 });
    await own.restart();
    // Retried by the refresh, with no new event of "news".
    await vi.waitFor(
      async () => {
        expect((await a.services()).map((s) => [s.service, s.products]).sort()).toEqual([
          ['news', ['edge_application']],
          ['shop', ['edge_application']],
        ]);
        expect(a.waiting()).toBe(0);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect((await a.services()).find((s) => s.service === 'news')?.id).toBe(sha256CatalogId(canonicalName(serviceName('news')), 0));
  });
});
