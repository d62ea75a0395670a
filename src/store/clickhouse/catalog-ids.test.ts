import { describe, expect, it } from 'vitest';
import { CATALOG_ID_MAX, CATALOG_ID_MIN } from '../catalog.ts';
import { ADOPTED_ATTEMPT, canonicalName, createClaimSet, domainName, isClaimableId, nextCandidate, serviceName, sha256CatalogId, type Claim, type IdHash } from './catalog-ids.ts';

const claim = (name: ReturnType<typeof serviceName>, id: number, attempt = 0): Claim => ({ ...name, id, attempt });

describe('catalog ids', () => {
  it('derives the same in-range id for the same name and attempt, another for the next attempt', () => {
    const shop = canonicalName(serviceName('shop'));
    expect(shop).toBe('service\u0000shop');
    expect(canonicalName(domainName('shop', 'www.shop.com'))).toBe('domain\u0000shop\u0000www.shop.com');
    const ids = [0, 1, 2].map((k) => sha256CatalogId(shop, k));
    expect(sha256CatalogId(shop, 0)).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id >= CATALOG_ID_MIN && id <= CATALOG_ID_MAX).toBe(true);
    // A domain named like a service is another name.
    expect(sha256CatalogId(canonicalName(domainName('shop', '')), 0)).not.toBe(ids[0]);
  });

  it.each([
    [1_441_740_010, false, 'a product id'],
    [CATALOG_ID_MIN - 1, false, 'below the space'],
    [CATALOG_ID_MAX + 1, false, 'above the space'],
    [CATALOG_ID_MIN, true, 'the lowest'],
    [1_234_567_890, true, 'an ordinary one'],
  ])('%i is claimable: %s (%s)', (id, ok) => {
    expect(isClaimableId(id)).toBe(ok);
  });

  it('gives an id claimed by two names to the smaller canonical name', () => {
    const set = createClaimSet();
    set.add([claim(serviceName('zeta'), 1_500_000_000), claim(serviceName('alpha'), 1_500_000_000)]);
    expect(set.idOf(canonicalName(serviceName('alpha')))).toBe(1_500_000_000);
    expect(set.idOf(canonicalName(serviceName('zeta')))).toBeUndefined();
    expect(set.unsettled()).toEqual([serviceName('zeta')]);
    // The loser's next attempt is its id.
    set.add([claim(serviceName('zeta'), 1_600_000_000, 1)]);
    expect(['alpha', 'zeta'].map((s) => set.idOf(canonicalName(serviceName(s))))).toEqual([1_500_000_000, 1_600_000_000]);
    expect(set.unsettled()).toEqual([]);
  });

  it('counts a row sent twice once, and prefers an adopted id to a derived one', () => {
    const set = createClaimSet();
    const shop = serviceName('shop');
    expect(set.add([claim(shop, 1_700_000_000)]).size).toBe(1);
    expect(set.add([claim(shop, 1_700_000_000)]).size).toBe(0);
    set.add([claim(shop, 1_800_000_000, ADOPTED_ATTEMPT)]);
    expect(set.idOf(canonicalName(shop))).toBe(1_800_000_000);
    expect(set.claimsOf(canonicalName(shop))).toHaveLength(2);
  });

  it('proposes the lowest attempt whose id no row names, skipping product ids', () => {
    const ids = [1_441_740_010, 1_900_000_000, 1_900_000_001];
    const hash: IdHash = (_name, attempt) => ids[attempt] ?? 1_999_999_999;
    const set = createClaimSet();
    // Named by a name that does not even use it: still never given to another.
    set.add([claim(serviceName('other'), 1_900_000_000, 3)]);
    expect(nextCandidate(set, serviceName('shop'), hash)).toEqual({ id: 1_900_000_001, attempt: 2 });
    // Every attempt taken: no candidate.
    expect(nextCandidate(set, serviceName('shop'), () => 1_900_000_000)).toBeUndefined();
  });
});
