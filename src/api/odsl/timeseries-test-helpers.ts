/**
 * Fakes shared by the virtual-timeseries and object-route tests: tokens, a usage store over an
 * array (filters evaluated with matchesFilter, as the DuckDB store evaluates them in SQL) and a
 * real in-memory DuckDB metric store whose sumEdge calls are recorded.
 */
import type { Principal, TokenVerifier } from '../../http/auth.ts';
import { adminPrincipal } from '../../http/auth.ts';
import type { UsageEntity } from '../../model/usage.ts';
import type { MetricStore, SumQuery } from '../../store/store.ts';
import { openDuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../../store/duckdb/metric-store.ts';
import { CONFORMANCE_RETENTION } from '../../store/store-conformance.ts';
import { edgeRecord } from '../../store/record-fixtures.ts';
import { matchesFilter } from './filter.ts';
import type { UsagePointSource } from './virtual-timeseries.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';

export const PRINCIPALS: Readonly<Record<string, Principal>> = {
  'admin-secret': adminPrincipal(),
  'alice-secret': { tokenId: 'tk_alice', name: 'alice', services: new Set(['s1']), scopes: new Set(['read', 'write']) },
  'bob-secret': { tokenId: 'tk_bob', name: 'bob', services: new Set(['s2']), scopes: new Set(['read', 'write']) },
  'ingest-secret': { tokenId: 'tk_ingest', name: 'ingester', services: 'all', scopes: new Set(['ingest']) },
};

export const fakeTokens: TokenVerifier = { verify: async (secret) => PRINCIPALS[secret] };

export const bearer = (who: 'admin' | 'alice' | 'bob' | 'ingest'): Record<string, string> => ({ authorization: `Bearer ${who}-secret` });

let next = 0;
const entity = (owner: string, provider: string, metric: string, iso: string, value: number, extra: Partial<UsageEntity> = {}): UsageEntity => ({
  _id: `e${++next}`,
  owner,
  provider,
  metric,
  timestamp: Date.parse(iso),
  value,
  ...extra,
});

/** The fixed "now" of the golden tests: 2024-11-21 10:30 UTC. */
export const NOW = Date.parse('2024-11-21T10:30:00Z');

export const ENTITIES: readonly UsageEntity[] = [
  entity('tk_alice', 'RTMRequest', 'ReadRequests', '2024-11-20T00:05:00Z', 1, { application: 'api' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequests', '2024-11-20T00:45:00Z', 1, { application: 'api' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequests', '2024-11-20T01:10:00Z', 1, { application: 'web' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequests', '2024-11-21T09:15:00Z', 1, { application: 'api' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequestDuration', '2024-11-20T00:05:00Z', 20, { application: 'api' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequestDuration', '2024-11-20T00:45:00Z', 40, { application: 'api' }),
  entity('tk_alice', 'RTMRequest', 'ReadRequestDuration', '2024-11-20T01:10:00Z', 90, { application: 'web' }),
  entity('tk_bob', 'RTMRequest', 'ReadRequests', '2024-11-20T00:30:00Z', 1, { application: 'api' }),
  entity('tk_alice', 'Billing', 'Invoices', '2024-11-20T12:00:00Z', 3),
  entity('tk_alice', 'Billing', 'Invoices', '2024-11-20T18:00:00Z', 5),
];

export function createFakeUsage(entities: readonly UsageEntity[] = ENTITIES): UsagePointSource {
  return {
    async points({ provider, metric, owner, filter, from, to }) {
      return entities
        .filter((e) => e.provider === provider && e.metric === metric && (owner === undefined || e.owner === owner))
        .filter((e) => e.timestamp >= from && e.timestamp < to)
        .filter((e) => filter === undefined || matchesFilter(e as unknown as Record<string, unknown>, filter))
        .sort((a, b) => a.timestamp - b.timestamp)
        .map((e) => ({ timestamp: e.timestamp, value: e.value }));
    },
    async metrics(provider, owner) {
      const names = entities.filter((e) => e.provider === provider && (owner === undefined || e.owner === owner)).map((e) => e.metric);
      return [...new Set(names)].sort();
    },
  };
}

const sec = (iso: string): number => Date.parse(iso) / 1000;

/** CDN traffic of services s1 and s2 on 20-21 November 2024, in a real DuckDB store. */
export async function createCdnStore(): Promise<{ store: MetricStore; queries: SumQuery[]; close(): Promise<void> }> {
  const db = await openDuckDb(':memory:');
  const real = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
  const edge = [
    edgeRecord(sec('2024-11-20T00:00:10Z'), 's1', {
      requests: 2, hits: 1, resp_header_bytes: 100, resp_body_bytes: 1000, origin_fetch_resp_header_bytes: 10, origin_fetch_resp_body_bytes: 90,
    }),
    edgeRecord(sec('2024-11-20T01:30:00Z'), 's1', { requests: 3, hits: 3, resp_header_bytes: 50, resp_body_bytes: 500 }, 'LHR', 'b.example'),
    edgeRecord(sec('2024-11-20T00:20:00Z'), 's2', { requests: 7 }),
    edgeRecord(sec('2024-11-21T02:00:00Z'), 's1', { requests: 1, status_5xx: 1 }),
  ];
  await real.append({ lsn: 1, delta: deltaFromRecordSet({ edge, origin: [], dimension: [] }) });
  const queries: SumQuery[] = [];
  const store: MetricStore = {
    ...real,
    sumEdge: (q) => {
      queries.push(q);
      return real.sumEdge(q);
    },
  };
  return {
    store,
    queries,
    async close() {
      await real.close();
      db.close();
    },
  };
}
