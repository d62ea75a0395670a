/**
 * The engine factory: the one place that turns the configured engine into a StoreEngine, so
 * main.ts, the tests and the CLI never name an engine.
 */
import type { StoreConfig } from '../config/config.ts';
import { openClickHouseEngine } from './clickhouse/engine.ts';
import { openDuckDbEngine } from './duckdb/engine.ts';
import type { StoreEngine, StoreEngineOptions } from './engine.ts';

export interface OpenStoreEngineOptions extends StoreEngineOptions {
  store: StoreConfig;
  /** This node's name in a shared store (config.nodeId). */
  nodeId: string;
}

export async function openStoreEngine(opts: OpenStoreEngineOptions): Promise<StoreEngine> {
  const { store, nodeId, ...engine } = opts;
  if (store.engine === 'clickhouse') return openClickHouseEngine({ ...engine, clickhouse: store.clickhouse, nodeId });
  return openDuckDbEngine(engine);
}
