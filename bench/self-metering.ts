/**
 * The cost of self-metering on the request path: requests/s of a trivial route through
 * app.inject, without the hook, and with the hook and recorder flushing into DuckDB every second
 * (rounds interleaved, best of each); then the main-thread cost of one flush per entity.
 * Run: node --import tsx bench/self-metering.ts
 */
import Fastify from 'fastify';
import { createUsageRecorder, selfMeteringHook } from '../src/api/odsl/self-metering.ts';
import { installRequestPrincipal } from '../src/http/request-principal.ts';
import { systemClock } from '../src/model/clock.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { createDuckDbUsageStore } from '../src/store/duckdb/usage-store.ts';

const REQUESTS = 20_000;
const ROUNDS = 3;

async function run(metered: boolean): Promise<number> {
  const db = await openDuckDb(':memory:');
  const store = await createDuckDbUsageStore(db, { retentionSeconds: 86_400 });
  const recorder = createUsageRecorder({ store, clock: systemClock, environment: 'bench' });
  const app = Fastify();
  installRequestPrincipal(app);
  if (metered) app.addHook('onResponse', selfMeteringHook(recorder));
  app.get('/api/metric', async () => ({ name: 'rtmetrics', version: '0' }));
  await app.ready();
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) await app.inject({ method: 'GET', url: '/api/metric' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await recorder.close();
  await app.close();
  await store.close();
  db.close();
  return REQUESTS / seconds;
}

const best = { metered: 0, unmetered: 0 };
for (let r = 0; r < ROUNDS; r++) {
  best.unmetered = Math.max(best.unmetered, await run(false));
  best.metered = Math.max(best.metered, await run(true));
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`unmetered  ${fmt(best.unmetered)} req/s`);
console.log(`metered    ${fmt(best.metered)} req/s  (best of ${ROUNDS} rounds of ${REQUESTS} requests)`);

const db = await openDuckDb(':memory:');
const store = await createDuckDbUsageStore(db, { retentionSeconds: 86_400 });
const batch = Array.from({ length: 30_000 }, (_, i) => ({
  provider: 'RTMRequest', metric: 'ReadRequests', timestamp: Date.now(), value: 1, type: 'api', action: 'read',
  service: 'metric', method: 'get', httpstatus: 200, duration: 0.5, user: 'tok', application: 'app', environment: 'bench',
  invocationId: `req-${i}`, owner: 'tok', detail: '/api/metric', responseSize: 100,
}));
let insertBest = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  const t = performance.now();
  await store.insert(batch);
  insertBest = Math.min(insertBest, performance.now() - t);
}
console.log(`flush      ${((insertBest * 1000) / batch.length).toFixed(2)} us per entity (batch of ${batch.length}; a read request is 3 entities)`);
await store.close();
db.close();
console.log('command: node --import tsx bench/self-metering.ts');
