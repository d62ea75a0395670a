import { createWindow } from '../src/aggregate/window.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import { createFakeClock } from '../src/model/clock.ts';
import type { EdgeRecord } from '../src/model/record.ts';
import { edgeVector, popName, serviceName } from '../bench/support/records.ts';
import { channelEntryJson } from '../src/api/fastly/render-json.ts';
const SERVICES = Number(process.argv[2] ?? 100), POPS = 60;
const NOW_S = 1_767_225_600;
const clock = createFakeClock(NOW_S * 1000 + 500);
const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 600 });
const vectors = Array.from({ length: 16 }, (_, i) => edgeVector(5 + i));
let applyMs = 0;
for (let second = NOW_S - 125; second <= NOW_S; second++) {
  const edge: EdgeRecord[] = [];
  for (let s = 0; s < SERVICES; s++) for (let p = 0; p < POPS; p++) edge.push({ second, service: serviceName(s), datacenter: popName(p), domain: `www.${s}.example`, product: 'edge_application', values: vectors[(s + p + second) % 16] as Float64Array });
  const d = deltaFromRecordSet({ edge, origin: [], dimension: [] });
  const t = performance.now(); window.apply(d); applyMs += performance.now() - t;
}
console.log('apply per second', (applyMs / 126).toFixed(1), 'ms for', SERVICES * POPS, 'rows', JSON.stringify(window.stats()));
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  let n = 0;
  const reads = [];
  for (let i = 0; i < 20; i++) { const r = await window.channel(serviceName(i), NOW_S - 122, NOW_S); n += r.length; reads.push(r); }
  const tr = (performance.now() - t) / 20;
  t = performance.now();
  let len = 0;
  for (const r of reads) for (const s of r) len += Buffer.from(channelEntryJson(s)).length;
  console.log('read per ts/h', tr.toFixed(2), 'ms; render', ((performance.now() - t) / 20).toFixed(2), 'ms', n, len);
}
