/**
 * Throughput of aggregateBatch (events/s, in-process, no parsing).
 * Run: node --import tsx bench/aggregate-batch.ts [events-per-batch] [services] [datacenters]
 */
import { aggregateBatch } from '../src/aggregate/aggregate-batch.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import { createEventBatch, FLAG_COMPUTE, FLAG_IPV6, FLAG_SHIELD, type EventBatch } from '../src/model/event.ts';

const batchSize = Number(process.argv[2] ?? 10_000);
const services = Number(process.argv[3] ?? 100);
const datacenters = Number(process.argv[4] ?? 60);
const dicts = createDictionaries();

// Deterministic pseudo-random traffic: mostly hits, some fetches, a few compute events.
let seed = 42;
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const pick = (k: number): number => Math.floor(rnd() * k);

function makeBatch(second: number): EventBatch {
  const b = createEventBatch(batchSize);
  for (let i = 0; i < batchSize; i++) {
    const svc = pick(services);
    b.second[i] = second + (i * 2 >= batchSize ? 1 : 0);
    b.service[i] = dicts.service.id(`svc${svc}`);
    b.datacenter[i] = dicts.datacenter.id(`DC${pick(datacenters)}`);
    b.domain[i] = dicts.domain.id(`www${pick(3)}.svc${svc}.example`);
    b.backend[i] = dicts.backend.id(`origin${pick(2)}`);
    b.method[i] = dicts.method.id(rnd() < 0.9 ? 'GET' : 'POST');
    b.status[i] = rnd() < 0.9 ? 200 : [304, 404, 503][pick(3)] as number;
    b.cache[i] = rnd() < 0.8 ? 0 : 1 + pick(4);
    b.tls[i] = rnd() < 0.9 ? 4 : pick(5);
    b.http[i] = pick(4);
    b.waf[i] = rnd() < 0.95 ? 0 : 1 + pick(3);
    b.product[i] = pick(2);
    b.flags[i] = (rnd() < 0.1 ? FLAG_SHIELD : 0) | (rnd() < 0.05 ? FLAG_COMPUTE : 0) | (rnd() < 0.3 ? FLAG_IPV6 : 0);
    const fetched = b.cache[i] !== 0;
    b.originStatus[i] = fetched ? 200 : -1;
    b.reqHeaderBytes[i] = 400 + pick(200);
    b.respHeaderBytes[i] = 300 + pick(200);
    b.respBodyBytes[i] = pick(200_000);
    b.timeMs[i] = rnd() * 50;
    if (fetched) {
      b.bereqHeaderBytes[i] = 500;
      b.berespHeaderBytes[i] = 300;
      b.berespBodyBytes[i] = b.respBodyBytes[i] as number;
      b.originTimeMs[i] = rnd() * 500;
    }
    b.computeTimeMs[i] = rnd() * 100;
  }
  b.length = batchSize;
  return b;
}

const batches = Array.from({ length: 20 }, (_, k) => makeBatch(1_700_000_000 + 2 * k));
const rates: number[] = [];
let records = 0;
for (let r = 0; r < 15; r++) {
  // CPU time, not wall time: the figure should not depend on what else the machine runs.
  const start = process.cpuUsage();
  for (const b of batches) records += aggregateBatch(b, dicts).edge.length;
  const used = process.cpuUsage(start);
  rates.push((batches.length * batchSize) / ((used.user + used.system) / 1e6));
}
const steady = rates.slice(5).sort((a, b) => a - b); // the first rounds warm up the JIT
const median = steady[Math.floor(steady.length / 2)] as number;
console.log(`node --import tsx bench/aggregate-batch.ts ${batchSize} ${services} ${datacenters}`);
console.log(
  `aggregateBatch: ${(median / 1e6).toFixed(2)} M events/s median (${batchSize} events per batch, ${(records / 15 / batches.length).toFixed(0)} edge records per batch)`,
);
