/**
 * `rtmetrics token ...` as a user runs it: a child process, against a temp data dir when no
 * server answers, and through the admin API when one does.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminRoutes } from '../src/api/admin/token-routes.ts';
import { createTokenVerifier } from '../src/api/tokens.ts';
import { installErrorHandling } from '../src/app.ts';
import { testConfig } from '../src/config/config.ts';
import { systemClock } from '../src/model/clock.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseTokenStore, type ClickHouseTokenStore } from '../src/store/clickhouse/token-store.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbTokenStore } from '../src/store/duckdb/token-store.ts';
import { startClickHouseServer } from './support/clickhouse-server.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/rtmetrics.js');
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

let dir: string;
let env: NodeJS.ProcessEnv;

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'token', ...args], { env: { ...env, ...extraEnv }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-cli-token-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RTM_') && k !== 'PORT' && k !== 'HOST'));
  // A port nobody listens on: the CLI must fall back to the data dir.
  env = { ...clean, RTM_DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(await freePort()) };
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('rtmetrics token (no server running)', () => {
  it('creates, lists and revokes tokens in the data dir', async () => {
    const created = await cli(['create', '--name', 'edge logs', '--services', 'svc-a,svc-b', '--scopes', 'read,ingest', '--json']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const token = JSON.parse(created.stdout) as { id: string; name: string; services: string[]; scopes: string[]; token: string };
    expect(token).toMatchObject({ name: 'edge logs', services: ['svc-a', 'svc-b'], scopes: ['read', 'ingest'] });
    expect(token.token).toMatch(/^rtm_[A-Za-z0-9_-]{32}$/);
    expect(fs.existsSync(path.join(dir, 'rtmetrics.duckdb'))).toBe(true);

    const human = await cli(['create', '--name', 'ops', '--services', 'all', '--scopes', 'admin']);
    expect(human.code).toBe(0);
    const secret = /secret:\s+(rtm_\S+)/.exec(human.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(human.stdout.split(secret!).length).toBe(2); // printed exactly once
    expect(human.stdout).toContain('shown only this once');

    const listed = await cli(['list', '--json']);
    expect(listed.code).toBe(0);
    const tokens = JSON.parse(listed.stdout) as { id: string; name: string; services: unknown }[];
    expect(tokens.map((t) => t.name).sort()).toEqual(['edge logs', 'ops']);
    expect(listed.stdout).not.toContain(token.token);
    expect(listed.stdout).not.toContain(secret);

    const table = await cli(['list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+SERVICES\s+SCOPES\s+CREATED$/);
    expect(table.stdout).toMatch(new RegExp(`${token.id}\\s+edge logs\\s+svc-a,svc-b\\s+read,ingest\\s+\\d{4}-`));

    expect(await cli(['revoke', token.id])).toMatchObject({ code: 0, stdout: `Revoked ${token.id}\n` });
    const again = await cli(['revoke', token.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no token with id ${token.id}`);

    // What the server would load: the revoked secret fails, the other verifies.
    const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
    const store = await createDuckDbTokenStore({ db, clock: systemClock });
    expect(await store.verify(token.token)).toBeUndefined();
    expect((await store.verify(secret!))?.name).toBe('ops');
    await store.close?.();
    db.close();
  });

  it.each([
    [['--name', 'x', '--services', 'all', '--scopes', 'root'], /unknown scope "root"/],
    [['--name', 'x', '--services', 'a b', '--scopes', 'read'], /invalid service id "a b"/],
    [['--name', 'x', '--services', ',', '--scopes', 'read'], /services must be/],
    [['--name', 'x', '--scopes', 'read'], /required option '--services <list>'/],
  ])('create %j fails with a clear message and writes nothing', async (args, message) => {
    const r = await cli(['create', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(dir, 'rtmetrics.duckdb'))).toBe(false);
  });

  it('does not fall back to the data dir when the chosen --url does not answer', async () => {
    const r = await cli(['list', '--url', `http://127.0.0.1:${env['PORT']}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no server answers at');
    expect(fs.existsSync(path.join(dir, 'rtmetrics.duckdb'))).toBe(false);
  });
});

describe('rtmetrics token on RTM_STORE=clickhouse (no server running)', () => {
  it('creates, lists and revokes the shared tokens in ClickHouse, where every node reads them', async () => {
    const server = await startClickHouseServer();
    const database = 'rtm_cli_tokens';
    const chEnv = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: database };
    let node: ClickHouseTokenStore | undefined;
    try {
      // What a node holds: a store on the same database.
      node = await createClickHouseTokenStore({ conn: createClickHouseConnection({ url: server.url, database }), clock: systemClock, nodeId: 'node-a', refreshMs: 3_600_000 });
      const made = await cli(['create', '--name', 'ci', '--services', 'shop', '--scopes', 'read,ingest', '--json'], chEnv);
      expect(made.code, made.stderr).toBe(0);
      const { token: secret, ...info } = JSON.parse(made.stdout) as { token: string; id: string };
      await node.refresh();
      expect((await node.verify(secret))?.tokenId).toBe(info.id);
      const listed = await cli(['list', '--json'], chEnv);
      expect(JSON.parse(listed.stdout)).toEqual([{ id: info.id, name: 'ci', services: ['shop'], scopes: ['read', 'ingest'], created: expect.any(String) as string }]);
      const human = await cli(['list'], chEnv);
      expect(human.stdout).toContain(info.id);
      // Nothing written to the data dir's DuckDB file, which a ClickHouse node no longer reads tokens from.
      expect(fs.existsSync(path.join(dir, 'rtmetrics.duckdb'))).toBe(false);
      const revoked = await cli(['revoke', info.id], chEnv);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout).toBe(`Revoked ${info.id}\n`);
      await node.refresh();
      expect(await node.verify(secret)).toBeUndefined();
      expect((await cli(['revoke', info.id], chEnv)).stderr).toContain(`no token with id ${info.id}`);
    } finally {
      await node?.close();
      await server.stop();
    }
  });
});

describe('rtmetrics token (server running)', () => {
  it('goes through the admin API, with the admin token from the environment or the data dir', async () => {
    // The server holds the DuckDB file, as `rtmetrics serve` would.
    const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
    const store = await createDuckDbTokenStore({ db, clock: systemClock });
    const config = testConfig(dir); // no RTM_ADMIN_TOKEN: generated into dir/admin-token
    const verifier = await createTokenVerifier({ config, logger: pino({ level: 'silent' }), store });
    const app = Fastify();
    installErrorHandling(app);
    await app.register(adminRoutes, { verifier, store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as net.AddressInfo;
    try {
      const serverEnv = { PORT: String(port) };
      const created = await cli(['create', '--name', 'via-http', '--services', 'web', '--scopes', 'read', '--json'], serverEnv);
      expect(created).toMatchObject({ code: 0, stderr: '' });
      const t = JSON.parse(created.stdout) as { id: string; token: string };
      // The running server knows the new token at once.
      expect((await store.verify(t.token))?.tokenId).toBe(t.id);

      const human = await cli(['create', '--name', 'h', '--services', 'web', '--scopes', 'read'], serverEnv);
      expect(human.stdout).toContain(`via http://127.0.0.1:${port}`);

      const listed = await cli(['list', '--json'], serverEnv);
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((x) => x.name).sort()).toEqual(['h', 'via-http']);

      expect((await cli(['revoke', t.id], serverEnv)).code).toBe(0);
      expect(await store.verify(t.token)).toBeUndefined();

      const refused = await cli(['list'], { ...serverEnv, RTM_ADMIN_TOKEN: 'wrong' });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('the server refused the token');

      const viaUrl = await cli(['list', '--json', '--token', fs.readFileSync(path.join(dir, 'admin-token'), 'utf8').trim()], {
        RTM_URL: `http://127.0.0.1:${port}`,
      });
      expect(viaUrl.code).toBe(0);

      // A server at another address holds the file: the CLI says so instead of failing obscurely.
      const locked = await cli(['list']);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('is in use by another process');
    } finally {
      await app.close();
      await store.close?.();
      db.close();
    }
  });
});
