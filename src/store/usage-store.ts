/**
 * The usage entity store (OpenDataDSL metric entities): one small interface over DuckDB now and
 * ClickHouse later. `owner` scopes every read: a token sees only its own entities; undefined means
 * all of them (the admin token).
 */
import type { FilterNode, UsageEntity } from '../model/usage.ts';

/** Sort keys in order of precedence; `dir` 1 ascending, -1 descending. Fields of USAGE_FILTER_FIELDS. */
export type SortSpec = readonly { field: string; dir: 1 | -1 }[];

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

export interface UsageStore {
  insert(entities: readonly NewUsageEntity[]): Promise<void>;
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
