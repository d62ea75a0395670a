/**
 * The dashboard: one static page and its ES modules (./static), and uPlot from node_modules,
 * served by @fastify/static (no outside CDN). The files carry no data, so they need no token;
 * the page reads everything through the native API with the token the user gives it, which it
 * keeps in the browser session only (sessionStorage).
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.redirect('/dashboard'));
  await app.register(fastifyStatic, {
    root: path.join(here, 'static'),
    prefix: '/dashboard/',
    // Always revalidate: a new version of the page must not run against a stale module.
    cacheControl: false,
    setHeaders: (reply) => void reply.header('cache-control', 'no-cache'),
  });
  await app.register(fastifyStatic, {
    root: uplotDir,
    prefix: '/dashboard/vendor/',
    decorateReply: false,
    allowedPath: (pathName) => pathName === '/uPlot.iife.min.js' || pathName === '/uPlot.min.css',
  });
  app.get('/dashboard', async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
};
