import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_FIELDS, MISS_HISTOGRAM_EDGES } from '../../model/fields.ts';
import { DOMAIN_INSPECTOR_FIELDS } from './domain-inspector-fields.ts';
import { objectOf, renderChannel, renderDomain, renderOrigin } from './render.ts';
import { edgeVector, originVector } from './test-helpers.ts';

/** The `| \`name\` |` rows of the seed's second "Data model" table (the entry's measurements). */
function seedDomainFields(): string[] {
  const seed = readFileSync(new URL('../../../test/fixtures/fastly/domain-inspector-realtime.seed.md', import.meta.url), 'utf8');
  const sections = seed.split(/^## Data model$/m);
  const entry = sections[2] ?? '';
  return [...entry.matchAll(/^\| `([A-Za-z0-9_]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('renderChannel', () => {
  const cases: { name: string; input: Record<string, number>; expected: Record<string, unknown> }[] = [
    {
      name: 'derived fields and aliases',
      input: {
        requests: 10,
        hits: 6,
        miss: 4,
        resp_header_bytes: 1000,
        resp_body_bytes: 50_000,
        bereq_header_bytes: 300,
        bereq_body_bytes: 20,
        edge_requests: 10,
        edge_hit_requests: 6,
        edge_miss_requests: 2,
        edge_resp_header_bytes: 1000,
        edge_resp_body_bytes: 49_000,
        origin_fetches: 2,
        origin_fetch_resp_header_bytes: 500,
        origin_fetch_resp_body_bytes: 9_500,
        hits_time: 0.125,
      },
      expected: {
        requests: 10,
        hits: 6,
        miss: 4,
        hits_time: 0.125,
        resp_header_bytes: 1000,
        header_size: 1000,
        resp_body_bytes: 50_000,
        body_size: 50_000,
        bereq_header_bytes: 300,
        bereq_body_bytes: 20,
        bandwidth: 51_320,
        edge_requests: 10,
        edge_hit_requests: 6,
        edge_miss_requests: 2,
        edge_hit_ratio: 0.75,
        edge_resp_header_bytes: 1000,
        edge_resp_body_bytes: 49_000,
        origin_fetches: 2,
        origin_fetch_resp_header_bytes: 500,
        origin_fetch_resp_body_bytes: 9_500,
        origin_offload: 0.8,
      },
    },
    {
      name: 'ratios left out when their divisor is 0, requests always present',
      input: { synth: 3, status_2xx: 3, status_200: 3 },
      expected: { requests: 0, synth: 3, status_2xx: 3, status_200: 3 },
    },
    {
      name: 'a 0 ratio with a non-zero divisor is kept',
      input: { requests: 2, edge_miss_requests: 2, edge_resp_body_bytes: 10, origin_fetch_resp_body_bytes: 10 },
      expected: {
        requests: 2,
        edge_miss_requests: 2,
        edge_resp_body_bytes: 10,
        origin_fetch_resp_body_bytes: 10,
        edge_hit_ratio: 0,
        origin_offload: 0,
      },
    },
    {
      name: 'miss_histogram: string keys, empty buckets left out',
      input: { requests: 4, miss_histogram_10: 1, miss_histogram_60000: 2, miss_histogram_1: 1 },
      expected: { requests: 4, miss_histogram: { '1': 1, '10': 1, '60000': 2 } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(renderChannel(edgeVector(c.input))).toEqual(c.expected);
    });
  }

  it('shows every EDGE_FIELDS counter by name, and no histogram column', () => {
    const all = renderChannel(new Float64Array(EDGE_FIELDS.length).fill(1));
    for (const name of EDGE_FIELDS) {
      if (name.startsWith('miss_histogram_')) expect(all).not.toHaveProperty(name);
      else expect(all[name]).toBe(1);
    }
    expect(Object.keys(all.miss_histogram as object)).toEqual(MISS_HISTOGRAM_EDGES.map(String));
  });

  it('keeps large byte counts as exact JSON integers', () => {
    const json = JSON.stringify(renderChannel(edgeVector({ requests: 1, resp_body_bytes: 2 ** 50 + 1 })));
    expect(json).toContain(`"resp_body_bytes":${2 ** 50 + 1}`);
  });

  it('never writes a 0 except requests and defined ratios (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5 }), { minLength: EDGE_FIELDS.length, maxLength: EDGE_FIELDS.length }), (xs) => {
        const out = renderChannel(Float64Array.from(xs));
        for (const [name, value] of Object.entries(out)) {
          if (typeof value === 'number' && value === 0) expect(['requests', 'edge_hit_ratio', 'origin_offload']).toContain(name);
        }
      }),
    );
  });
});

describe('renderDomain', () => {
  it('DOMAIN_INSPECTOR_FIELDS equals the seed entry data model, 127 fields', () => {
    const fromSeed = seedDomainFields();
    expect(fromSeed).toHaveLength(127);
    expect([...DOMAIN_INSPECTOR_FIELDS]).toEqual(fromSeed);
  });

  it('shows exactly the Domain Inspector fields, compute_request from compute_requests', () => {
    const all = renderDomain(new Float64Array(EDGE_FIELDS.length).fill(2));
    expect(Object.keys(all).sort()).toEqual([...DOMAIN_INSPECTOR_FIELDS].sort());
    expect(all.compute_request).toBe(2);
    expect(all.status_406).toBeUndefined();
    expect(all.bandwidth).toBe(8);
    expect(all.edge_hit_ratio).toBe(0.5);
    expect(all.origin_offload).toBe(0);
  });

  it('is sparse, with the same derived fields as the channel', () => {
    const v = edgeVector({
      requests: 3,
      compute_requests: 2,
      resp_body_bytes: 100,
      edge_hit_requests: 1,
      edge_miss_requests: 3,
      hits: 1,
    });
    expect(renderDomain(v)).toEqual({
      requests: 3,
      compute_request: 2,
      resp_body_bytes: 100,
      bandwidth: 100,
      edge_hit_requests: 1,
      edge_miss_requests: 3,
      edge_hit_ratio: 0.25,
    });
  });
});

describe('renderOrigin', () => {
  it('shows ORIGIN_FIELDS by name, sparse, responses always', () => {
    expect(renderOrigin(originVector({ responses: 5, resp_body_bytes: 700, status_2xx: 5, status_200: 5, latency_10_to_50ms: 5 }))).toEqual({
      responses: 5,
      resp_body_bytes: 700,
      status_2xx: 5,
      status_200: 5,
      latency_10_to_50ms: 5,
    });
    expect(renderOrigin(originVector({}))).toEqual({ responses: 0 });
  });
});

describe('objectOf', () => {
  it('sorts keys and keeps a group named __proto__ as data', () => {
    const out = objectOf(new Map([['b', 2], ['__proto__', 1], ['a', 3]]), (x) => x * 10);
    expect(Object.keys(out)).toEqual(['__proto__', 'a', 'b']);
    expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse('{"__proto__":10,"a":30,"b":20}'));
  });
});
