/**
 * `rtmetrics service` on RTM_STORE=clickhouse with no server running: it lists and renames in
 * the catalog the nodes share in ClickHouse (not in the data dir, which a ClickHouse node no
 * longer keeps its catalog in), and a node sees the new name on its next read.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/model/clock.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import { createClickHouseCatalog } from '../src/store/clickhouse/catalog-store.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { startClickHouseServer } from './support/clickhouse-server.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/rtmetrics.js');
const run = promisify(execFile);

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('rtmetrics service on RTM_STORE=clickhouse (no server running)', () => {
  it('lists and renames the shared catalog in ClickHouse, where every node reads it', async () => {
    const server = await startClickHouseServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-cli-service-'));
    const database = 'rtm_cli_catalog';
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RTM_') && k !== 'PORT' && k !== 'HOST'));
    // A port nobody listens on: the CLI must open the store itself.
    const env = { ...clean, RTM_DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(await freePort()), RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: database };
    const cli = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      try {
        const { stdout, stderr } = await run(process.execPath, [BIN, 'service', ...args], { env, timeout: 30_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const node = await createClickHouseCatalog({ conn: createClickHouseConnection({ url: server.url, database }), clock: systemClock, nodeId: 'node-a', refreshMs: 3_600_000 });
    try {
      await node.observe({ edge: [{ second: 1000, service: 'shop', datacenter: 'FRA', domain: 'www.shop.com', product: 'edge_application', values: new Float64Array(EDGE_FIELDS.length) }], origin: [], dimension: [] });
      const [shop] = await node.services();
      const listed = await cli(['list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([shop]);
      const renamed = await cli(['rename', 'shop', 'My Shop']);
      expect(renamed.code, renamed.stderr).toBe(0);
      expect(renamed.stdout).toBe(`Renamed shop (id ${shop?.id}) to "My Shop" via ClickHouse at ${server.url} (database ${database})\n`);
      await node.refresh();
      expect((await node.services()).map((s) => [s.id, s.name])).toEqual([[shop?.id, 'My Shop']]);
      expect((await cli(['rename', 'nope', 'x'])).stderr).toContain('no service nope has been seen');
      expect(fs.existsSync(path.join(dir, 'rtmetrics.duckdb'))).toBe(false);
    } finally {
      await node.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
