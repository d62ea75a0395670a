/**
 * Several rtmetrics nodes (app harnesses) on one private ClickHouse cluster: what the cluster
 * tests of a feature start (each node with its own data dir and node id, all on every shard),
 * configured from the environment a user gives a node (RTM_STORE, RTM_CLICKHOUSE_*, RTM_NODE_ID).
 */
import { loadConfig } from '../../src/config/config.ts';
import { startHarness, type Harness } from './app-harness.ts';
import { startClickHouseCluster, type ClickHouseCluster } from './clickhouse-server.ts';

export interface ClickHouseNodes {
  cluster: ClickHouseCluster;
  nodes: Harness[];
  /** Closes every node, then stops the cluster (when these nodes started it). */
  close(): Promise<void>;
}

/** `nodeIds.length` nodes on a cluster of `shards` shards; `name` is its remote_servers name and database. */
export async function startClickHouseNodes(name: string, nodeIds: readonly string[], shards = 2): Promise<ClickHouseNodes> {
  const cluster = await startClickHouseCluster(shards, name);
  try {
    const started = await startNodesOn(cluster, name, nodeIds);
    return { ...started, close: () => started.close().finally(() => cluster.stop()) };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/**
 * `nodeIds.length` nodes on a running `cluster`, in `database` (a test file's suites share one
 * cluster, each in a database of its own); close() closes the nodes and leaves the cluster running.
 */
export async function startNodesOn(cluster: ClickHouseCluster, database: string, nodeIds: readonly string[]): Promise<ClickHouseNodes> {
  const nodes: Harness[] = [];
  const close = async (): Promise<void> => {
    for (const n of nodes.splice(0)) await n.close();
  };
  try {
    const env = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: cluster.shards.map((s) => s.url).join(','), RTM_CLICKHOUSE_CLUSTER: cluster.clusterName, RTM_CLICKHOUSE_DATABASE: database };
    for (const id of nodeIds) {
      const parsed = loadConfig({ ...env, RTM_NODE_ID: id });
      nodes.push(await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { cluster, nodes, close };
}
