import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EDGE_FIELDS } from '../../model/fields.ts';
import type { DimensionRecord, EdgeRecord, RecordSet } from '../../model/record.ts';
import type { Catalog } from '../catalog.ts';
import { CATALOG_ID_MAX, CATALOG_ID_MIN, createDuckDbCatalog, sequentialIds } from './catalog-store.ts';
import { openDuckDb, type DuckDb } from './database.ts';
import { describeCatalogConformance } from '../catalog-store-conformance.ts';
import { reopenableOnDuckDbFile } from './reopenable-file.ts';

const edge = (service: string, domain: string, product = 'edge_application', second = 1000): EdgeRecord => ({
  second,
  service,
  datacenter: 'FRA',
  domain,
  product,
  values: new Float64Array(EDGE_FIELDS.length),
});

const records = (...edgeRecords: EdgeRecord[]): RecordSet => ({ edge: edgeRecords, origin: [], dimension: [] });

describe('DuckDB catalog', () => {
  let dir: string;
  let file: string;
  let db: DuckDb;
  let catalog: Catalog;

  const reopen = async (): Promise<void> => {
    await catalog.close();
    db.close();
    db = await openDuckDb(file);
    catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-catalog-'));
    file = path.join(dir, 'rtmetrics.duckdb');
    db = await openDuckDb(file);
    catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
  });

  afterEach(async () => {
    await catalog.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers services and domains on first sight with ids from one shared space', async () => {
    await catalog.observe(records(edge('shop', 'www.shop.com'), edge('shop', 'img.shop.com'), edge('blog', 'blog.io', 'edge_functions')));
    expect(await catalog.services()).toEqual([
      {
        id: 1,
        service: 'shop',
        name: 'shop',
        products: ['edge_application'],
        domains: [
          { id: 2, domain: 'www.shop.com', products: ['edge_application'] },
          { id: 3, domain: 'img.shop.com', products: ['edge_application'] },
        ],
      },
      { id: 4, service: 'blog', name: 'blog', products: ['edge_functions'], domains: [{ id: 5, domain: 'blog.io', products: ['edge_functions'] }] },
    ]);
    expect(await catalog.resolve(1)).toMatchObject({ kind: 'service', service: { service: 'shop' } });
    expect(await catalog.resolve(3)).toMatchObject({ kind: 'domain', service: { service: 'shop' }, domain: { domain: 'img.shop.com' } });
    expect(await catalog.resolve(6)).toBeUndefined();
  });

  it('registers from dimension records too, and adds products to known domains', async () => {
    await catalog.observe(records(edge('shop', 'www.shop.com')));
    const dim: DimensionRecord = {
      second: 5,
      service: 'shop',
      domain: 'www.shop.com',
      product: 'image_processor',
      dimension: 'method',
      value: 'GET',
      count: 1,
      bytes: 10,
    };
    await catalog.observe({ edge: [], origin: [], dimension: [dim] });
    const [shop] = await catalog.services();
    expect(shop?.products).toEqual(['edge_application', 'image_processor']);
    expect(shop?.domains).toEqual([{ id: 2, domain: 'www.shop.com', products: ['edge_application', 'image_processor'] }]);
  });

  it('is idempotent: observing the same records again changes nothing', async () => {
    const set = records(edge('shop', 'www.shop.com'), edge('shop', 'www.shop.com', 'edge_application', 1001));
    await catalog.observe(set);
    const before = await catalog.services();
    await catalog.observe(set);
    await Promise.all([catalog.observe(set), catalog.observe(records(edge('shop', 'api.shop.com')))]);
    const after = await catalog.services();
    expect(after[0]?.domains.map((d) => d.id)).toEqual([2, 3]);
    expect(after[0]?.domains[0]).toEqual(before[0]?.domains[0]);
  });

  it('concurrent observes of the same new keys register them once', async () => {
    const set = records(edge('a', 'a.com'), edge('b', 'b.com'));
    await Promise.all([catalog.observe(set), catalog.observe(set), catalog.observe(set)]);
    expect((await catalog.services()).map((s) => [s.id, s.service, s.domains.map((d) => d.id)])).toEqual([
      [1, 'a', [2]],
      [3, 'b', [4]],
    ]);
  });

  it('keeps ids and names across a reopen, and never reuses an id', async () => {
    await catalog.observe(records(edge('shop', 'www.shop.com'), edge('blog', 'blog.io')));
    expect(await catalog.rename('shop', 'My Shop')).toMatchObject({ id: 1, name: 'My Shop' });
    await reopen();
    expect((await catalog.services()).map((s) => [s.id, s.service, s.name])).toEqual([
      [1, 'shop', 'My Shop'],
      [3, 'blog', 'blog'],
    ]);
    await catalog.observe(records(edge('shop', 'new.shop.com'), edge('news', 'news.io', 'live_streaming')));
    const services = await catalog.services();
    expect(services.map((s) => [s.id, s.service])).toEqual([
      [1, 'shop'],
      [3, 'blog'],
      [6, 'news'],
    ]);
    expect(services[0]?.domains.map((d) => [d.id, d.domain])).toEqual([
      [2, 'www.shop.com'],
      [5, 'new.shop.com'],
    ]);
    expect(services[2]?.domains.map((d) => d.id)).toEqual([7]);
  });

  it('rename of an unknown service answers undefined', async () => {
    expect(await catalog.rename('nope', 'x')).toBeUndefined();
  });

  it('registers a burst of many new keys in one write', async () => {
    const many: EdgeRecord[] = [];
    for (let s = 0; s < 40; s++) for (let d = 0; d < 20; d++) many.push(edge(`svc${s}`, `d${d}.svc${s}.com`));
    await catalog.observe(records(...many));
    await reopen();
    const services = await catalog.services();
    expect(services).toHaveLength(40);
    expect(services.every((s) => s.domains.length === 20)).toBe(true);
    const ids = services.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);
    expect(new Set(ids).size).toBe(40 * 21);
  });

  describe('ids by default', () => {
    it('are random in the id space, unique across services and domains, and stable across a reopen', async () => {
      const random = await createDuckDbCatalog({ db });
      try {
        // Tenant A's 100 services, one domain each, then tenant B's first service.
        await random.observe(records(...Array.from({ length: 100 }, (_, i) => edge(`a${i}`, `www.a${i}.example`))));
        await random.observe(records(edge('b0', 'www.b0.example')));
        const services = await random.services();
        expect(services.map((s) => s.service)).toEqual([...Array.from({ length: 100 }, (_, i) => `a${i}`), 'b0']);
        const ids = services.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);
        expect(new Set(ids).size).toBe(202);
        for (const id of ids) {
          expect(Number.isSafeInteger(id)).toBe(true);
          expect(id).toBeGreaterThanOrEqual(CATALOG_ID_MIN);
          expect(id).toBeLessThanOrEqual(CATALOG_ID_MAX);
        }
        // Nothing in B's ids counts A's services: not a sequence, spread over the whole space.
        const b = services.at(-1);
        expect(b?.domains[0]?.id).not.toBe((b?.id ?? 0) + 1);
        const gaps = ids.slice(1).map((id, i) => id - (ids[i] ?? 0));
        expect(gaps.filter((g) => g === 1).length).toBeLessThan(3);
        const middle = (CATALOG_ID_MIN + CATALOG_ID_MAX) / 2;
        expect(ids.some((id) => id < middle) && ids.some((id) => id > middle)).toBe(true);
        expect(await random.resolve(b?.id ?? 0)).toMatchObject({ kind: 'service', service: { service: 'b0' } });
      } finally {
        await random.close();
      }
      const before = await (async () => {
        const again = await createDuckDbCatalog({ db });
        try {
          return await again.services();
        } finally {
          await again.close();
        }
      })();
      await reopen();
      expect(await catalog.services()).toEqual(before);
    });
  });
});

describeCatalogConformance('duckdb', () => reopenableOnDuckDbFile('rtm-catalog-conformance-', (db) => createDuckDbCatalog({ db })));
