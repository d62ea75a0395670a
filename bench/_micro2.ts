import { createWindow } from '../src/aggregate/window.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import { createFakeClock } from '../src/model/clock.ts';
import type { EdgeRecord } from '../src/model/record.ts';
import { edgeVector, popName, serviceName } from './support/records.ts';
const SERVICES = 100, POPS = 60;
const NOW_S = 1_767_225_600;
const clock = createFakeClock(NOW_S * 1000 + 500);
const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 600 });
const vectors = Array.from({ length: 16 }, (_, i) => edgeVector(5 + i));
for (let second = NOW_S - 125; second <= NOW_S; second++) {
  const edge: EdgeRecord[] = [];
  for (let s = 0; s < SERVICES; s++) for (let p = 0; p < POPS; p++) edge.push({ second, service: serviceName(s), datacenter: popName(p), domain: `www.${s}.example`, product: 'edge_application', values: vectors[(s + p + second) % 16] as Float64Array });
  window.apply(deltaFromRecordSet({ edge, origin: [], dimension: [] }));
}
for (let round = 0; round < 10; round++) {
  const t = performance.now();
  for (let i = 0; i < 20; i++) await window.channel(serviceName(i), NOW_S - 122, NOW_S);
  console.log('read per ts/h', ((performance.now() - t) / 20).toFixed(2));
}
