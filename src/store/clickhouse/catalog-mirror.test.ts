import { describe, expect, it } from 'vitest';
import { domainName, serviceName, type Claim } from './catalog-ids.ts';
import { createCatalogMirror } from './catalog-mirror.ts';

const claim = (name: ReturnType<typeof serviceName>, id: number, attempt = 0): Claim => ({ ...name, id, attempt });
const product = (service: string, domain: string): { service: string; domain: string; product: string } => ({ service, domain, product: 'edge_application' });

describe('catalog mirror', () => {
  it('lists a domain once its service holds an id too, with its products', () => {
    const m = createCatalogMirror();
    m.add({ claims: [claim(domainName('shop', 'www.shop.com'), 1_100_000_002)], products: [product('shop', 'www.shop.com')] });
    expect(m.services()).toEqual([]);
    expect(m.resolve(1_100_000_002)).toBeUndefined();
    m.add({ claims: [claim(serviceName('shop'), 1_100_000_001)] });
    expect(m.services()).toEqual([
      { id: 1_100_000_001, service: 'shop', name: 'shop', products: ['edge_application'], domains: [{ id: 1_100_000_002, domain: 'www.shop.com', products: ['edge_application'] }] },
    ]);
    expect(m.knows('shop', 'www.shop.com', 'edge_application')).toBe(true);
    expect(m.knows('shop', 'www.shop.com', 'image_processor')).toBe(false);
    expect(m.resolve(1_100_000_002)).toMatchObject({ kind: 'domain', domain: { domain: 'www.shop.com' } });
    expect(m.size()).toBe(2);
  });

  it('moves an id from one name to another when a smaller claimant arrives, and the loser off the list', () => {
    const m = createCatalogMirror();
    m.add({ claims: [claim(serviceName('zeta'), 1_200_000_000), claim(domainName('zeta', 'z.io'), 1_200_000_001)] });
    expect(m.resolve(1_200_000_000)).toMatchObject({ kind: 'service', service: { service: 'zeta' } });
    m.add({ claims: [claim(serviceName('alpha'), 1_200_000_000)] });
    expect(m.resolve(1_200_000_000)).toMatchObject({ kind: 'service', service: { service: 'alpha', domains: [] } });
    expect(m.services().map((s) => s.service)).toEqual(['alpha']);
    // zeta's domain comes back with zeta's next id.
    m.add({ claims: [claim(serviceName('zeta'), 1_300_000_000, 1)] });
    expect(m.resolve(1_200_000_001)).toMatchObject({ kind: 'domain', service: { service: 'zeta', id: 1_300_000_000 }, domain: { domain: 'z.io' } });
    expect(m.size()).toBe(3);
  });

  it('keeps the rename of the highest version, then node, then name', () => {
    const m = createCatalogMirror();
    m.add({ claims: [claim(serviceName('shop'), 1_100_000_001)] });
    m.add({ names: [{ service: 'shop', name: 'B', version: 5, node: 'n1' }, { service: 'shop', name: 'A', version: 4, node: 'n9' }] });
    expect(m.service('shop')?.name).toBe('B');
    m.add({ names: [{ service: 'shop', name: 'C', version: 5, node: 'n2' }] });
    expect(m.service('shop')?.name).toBe('C');
  });
});
