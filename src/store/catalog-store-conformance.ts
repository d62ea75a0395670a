/**
 * The behaviour every Catalog must show, as vitest cases: DuckDB (one node's file, random ids)
 * and ClickHouse (shared by the nodes, derived ids) register, list, resolve and rename the same
 * way. Ids are compared with each other, never with fixed numbers: each engine draws its own.
 * Each engine's test file calls describeCatalogConformance with a factory for a fresh, empty catalog.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EDGE_FIELDS } from '../model/fields.ts';
import type { DimensionRecord, EdgeRecord, RecordSet } from '../model/record.ts';
import type { Catalog, CatalogService } from './catalog.ts';
import type { Reopenable } from './reopenable.ts';

export type OpenedCatalog = Reopenable<Catalog>;

const edge = (service: string, domain: string, product = 'edge_application'): EdgeRecord => ({
  second: 1000,
  service,
  datacenter: 'FRA',
  domain,
  product,
  values: new Float64Array(EDGE_FIELDS.length),
});
const records = (...edgeRecords: EdgeRecord[]): RecordSet => ({ edge: edgeRecords, origin: [], dimension: [] });
/** Services by key, without ids (each engine has its own). */
const shapeOf = (services: readonly CatalogService[]): unknown =>
  [...services].sort((a, b) => a.service.localeCompare(b.service)).map((s) => ({ service: s.service, name: s.name, products: s.products, domains: s.domains.map((d) => [d.domain, d.products]).sort() }));
const idsOf = (services: readonly CatalogService[]): number[] => services.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);

export function describeCatalogConformance(name: string, open: () => Promise<OpenedCatalog>): void {
  describe(`Catalog conformance: ${name}`, () => {
    const opened: OpenedCatalog[] = [];
    const fresh = async (): Promise<OpenedCatalog> => {
      const o = await open();
      opened.push(o);
      return o;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });

    it('registers services and domains on first sight, with distinct ids from one space, resolvable by id', async () => {
      const { current: catalog } = await fresh();
      await catalog.observe(records(edge('shop', 'www.shop.com'), edge('shop', 'img.shop.com'), edge('blog', 'blog.io', 'edge_functions')));
      const services = await catalog.services();
      expect(shapeOf(services)).toEqual([
        { service: 'blog', name: 'blog', products: ['edge_functions'], domains: [['blog.io', ['edge_functions']]] },
        { service: 'shop', name: 'shop', products: ['edge_application'], domains: [['img.shop.com', ['edge_application']], ['www.shop.com', ['edge_application']]] },
      ]);
      const shop = services.find((s) => s.service === 'shop');
      const blog = services.find((s) => s.service === 'blog');
      expect(shop?.domains.map((d) => d.domain).sort()).toEqual(['img.shop.com', 'www.shop.com']);
      expect(blog?.domains.map((d) => [d.domain, d.products])).toEqual([['blog.io', ['edge_functions']]]);
      expect(shop?.products).toEqual(['edge_application']);
      expect(shop?.name).toBe('shop');
      const ids = idsOf(services);
      expect(new Set(ids).size).toBe(5);
      const img = shop?.domains.find((d) => d.domain === 'img.shop.com');
      expect(await catalog.resolve(shop?.id ?? -1)).toMatchObject({ kind: 'service', service: { service: 'shop' } });
      expect(await catalog.resolve(img?.id ?? -1)).toMatchObject({ kind: 'domain', service: { service: 'shop' }, domain: { domain: 'img.shop.com' } });
      expect(await catalog.resolve(Math.max(...ids) + 1)).toBeUndefined();
    });

    it('adds the products of dimension records to known domains', async () => {
      const { current: catalog } = await fresh();
      await catalog.observe(records(edge('shop', 'www.shop.com')));
      const dim: DimensionRecord = { second: 5, service: 'shop', domain: 'www.shop.com', product: 'image_processor', dimension: 'method', value: 'GET', count: 1, bytes: 10 };
      const before = (await catalog.services())[0];
      await catalog.observe({ edge: [], origin: [], dimension: [dim] });
      const [shop] = await catalog.services();
      expect(shop?.products).toEqual(['edge_application', 'image_processor']);
      expect(shop?.domains).toEqual([{ id: before?.domains[0]?.id, domain: 'www.shop.com', products: ['edge_application', 'image_processor'] }]);
    });

    it('is idempotent, and concurrent observes of the same new names register them once', async () => {
      const { current: catalog } = await fresh();
      const set = records(edge('a', 'a.com'), edge('b', 'b.com'));
      await Promise.all([catalog.observe(set), catalog.observe(set), catalog.observe(set)]);
      const first = await catalog.services();
      expect(first.map((s) => [s.service, s.domains.length]).sort()).toEqual([
        ['a', 1],
        ['b', 1],
      ]);
      await catalog.observe(set);
      expect(await catalog.services()).toEqual(first);
    });

    it('keeps ids and display names across a reopen, and never gives a taken id to a new name', async () => {
      const o = await fresh();
      await o.current.observe(records(edge('shop', 'www.shop.com'), edge('blog', 'blog.io')));
      expect(await o.current.rename('shop', 'My Shop')).toMatchObject({ service: 'shop', name: 'My Shop' });
      const before = await o.current.services();
      const reopened = await o.reopen();
      expect(await reopened.services()).toEqual(before);
      await reopened.observe(records(edge('shop', 'new.shop.com'), edge('news', 'news.io', 'live_streaming')));
      const after = await reopened.services();
      expect(after.find((s) => s.service === 'shop')?.name).toBe('My Shop');
      const oldIds = idsOf(before);
      const newIds = idsOf(after).filter((id) => !oldIds.includes(id));
      expect(newIds).toHaveLength(3);
      expect(new Set(idsOf(after)).size).toBe(7);
      expect(idsOf(after)).toEqual(expect.arrayContaining(oldIds));
    });

    it('rename of an unknown service answers undefined', async () => {
      const { current: catalog } = await fresh();
      expect(await catalog.rename('nope', 'x')).toBeUndefined();
    });

    it('registers a burst of many new names in one write, all distinct, kept across a reopen', async () => {
      const o = await fresh();
      const many: EdgeRecord[] = [];
      for (let s = 0; s < 40; s++) for (let d = 0; d < 20; d++) many.push(edge(`svc${s}`, `d${d}.svc${s}.com`));
      await o.current.observe(records(...many));
      const before = await o.current.services();
      const services = await (await o.reopen()).services();
      expect(services).toEqual(before);
      expect(services).toHaveLength(40);
      expect(services.every((s) => s.domains.length === 20)).toBe(true);
      expect(new Set(idsOf(services)).size).toBe(40 * 21);
    });
  });
}
