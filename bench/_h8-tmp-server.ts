// temporary (H8): the ingest path assembled by hand until the lead wires it; deleted before handing back
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { aggregateBatch } from '../src/aggregate/aggregate-batch.ts';
import { installErrorHandling } from '../src/app.ts';
import { testConfig } from '../src/config/config.ts';
import { ingestRoutes } from '../src/ingest/ingest-route.ts';
import { createIngestPipeline } from '../src/ingest/pipeline.ts';
import { systemClock } from '../src/model/clock.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../src/store/duckdb/metric-store.ts';
import { benchTokens } from './support/fixtures.ts';

export async function startHandServer(dir: string) {
  const config = testConfig(dir, { adminToken: 'bench-token', port: 0 });
  const db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
  const store = await createDuckDbMetricStore(db, { retention: config.retention });
  const pipeline = await createIngestPipeline({
    config, clock: systemClock, logger: pino({ level: 'warn' }), store,
    window: { apply: () => undefined, latestPublished: () => Math.floor(Date.now() / 1000) - 2 },
    aggregate: aggregateBatch, dictionaries: createDictionaries(),
  });
  const app = Fastify({ bodyLimit: config.limits.maxBodyBytes });
  installErrorHandling(app);
  await app.register(ingestRoutes, { sink: pipeline, tokens: benchTokens, limits: config.limits });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, async stop() { await app.close(); await pipeline.close(); await store.close(); db.close(); } };
}
