/**
 * Private clickhouse-server processes for the tests: each in its own temp dir (config, data,
 * tmp, users), on 127.0.0.1 ports picked free at run time, all named in one `remote_servers`
 * cluster so a later cluster test can put Distributed tables over them. A missing binary is a
 * failure with the apt line to run, never a skip (.ci/run installs the package).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CLICKHOUSE_BINARY = '/usr/sbin/clickhouse-server';

export interface ClickHouseServer {
  /** HTTP URL, e.g. http://127.0.0.1:41234 */
  url: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  /** SIGKILL, then remove the dir; idempotent. */
  stop(): Promise<void>;
  /** SIGKILL without removing the dir (a fault test); `restart` brings it back on the same ports. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export interface ClickHouseCluster {
  /** The `remote_servers` name every shard's config defines. */
  clusterName: string;
  shards: ClickHouseServer[];
  stop(): Promise<void>;
}

/** Fails with a clear message when the package is not installed. */
export function requireClickHouse(): void {
  const found = fs.existsSync(CLICKHOUSE_BINARY);
  if (!found) throw new Error('clickhouse-server is not installed: apt-get install clickhouse-server clickhouse-client (.ci/run does)');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Ports {
  http: number;
  tcp: number;
  interserver: number;
}

const remoteServers = (name: string, shards: readonly Ports[]): string =>
  `<remote_servers><${name}>${shards
    .map((p) => `<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`)
    .join('')}</${name}></remote_servers>`;

function writeConfig(dir: string, ports: Ports, cluster: string): string {
  for (const sub of ['data', 'tmp', 'log', 'format_schemas']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const users = `<?xml version="1.0"?><yandex><profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>`;
  fs.writeFileSync(path.join(dir, 'users.xml'), users);
  const config = `<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog><console>0</console></logger>
<listen_host>127.0.0.1</listen_host>
<http_port>${ports.http}</http_port><tcp_port>${ports.tcp}</tcp_port><interserver_http_port>${ports.interserver}</interserver_http_port>
<interserver_http_host>127.0.0.1</interserver_http_host>
<path>${dir}/data/</path><tmp_path>${dir}/tmp/</tmp_path><format_schema_path>${dir}/format_schemas/</format_schema_path>
<users_config>${dir}/users.xml</users_config>
<default_profile>default</default_profile><default_database>default</default_database>
<timezone>UTC</timezone>
<mark_cache_size>67108864</mark_cache_size>
<max_concurrent_queries>100</max_concurrent_queries>
${remoteServers(cluster, [ports])}
</yandex>`;
  const file = path.join(dir, 'config.xml');
  fs.writeFileSync(file, config);
  return file;
}

async function waitReady(url: string, child: ChildProcess, dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = fs.existsSync(path.join(dir, 'log/error.log')) ? fs.readFileSync(path.join(dir, 'log/error.log'), 'utf8').slice(-2000) : '';
      throw new Error(`clickhouse-server exited during start (${child.exitCode ?? child.signalCode}): ${log}`);
    }
    try {
      const res = await fetch(`${url}/?query=SELECT%201`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`clickhouse-server at ${url} was not ready within ${timeoutMs} ms`);
}

/** Servers still running: killed when the test process exits, so a crashed test leaves none behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
const track = (child: ChildProcess): ChildProcess => {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
};

function serverAt(dir: string, ports: Ports, spawnIt: () => ChildProcess, first: ChildProcess): ClickHouseServer {
  let child = first;
  const url = `http://127.0.0.1:${ports.http}`;
  let removed = false;
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    dir,
    kill,
    async restart() {
      await kill();
      child = spawnIt();
      await waitReady(url, child, dir, 30_000);
    },
    async stop() {
      await kill();
      if (!removed) {
        removed = true;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Starts `count` servers (shards of one cluster named `clusterName`); resolves once each answers
 * `SELECT 1`. On a failure it stops what it started and rethrows.
 */
export async function startClickHouseCluster(count = 1, clusterName = 'rtm_test'): Promise<ClickHouseCluster> {
  requireClickHouse();
  const ports: Ports[] = [];
  for (let i = 0; i < count; i++) ports.push({ http: await freePort(), tcp: await freePort(), interserver: await freePort() });
  const shards: ClickHouseServer[] = [];
  const stop = async (): Promise<void> => {
    for (const s of shards.splice(0)) await s.stop();
  };
  try {
    for (const p of ports) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-clickhouse-'));
      const configFile = writeConfig(dir, p, clusterName);
      // Every shard knows every shard: rewrite with the full list.
      fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(/<remote_servers>.*<\/remote_servers>/s, remoteServers(clusterName, ports)));
      const spawnIt = (): ChildProcess => track(spawn(CLICKHOUSE_BINARY, [`--config-file=${configFile}`], { cwd: dir, stdio: 'ignore' }));
      const child = spawnIt();
      const server = serverAt(dir, p, spawnIt, child);
      shards.push(server);
      await waitReady(server.url, child, dir, 30_000);
    }
    return { clusterName, shards, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One server (step 1 of the ClickHouse engine needs one). */
export async function startClickHouseServer(): Promise<ClickHouseServer> {
  const cluster = await startClickHouseCluster(1);
  return cluster.shards[0] as ClickHouseServer;
}
