/**
 * Usage metric entities (OpenDataDSL Metric Service, seed 003): one billable event of a provider.
 */

export interface UsageEntity {
  _id: string;
  provider: string;
  metric: string;
  /** Epoch milliseconds. Rendered as ISO-8601 UTC by the API. */
  timestamp: number;
  value: number;
  type?: string;
  action?: string;
  application?: string;
  detail?: string;
  /** Milliseconds. */
  duration?: number;
  environment?: string;
  httpstatus?: number;
  invocationId?: string;
  method?: string;
  /** Bytes. */
  responseSize?: number;
  service?: string;
  user?: string;
  /** Token id that owns the entity: a token sees only its own entities (admin sees all). */
  owner: string;
}

/** Fields a filter may name (anything else is a 400). */
export const USAGE_FILTER_FIELDS = [
  '_id', 'provider', 'metric', 'timestamp', 'value', 'type', 'action', 'application', 'detail',
  'duration', 'environment', 'httpstatus', 'invocationId', 'method', 'responseSize', 'service', 'user',
] as const;

export type FilterValue = string | number | boolean;

/** A parsed `_filter` (JSON or expression form): the shared query model of entity searches. */
export type FilterNode =
  | { op: 'and' | 'or'; args: FilterNode[] }
  | { op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; field: string; value: FilterValue }
  | { op: 'in' | 'nin'; field: string; values: FilterValue[] };

/** A filter leaf's comparison. */
export type CmpOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';
