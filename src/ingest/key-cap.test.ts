import { describe, expect, it } from 'vitest';
import { anyCapOn, createKeyCap, createKeyCaps, heldBoundReason, keyCapReason } from './key-cap.ts';

describe('key cap', () => {
  it.each(['domain', 'datacenter', 'backend'] as const)('admits up to the cap of %s values per service, then only the values it already has', (key) => {
    const cap = createKeyCap(key, 2);
    expect([cap.admit('s', 'a'), cap.admit('s', 'b'), cap.admit('s', 'c'), cap.admit('s', 'a'), cap.admit('s', 'c')]).toEqual([true, true, false, true, false]);
    // Another service has room of its own.
    expect(cap.admit('t', 'c')).toBe(true);
    expect([cap.key, cap.count('s'), cap.count('t'), cap.count('u'), cap.size()]).toEqual([key, 2, 1, 0, 3]);
  });

  it('keeps values noted beyond the cap (a lower cap after a restart), and admits no new one', () => {
    const cap = createKeyCap('datacenter', 1);
    cap.note('s', 'FRA');
    cap.note('s', 'LHR');
    cap.note('s', 'LHR');
    expect([cap.admit('s', 'LHR'), cap.admit('s', 'CDG'), cap.count('s'), cap.size()]).toEqual([true, false, 2, 2]);
  });

  it('gives __other__ no room: always admitted, never noted', () => {
    const cap = createKeyCap('backend', 1);
    cap.note('s', '__other__');
    expect([cap.admit('s', '__other__'), cap.count('s'), cap.admit('s', 'b1'), cap.admit('s', '__other__'), cap.admit('s', 'b2'), cap.size()]).toEqual([true, 0, true, true, false, 1]);
  });

  it('is off at 0 and at Infinity, holding nothing', () => {
    for (const max of [0, Number.POSITIVE_INFINITY]) {
      const cap = createKeyCap('domain', max);
      for (let i = 0; i < 100; i++) expect(cap.admit('s', `d${i}.com`)).toBe(true);
      cap.note('s', 'x.com');
      expect([cap.size(), cap.count('s'), cap.maxPerService]).toEqual([0, 0, Number.POSITIVE_INFINITY]);
    }
  });

  it('makes one cap per key from the limits, each on or off by itself', () => {
    const caps = createKeyCaps({ domainsPerService: 3, datacentersPerService: 0, backendsPerService: 2 });
    expect([caps.domain.maxPerService, caps.datacenter.maxPerService, caps.backend.maxPerService]).toEqual([3, Number.POSITIVE_INFINITY, 2]);
    expect([caps.domain.key, caps.datacenter.key, caps.backend.key]).toEqual(['domain', 'datacenter', 'backend']);
    expect(anyCapOn(caps)).toBe(true);
    expect(anyCapOn(createKeyCaps({ domainsPerService: 0, datacentersPerService: 0, backendsPerService: 0 }))).toBe(false);
  });

  it('names the key, the value, the service, the cap and the variable in its reason', () => {
    expect(keyCapReason('domain', 'shop', 'x.example', 10)).toBe(
      'domain "x.example" of service "shop": the service already has 10 distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "__other__"',
    );
    expect(keyCapReason('datacenter', 'shop', 'FRA', 5)).toBe(
      'datacenter "FRA" of service "shop": the service already has 5 distinct datacenters, the most one service may have (RTM_MAX_DATACENTERS_PER_SERVICE); counted under the datacenter "__other__"',
    );
    expect(keyCapReason('backend', 'shop', 'origin-1', 1)).toBe(
      'backend "origin-1" of service "shop": the service already has 1 distinct backends, the most one service may have (RTM_MAX_BACKENDS_PER_SERVICE); counted under the backend "__other__"',
    );
  });

  it('folds a new value of any service once the global bound is held, the per-service cap off, with the budget named', () => {
    const cap = createKeyCap('domain', 0, { max: 3 });
    expect([cap.admit('s', 'a'), cap.admit('t', 'b'), cap.admit('u', 'c'), cap.admit('s', 'a'), cap.foldReason('v', 'd'), cap.foldReason('s', 'e')]).toEqual([
      true,
      true,
      true,
      true,
      heldBoundReason('domain', 'v', 'd', 3),
      heldBoundReason('domain', 's', 'e', 3),
    ]);
    expect([cap.on, cap.size(), cap.maxHeld, cap.admit('s', '__other__')]).toEqual([true, 3, 3, true]);
    expect(heldBoundReason('domain', 'v', 'd', 3)).toBe(
      'domain "d" of service "v": the server already holds 3 distinct domains of all services, the most the catalog\'s share of the memory budget holds (RTM_MEMORY_BUDGET_BYTES, RTM_MAX_DOMAINS); counted under the domain "__other__"',
    );
  });

  it('counts what the catalog holds when it holds more (a shared catalog: every node\'s domains), and values noted at start', () => {
    let catalog = 1;
    const cap = createKeyCap('domain', 10, { max: 3, heldElsewhere: () => catalog });
    cap.note('s', 'a');
    expect([cap.admit('s', 'b'), cap.admit('s', 'c'), cap.admit('s', 'd')]).toEqual([true, true, false]);
    catalog = 5;
    const fresh = createKeyCap('domain', 10, { max: 3, heldElsewhere: () => catalog });
    expect([fresh.admit('t', 'x'), fresh.size()]).toEqual([false, 0]);
    // The per-service cap's reason wins when both are past.
    const both = createKeyCap('domain', 1, { max: 1 });
    both.admit('s', 'a');
    expect(both.foldReason('s', 'b')).toBe(keyCapReason('domain', 's', 'b', 1));
  });
});
