/**
 * Alert rules kept by the store (POST/GET/DELETE /rtm/v1/alerts). A rule is owned by the token
 * that created it and evaluated with that token's grant (`services`), so it can never watch
 * more than its owner may read. The DuckDB implementation is ./duckdb/alert-store.ts.
 */
import { randomBytes } from 'node:crypto';

export type Comparison = '>' | '>=' | '<' | '<=';

export interface AlertFilter {
  field: string;
  op: 'eq' | 'in' | 'not_in' | 'prefix';
  value: string | string[];
}

export interface AlertRuleInput {
  name: string;
  /** A query-API metric (docs/api-native.md). */
  metric: string;
  filters: AlertFilter[];
  /** The metric is computed over the last `windowSeconds` published seconds. */
  windowSeconds: number;
  comparison: Comparison;
  threshold: number;
  /** Where firing and resolved notifications are POSTed (http or https). */
  webhook: string;
}

export interface AlertRule extends AlertRuleInput {
  id: string;
  /** Token id of the creator. */
  owner: string;
  /** The creator's grant when the rule was made: what it is evaluated with. */
  services: 'all' | string[];
  /** RFC 3339. */
  created: string;
}

export interface AlertStore {
  create(input: AlertRuleInput, owner: { tokenId: string; services: 'all' | string[] }): Promise<AlertRule>;
  list(): Promise<AlertRule[]>;
  /** False when no rule has this id. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

export const newAlertId = (): string => `al_${randomBytes(8).toString('hex')}`;
