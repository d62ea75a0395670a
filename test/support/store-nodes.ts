/**
 * One rtmetrics node (an app harness) on each store engine, for the suites that run on both
 * (issue 10): the DuckDB default, or RTM_STORE=clickhouse on a private clickhouse-server. A
 * suite takes a StoreNode, starts it in beforeAll and stops it in afterAll.
 */
import { loadConfig } from '../../src/config/config.ts';
import { startHarness, type Harness, type HarnessOptions } from './app-harness.ts';
import { startClickHouseServer, type ClickHouseServer } from './clickhouse-server.ts';

export interface StoreNode {
  /** Names the engine in a suite's title, e.g. `DuckDB`. */
  name: string;
  /** Starts the node on an empty store, checked to be this engine's (a config slip cannot test the wrong store). */
  start(opts?: HarnessOptions): Promise<Harness>;
  /** Closes the node, then what was started for it (the ClickHouse server); idempotent. */
  stop(): Promise<void>;
}

/** Closes `h` and rethrows when its store is not `engine`. */
async function checkedEngine(h: Harness, engine: 'duckdb' | 'clickhouse'): Promise<Harness> {
  const found = h.services.engine.describe.split(':')[0];
  if (found !== engine) {
    await h.close();
    throw new Error(`the node runs on ${h.services.engine.describe}, not ${engine}`);
  }
  return h;
}

export function duckDbNode(): StoreNode {
  let h: Harness | undefined;
  return {
    name: 'DuckDB',
    async start(opts) {
      h = await checkedEngine(await startHarness(opts), 'duckdb');
      return h;
    },
    async stop() {
      const node = h;
      h = undefined;
      await node?.close();
    },
  };
}

/** A node on its own clickhouse-server (no cluster), in `database`. */
export function clickHouseNode(database: string, nodeId = `${database}-node`): StoreNode {
  let server: ClickHouseServer | undefined;
  let h: Harness | undefined;
  return {
    name: 'ClickHouse',
    async start(opts = {}) {
      server = await startClickHouseServer();
      const parsed = loadConfig({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: database, RTM_NODE_ID: nodeId });
      h = await checkedEngine(await startHarness({ ...opts, config: { ...opts.config, store: parsed.store, nodeId: parsed.nodeId } }), 'clickhouse');
      return h;
    },
    async stop() {
      // The node first: it holds connections to the server.
      const [node, srv] = [h, server];
      [h, server] = [undefined, undefined];
      try {
        await node?.close();
      } finally {
        await srv?.stop();
      }
    },
  };
}
