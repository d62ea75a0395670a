/**
 * Aggregated records as the engine produces them, built directly (no events): for filling the
 * window and the store in the read and memory benchmarks.
 */
import { EDGE_FIELDS, edgeFieldIndex, ORIGIN_FIELDS, originFieldIndex } from '../../src/model/fields.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../src/model/record.ts';

export interface KeyShape {
  services: number;
  pops: number;
  domainsPerService: number;
  /** Origin records per (service, POP): backends seen that second. Default 1. */
  backends?: number;
}

let state = 11;
/** Deterministic pseudo-random in [0, 1). */
export function random(): number {
  state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
  return state / 4_294_967_296;
}

function setter(v: Float64Array, index: ReadonlyMap<string, number>) {
  return (name: string, value: number): void => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`no field ${name}`);
    v[i] = Math.round(value);
  };
}

/** A plausible edge vector for `requests` requests: the fields the APIs read most, about 15 set. */
export function edgeVector(requests: number): Float64Array {
  const v = new Float64Array(EDGE_FIELDS.length);
  const set = setter(v, edgeFieldIndex);
  const hits = Math.round(requests * 0.8);
  set('requests', requests);
  set('hits', hits);
  set('miss', requests - hits);
  set('hits_time', hits * 0.002);
  set('req_header_bytes', requests * 450);
  set('resp_header_bytes', requests * 300);
  set('resp_body_bytes', requests * 25_000);
  set('hit_resp_header_bytes', hits * 300);
  set('hit_resp_body_bytes', hits * 25_000);
  set('status_2xx', requests);
  set('status_200', requests);
  set('edge_requests', requests);
  set('edge_resp_header_bytes', requests * 300);
  set('edge_resp_body_bytes', requests * 25_000);
  set('origin_fetches', requests - hits);
  return v;
}

export function originVector(responses: number): Float64Array {
  const v = new Float64Array(ORIGIN_FIELDS.length);
  const set = setter(v, originFieldIndex);
  set('responses', responses);
  set('resp_header_bytes', responses * 300);
  set('resp_body_bytes', responses * 25_000);
  set('status_2xx', responses);
  set('status_200', responses);
  set('latency_10_to_50ms', responses);
  return v;
}

export const serviceName = (s: number): string => `svc-${s}`;
export const popName = (p: number): string => `P${String(p).padStart(2, '0')}`;
export const domainName = (s: number, d: number): string => `d${d}.svc-${s}.example`;

/**
 * One second of traffic: an edge record per service x POP x domain, an origin record per
 * service x POP x backend, and GET / 200 dimension records per service x domain.
 */
export function secondOfRecords(second: number, shape: KeyShape, requestsPerKey = 10): RecordSet {
  const edge: EdgeRecord[] = [];
  const origin: OriginRecord[] = [];
  const dimension: DimensionRecord[] = [];
  for (let s = 0; s < shape.services; s++) {
    const service = serviceName(s);
    for (let p = 0; p < shape.pops; p++) {
      const datacenter = popName(p);
      for (let d = 0; d < shape.domainsPerService; d++) {
        const requests = Math.max(1, Math.round(requestsPerKey * (0.5 + random())));
        edge.push({ second, service, datacenter, domain: domainName(s, d), product: 'edge_application', values: edgeVector(requests) });
      }
      for (let b = 0; b < (shape.backends ?? 1); b++) {
        origin.push({ second, service, datacenter, backend: `origin-${b}`, values: originVector(Math.max(1, Math.round(requestsPerKey * 0.2))) });
      }
    }
    for (let d = 0; d < shape.domainsPerService; d++) {
      const domain = domainName(s, d);
      const count = requestsPerKey * shape.pops;
      dimension.push({ second, service, domain, product: 'edge_application', dimension: 'method', value: 'GET', count, bytes: count * 25_300 });
      dimension.push({ second, service, domain, product: 'edge_application', dimension: 'status', value: '200', count, bytes: count * 25_300 });
    }
  }
  return { edge, origin, dimension };
}
