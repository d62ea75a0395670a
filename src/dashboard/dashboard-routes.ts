/**
 * The live dashboard: one static page (uPlot charts) that polls the native API with the token
 * the user pastes (kept in the browser's localStorage, never in the page). The static files carry
 * no data, so they need no token.
 */
import type { FastifyPluginAsync } from 'fastify';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/dashboard': { file: path.join(here, 'static', 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: path.join(here, 'static', 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.js': { file: path.join(uplotDir, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.css': { file: path.join(uplotDir, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.redirect('/dashboard'));
  for (const [url, { file, type }] of Object.entries(FILES)) {
    app.get(url, async (_req, reply) => {
      const body = await fs.readFile(file);
      return reply.type(type).header('cache-control', 'no-cache').send(body);
    });
  }
};
