/**
 * `rtmetrics service list|rename` against a data dir (no server) and against a running server's
 * admin API, plus the admin routes themselves.
 */
import { Command } from 'commander';
import Fastify, { type FastifyInstance } from 'fastify';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { edgeRecord, fixedTokens } from '../../test/support/azion-fixtures.ts';
import { serviceAdminRoutes } from '../api/admin/service-routes.ts';
import { installErrorHandling } from '../app.ts';
import type { Catalog } from '../store/catalog.ts';
import { createDuckDbCatalog, sequentialIds } from '../store/duckdb/catalog-store.ts';
import { openDuckDb, type DuckDb } from '../store/duckdb/database.ts';
import { registerServiceCommands } from './service.ts';

const records = {
  edge: [edgeRecord({ service: 'shop', domain: 'www.shop.com', second: 1 }, { requests: 1 }), edgeRecord({ service: 'blog', domain: 'blog.io', second: 1 }, { requests: 1 })],
  origin: [],
  dimension: [],
};

/** A port nothing listens on, so the CLI's probe of the default URL finds no server. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    registerServiceCommands(program);
    await program.parseAsync(['node', 'rtmetrics', 'service', ...args]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: out.join(''), err: err.join('') };
}

describe('rtmetrics service', () => {
  let dir: string;
  let file: string;
  const savedPort = process.env['PORT'];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-service-cli-'));
    file = path.join(dir, 'rtmetrics.duckdb');
    process.env['PORT'] = String(await closedPort());
  });
  afterEach(() => {
    if (savedPort === undefined) delete process.env['PORT'];
    else process.env['PORT'] = savedPort;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const seed = async (): Promise<void> => {
    const db = await openDuckDb(file);
    const catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
    await catalog.observe(records);
    await catalog.close();
    db.close();
  };

  describe('with no server: the data dir database', () => {
    it('lists and renames; the name survives', async () => {
      await seed();
      const listed = await runCli('list', '--data-dir', dir, '--json');
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([
        { id: 1, service: 'shop', name: 'shop', products: ['edge_application'], domains: [{ id: 2, domain: 'www.shop.com', products: ['edge_application'] }] },
        { id: 3, service: 'blog', name: 'blog', products: ['edge_application'], domains: [{ id: 4, domain: 'blog.io', products: ['edge_application'] }] },
      ]);
      const renamed = await runCli('rename', 'shop', 'My Shop', '--data-dir', dir);
      expect(renamed).toEqual({ code: 0, out: `Renamed shop (id 1) to "My Shop" via ${file}\n`, err: '' });
      const table = await runCli('list', '--data-dir', dir);
      expect(table.out.split('\n')[1]).toMatch(/^1\s+shop\s+My Shop\s+edge_application\s+www\.shop\.com\(2\)$/);
    });

    it('fails clearly for an unknown service, a bad name, a missing database', async () => {
      await seed();
      expect(await runCli('rename', 'nope', 'X', '--data-dir', dir)).toEqual({ code: 1, out: '', err: 'rtmetrics service: no service nope has been seen\n' });
      expect(await runCli('rename', 'shop', '  ', '--data-dir', dir)).toMatchObject({ code: 1, err: 'rtmetrics service: the name is empty\n' });
      const missing = await runCli('list', '--data-dir', path.join(dir, 'nothing-here'));
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('no database at');
      expect(fs.existsSync(path.join(dir, 'nothing-here'))).toBe(false);
    });
  });

  describe('with a server: the admin API', () => {
    let db: DuckDb;
    let catalog: Catalog;
    let app: FastifyInstance;
    let url: string;

    beforeEach(async () => {
      db = await openDuckDb(file);
      catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
      await catalog.observe(records);
      app = Fastify();
      installErrorHandling(app);
      await app.register(serviceAdminRoutes, { catalog, verifier: fixedTokens() });
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    afterEach(async () => {
      await app.close();
      await catalog.close();
      db.close();
    });

    it('renames through the server while it holds the database', async () => {
      const renamed = await runCli('rename', 'blog', 'The Blog', '--url', url, '--token', 'admin');
      expect(renamed).toEqual({ code: 0, out: `Renamed blog (id 3) to "The Blog" via ${url}\n`, err: '' });
      expect((await catalog.services()).map((s) => s.name)).toEqual(['shop', 'The Blog']);
      const listed = await runCli('list', '--url', url, '--token', 'admin', '--json');
      expect((JSON.parse(listed.out) as { name: string }[]).map((s) => s.name)).toEqual(['shop', 'The Blog']);
    });

    it('reports a refused token and an unknown service', async () => {
      const refused = await runCli('rename', 'blog', 'X', '--url', url, '--token', 'reader-all');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('the server refused the token');
      expect(await runCli('rename', 'nope', 'X', '--url', url, '--token', 'admin')).toMatchObject({ code: 1, err: 'rtmetrics service: no service nope has been seen\n' });
    });

    it('admin routes: native envelope errors, services limited to the token', async () => {
      const post = (service: string, body: unknown, token = 'admin') =>
        app.inject({ method: 'POST', url: `/admin/services/${service}/rename`, headers: { authorization: `Bearer ${token}` }, payload: body as object });
      expect((await post('shop', { name: 'Shop!' })).json()).toMatchObject({ service: { id: 1, service: 'shop', name: 'Shop!' } });
      expect((await post('shop', { title: 'x' })).json()).toEqual({
        error: { code: 'RTM_ERR_REQUEST_BAD_PARAM', message: 'Invalid parameter', detail: 'The body must be {"name": "<new name>"}' },
      });
      expect((await post('shop', { name: 'x'.repeat(201) })).statusCode).toBe(400);
      expect((await post('nope', { name: 'x' })).json()).toMatchObject({ error: { code: 'RTM_ERR_CATALOG_UNKNOWN_SERVICE' } });
      expect((await post('shop', { name: 'x' }, 'reader-all')).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/admin/services' })).statusCode).toBe(401);
    });
  });
});
