/**
 * Fakes for the Fastly API tests: vectors by field name, a RealtimeSource over plain records
 * that publishes on a fake clock like the window does, and a token verifier with fixed tokens.
 * Test support only; nothing in the app imports it.
 */
import type { RealtimeSource } from '../../aggregate/realtime-source.ts';
import { edgeFieldIndex, EDGE_FIELDS, originFieldIndex, ORIGIN_FIELDS } from '../../model/fields.ts';
import type { Clock } from '../../model/clock.ts';
import type { EdgeRecord, OriginRecord } from '../../model/record.ts';
import { SCOPES, type Principal, type Scope, type TokenVerifier } from '../../http/auth.ts';
import { channelSeconds, domainSeconds, originSeconds } from './realtime-reader.ts';

function vector(fields: Record<string, number>, index: ReadonlyMap<string, number>, length: number): Float64Array {
  const v = new Float64Array(length);
  for (const [name, value] of Object.entries(fields)) {
    const i = index.get(name);
    if (i === undefined) throw new Error(`no field ${name}`);
    v[i] = value;
  }
  return v;
}

export const edgeVector = (fields: Record<string, number>): Float64Array => vector(fields, edgeFieldIndex, EDGE_FIELDS.length);
export const originVector = (fields: Record<string, number>): Float64Array =>
  vector(fields, originFieldIndex, ORIGIN_FIELDS.length);

export function edgeRecord(
  second: number,
  fields: Record<string, number>,
  keys: Partial<Pick<EdgeRecord, 'service' | 'datacenter' | 'domain' | 'product'>> = {},
): EdgeRecord {
  return {
    second,
    service: keys.service ?? 'svc1',
    datacenter: keys.datacenter ?? 'FRA',
    domain: keys.domain ?? 'www.example.com',
    product: keys.product ?? 'edge_application',
    values: edgeVector(fields),
  };
}

export function originRecord(
  second: number,
  fields: Record<string, number>,
  keys: Partial<Pick<OriginRecord, 'service' | 'datacenter' | 'backend'>> = {},
): OriginRecord {
  return {
    second,
    service: keys.service ?? 'svc1',
    datacenter: keys.datacenter ?? 'FRA',
    backend: keys.backend ?? 'origin-a',
    values: originVector(fields),
  };
}

export interface FakeSource extends RealtimeSource {
  edge: EdgeRecord[];
  origin: OriginRecord[];
  /** Every [from, to) range asked for, in order. */
  reads: [number, number][];
}

/** Publishes like the window: latestPublished = floor(now / 1000) - delay - 1. */
export function createFakeSource(clock: Clock, delaySeconds: number): FakeSource {
  const latestPublished = (): number => Math.floor(clock.now() / 1000) - delaySeconds - 1;
  const pick = <R extends { second: number; service: string }>(rows: readonly R[], service: string, from: number, to: number): R[] => {
    source.reads.push([from, to]);
    const last = latestPublished();
    return rows.filter((r) => r.service === service && r.second >= from && r.second < to && r.second <= last);
  };
  const source: FakeSource = {
    edge: [],
    origin: [],
    reads: [],
    latestPublished,
    channel: async (service, from, to) => channelSeconds(pick(source.edge, service, from, to)),
    domains: async (service, from, to) => domainSeconds(pick(source.edge, service, from, to)),
    origins: async (service, from, to) => originSeconds(pick(source.origin, service, from, to)),
  };
  return source;
}

/** Tokens: 'admin-key' reads everything, 'svc1-key' reads svc1 only, 'ingest-key' cannot read. */
export function createFakeTokens(): TokenVerifier {
  const principal = (tokenId: string, services: Principal['services'], scopes: readonly Scope[]): Principal => ({
    tokenId,
    name: tokenId,
    services,
    scopes: new Set(scopes),
  });
  const tokens = new Map<string, Principal>([
    ['admin-key', principal('admin', 'all', SCOPES)],
    ['svc1-key', principal('reader', new Set(['svc1']), ['read'])],
    ['ingest-key', principal('ingester', 'all', ['ingest'])],
  ]);
  return { verify: async (secret) => tokens.get(secret) };
}
