/**
 * The usage entity store (OpenDataDSL metric entities): one small interface over DuckDB now and
 * ClickHouse later. `owner` scopes every read: a token sees only its own entities; undefined means
 * all of them (the admin token).
 */
import type { FilterNode, UsageEntity } from '../model/usage.ts';

/**
 * Usage entity field -> column of the usage table, the same in both engines (`owner` is
 * filterable by operators only: OPERATOR_USAGE_FIELD_TYPES).
 */
export const USAGE_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  _id: 'id', provider: 'provider', metric: 'metric', timestamp: 'timestamp_ms', value: 'value', type: 'type',
  action: 'action', application: 'application', detail: 'detail', duration: 'duration', environment: 'environment',
  httpstatus: 'http_status', invocationId: 'invocation_id', method: 'method', responseSize: 'response_size',
  service: 'service', user: 'user_id', owner: 'owner',
});

/** Sort keys in order of precedence; `dir` 1 ascending, -1 descending. Fields of USAGE_FILTER_FIELDS. */
export type SortSpec = readonly { field: string; dir: 1 | -1 }[];

/** Newest first. */
export const DEFAULT_SORT: SortSpec = Object.freeze([{ field: 'timestamp', dir: -1 }]);

/** An entity before insert: the store assigns a random `_id` when it is absent or empty. */
export type NewUsageEntity = Omit<UsageEntity, '_id'> & { _id?: string };

export interface UsageListQuery {
  owner?: string;
  filter?: FilterNode;
  /** Default: newest first (timestamp descending). */
  sort?: SortSpec;
  limit: number;
  skip: number;
}

export interface UsagePointsQuery {
  provider: string;
  metric: string;
  owner?: string;
  filter?: FilterNode;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface UsagePoint {
  timestamp: number;
  value: number;
}

/** String fields of an entity that count towards its size (`_id` and `owner` are the server's). */
const SIZED_STRINGS = ['provider', 'metric', 'type', 'action', 'application', 'detail', 'environment', 'invocationId', 'method', 'service', 'user'] as const;
const OPTIONAL_NUMBERS = ['duration', 'httpstatus', 'responseSize'] as const;

type SizedEntity = Partial<Record<(typeof SIZED_STRINGS)[number], string>> & Partial<Record<(typeof OPTIONAL_NUMBERS)[number], number>>;

/**
 * The size an entity counts for in a quota: the UTF-8 bytes of its strings plus 8 per number
 * (timestamp and value always). Stores compute the same sum over stored rows (ownerTotals).
 */
export function usageEntityBytes(e: SizedEntity): number {
  let bytes = 16;
  for (const f of SIZED_STRINGS) {
    const v = e[f];
    if (typeof v === 'string') bytes += Buffer.byteLength(v);
  }
  for (const f of OPTIONAL_NUMBERS) if (typeof e[f] === 'number') bytes += 8;
  return bytes;
}

export interface UsageStore {
  insert(entities: readonly NewUsageEntity[]): Promise<void>;
  /** How many entities `owner` has, and their usageEntityBytes, leaving out the given providers. */
  ownerTotals(owner: string, excludeProviders: readonly string[]): Promise<{ entities: number; bytes: number }>;
  /** `total` counts every match, ignoring limit and skip. */
  list(q: UsageListQuery): Promise<{ total: number; items: UsageEntity[] }>;
  get(id: string, owner?: string): Promise<UsageEntity | undefined>;
  /** Distinct providers, sorted. */
  providers(owner?: string): Promise<string[]>;
  /** Distinct metric names of a provider, sorted. */
  metrics(provider: string, owner?: string): Promise<string[]>;
  /** Values of one metric in [from, to), oldest first: the input of virtual timeseries. */
  points(q: UsagePointsQuery): Promise<UsagePoint[]>;
  /** Deletes entities older than the retention; call periodically. */
  expire(nowMs: number): Promise<void>;
  close(): Promise<void>;
}
