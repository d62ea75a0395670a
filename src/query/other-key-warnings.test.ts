import { describe, expect, it } from 'vitest';
import { otherKeyWarnings } from './other-key-warnings.ts';

describe('otherKeyWarnings', () => {
  it('says nothing without a row on __other__ (the limit row, its group fields null, is not one)', () => {
    expect(otherKeyWarnings([{ service: 's', domain: 'a.example', requests: 1 }, { service: null, domain: null, other: true, requests: 2 }])).toEqual([]);
  });

  it('warns once per capped key on __other__, in domain, datacenter, backend order, naming the services', () => {
    const rows = [
      { service: 's', backend: '__other__', datacenter: 'FRA', responses: 3 },
      { service: 't', backend: '__other__', datacenter: '__other__', responses: 1 },
      { service: 's', backend: '__other__', datacenter: 'LHR', responses: 2 },
      { domain: '__other__', requests: 4 },
    ];
    expect(otherKeyWarnings(rows)).toEqual([
      'domain "__other__" holds the traffic of the domains past RTM_MAX_DOMAINS_PER_SERVICE of their service or past RTM_MAX_DOMAINS of all services',
      'datacenter "__other__" holds the traffic of the datacenters past RTM_MAX_DATACENTERS_PER_SERVICE of their service (services "t")',
      'backend "__other__" holds the traffic of the backends past RTM_MAX_BACKENDS_PER_SERVICE of their service (services "s", "t")',
    ]);
  });

  it('names at most 10 services', () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({ service: `s${i}`, datacenter: '__other__', requests: 1 }));
    expect(otherKeyWarnings(rows)).toEqual([
      `datacenter "__other__" holds the traffic of the datacenters past RTM_MAX_DATACENTERS_PER_SERVICE of their service (services ${Array.from({ length: 10 }, (_, i) => `"s${i}"`).join(', ')}, ...)`,
    ]);
  });
});
