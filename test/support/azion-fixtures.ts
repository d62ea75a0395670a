/**
 * Builders for the Azion API tests: records with named fields, and a token verifier with fixed
 * principals (no DuckDB token store needed).
 */
import { adminPrincipal, type Principal, type Scope, type TokenVerifier } from '../../src/http/auth.ts';
import { EDGE_FIELDS, edgeFieldIndex } from '../../src/model/fields.ts';
import type { DimensionRecord, EdgeRecord } from '../../src/model/record.ts';

export interface EdgeKey {
  second: number;
  service: string;
  domain: string;
  product?: string;
  datacenter?: string;
}

/** An edge record with the given fields set (the rest 0). */
export function edgeRecord(key: EdgeKey, fields: Readonly<Record<string, number>>): EdgeRecord {
  const values = new Float64Array(EDGE_FIELDS.length);
  for (const [name, value] of Object.entries(fields)) {
    const i = edgeFieldIndex.get(name);
    if (i === undefined) throw new Error(`unknown edge field ${name}`);
    values[i] = value;
  }
  return {
    second: key.second,
    service: key.service,
    datacenter: key.datacenter ?? 'FRA',
    domain: key.domain,
    product: key.product ?? 'edge_application',
    values,
  };
}

export function dimensionRecord(key: EdgeKey, dimension: 'method' | 'status', value: string, count: number, bytes = 0): DimensionRecord {
  return {
    second: key.second,
    service: key.service,
    domain: key.domain,
    product: key.product ?? 'edge_application',
    dimension,
    value,
    count,
    bytes,
  };
}

const principal = (tokenId: string, services: 'all' | string[], scopes: Scope[]): Principal => ({
  tokenId,
  name: tokenId,
  services: services === 'all' ? 'all' : new Set(services),
  scopes: new Set(scopes),
});

/** Secrets: `admin`, `reader-all`, `reader-shop` (read on service shop), `ingest-only`. */
export function fixedTokens(): TokenVerifier {
  const table: Record<string, Principal> = {
    admin: adminPrincipal(),
    'reader-all': principal('reader-all', 'all', ['read']),
    'reader-shop': principal('reader-shop', ['shop'], ['read']),
    'ingest-only': principal('ingest-only', 'all', ['ingest']),
  };
  return { verify: async (secret) => table[secret] };
}
