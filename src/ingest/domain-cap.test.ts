import { describe, expect, it } from 'vitest';
import { createDomainCap, domainCapReason } from './domain-cap.ts';

describe('domain cap', () => {
  it('admits up to the cap per service, then only the domains it already has', () => {
    const cap = createDomainCap(2);
    expect([cap.admit('s', 'a.com'), cap.admit('s', 'b.com'), cap.admit('s', 'c.com'), cap.admit('s', 'a.com')]).toEqual([true, true, false, true]);
    // Another service has room of its own.
    expect(cap.admit('t', 'c.com')).toBe(true);
    expect([cap.count('s'), cap.count('t'), cap.size()]).toEqual([2, 1, 3]);
  });

  it('keeps domains noted beyond the cap (a lower cap after a restart), and admits no new one', () => {
    const cap = createDomainCap(1);
    cap.note('s', 'a.com');
    cap.note('s', 'b.com');
    cap.note('s', 'b.com');
    expect([cap.admit('s', 'b.com'), cap.admit('s', 'c.com'), cap.count('s'), cap.size()]).toEqual([true, false, 2, 2]);
  });

  it('is off at 0 and at Infinity, holding nothing', () => {
    for (const max of [0, Number.POSITIVE_INFINITY]) {
      const cap = createDomainCap(max);
      for (let i = 0; i < 100; i++) expect(cap.admit('s', `d${i}.com`)).toBe(true);
      cap.note('s', 'x.com');
      expect([cap.size(), cap.maxPerService]).toEqual([0, Number.POSITIVE_INFINITY]);
    }
  });

  it('names the domain, the service, the cap and the variable in its reason', () => {
    expect(domainCapReason('shop', 'x.example', 10)).toBe(
      'domain "x.example" of service "shop": the service already has 10 distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "__other__"',
    );
  });
});
