import { describe, expect, it } from 'vitest';
import { edgeFieldIndex } from '../../model/fields.ts';
import { PRODUCT_VALUES } from '../../model/event.ts';
import { AZION_METRICS, findMetric, type Series } from './metrics.ts';
import { AZION_PRODUCTS, productOf } from '../../model/azion-products.ts';

describe('Azion metric definitions', () => {
  it('every product of the seed maps to an event product, and each has its metrics', () => {
    expect(Object.values(AZION_PRODUCTS).sort()).toEqual([...PRODUCT_VALUES].sort());
    expect(Object.fromEntries(Object.entries(AZION_METRICS).map(([p, m]) => [p, Object.keys(m)]))).toEqual({
      edge_application: [
        'data_transferred',
        'data_transferred_total',
        'data_offloaded',
        'cdn_requests',
        'requests_per_second',
        'requests_offloaded',
        'status_code',
        'http_method',
        'waf',
        'bandwidth',
        ...['edge_time', 'origin_time', 'object_size'].flatMap((d) => ['p50', 'p90', 'p95', 'p99', 'p999'].map((p) => `${d}_${p}`)),
      ],
      data_streaming: ['data_streaming_data_streamed', 'data_streaming_requests'],
      live_streaming: ['live_streaming_data_transferred'],
      edge_functions: ['invocations'],
      intelligent_dns: ['idns_queries', 'hosted_zones'],
      image_processor: ['images_processed'],
      l2_caching: ['l2_data_transferred'],
      load_balancer: ['load_balancer_data_transferred'],
    });
  });

  it('reads only fields that exist in EDGE_FIELDS', () => {
    const dims = ['total', 'in', 'out', '1xx', '2xx', '3xx', '4xx', '5xx', 'blocked', 'logged', 'passed'];
    for (const metrics of Object.values(AZION_METRICS)) {
      for (const m of Object.values(metrics)) {
        const all = [m.series, ...dims.map((d) => m.dimension(d))].filter((s): s is Series => s !== undefined);
        for (const s of all) if (s.reading.kind === 'edge') for (const f of s.reading.fields) expect(edgeFieldIndex.has(f), f).toBe(true);
      }
    }
  });

  it('does not resolve inherited names', () => {
    expect(productOf('toString')).toBeUndefined();
    expect(productOf('__proto__')).toBeUndefined();
    expect(findMetric('edge_application', 'constructor')).toBeUndefined();
    expect(findMetric('edge_application', 'data_transferred')?.dimension('hasOwnProperty')).toBeUndefined();
  });

  it('dimension names: status classes in any case, exact codes 100..599, methods', () => {
    const status = findMetric('edge_application', 'status_code');
    expect(status?.dimension('2XX')).toEqual({ reading: { kind: 'edge', fields: ['status_2xx'] }, scale: 'count' });
    expect(status?.dimension('418')).toEqual({ reading: { kind: 'dimension', dimension: 'status', value: '418' }, scale: 'count' });
    for (const bad of ['6xx', '099', '600', '4040', 'ok']) expect(status?.dimension(bad), bad).toBeUndefined();
    const method = findMetric('edge_application', 'http_method');
    expect(method?.dimension('patch')).toEqual({ reading: { kind: 'dimension', dimension: 'method', value: 'PATCH' }, scale: 'count' });
    expect(method?.dimension('GET1')).toBeUndefined();
  });
});
