/**
 * What one core costs the worker's share of ingest: parse + aggregate (parseBodyToDelta, the
 * parse worker's whole job) of the high-cardinality stream of ../shared/peers in ~1 MiB bodies,
 * in this thread, against the one-core floor (`agg.js scan-typed`) run on the same stream in the
 * same bench. Parse alone (parseBody) is timed too, so the aggregation's share shows.
 *
 * Run: node --import tsx bench/parse-peers.ts [--events 1000000] [--rounds 3] [--profile FILE]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { parseBody, parseBodyToDelta } from '../src/ingest/parse-body.ts';
import { createDictionaries } from '../src/model/dictionary.ts';
import { machineLine } from './support/fixtures.ts';
import { peerStream, runPeerAggregator } from './support/peer-stream.ts';
import { int, ratio, report } from './support/report.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'body-bytes': { type: 'string', default: String(1 << 20) },
    profile: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
const COMMAND = `node --import tsx bench/parse-peers.ts --events ${EVENTS} --rounds ${ROUNDS}`;

/** The events file cut at line ends into bodies of about `size` bytes. */
function bodies(file: string, size: number): Buffer[] {
  const all = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let start = 0; start < all.length; ) {
    let end = Math.min(all.length, start + size);
    if (end < all.length) end = all.lastIndexOf(10, end - 1) + 1;
    out.push(all.subarray(start, end));
    start = end;
  }
  return out;
}

const LIMITS = { maxLineBytes: 65_536, maxEvents: 1_000_000, maxErrors: 100 };

function timeRun(parts: readonly Buffer[], job: 'parse' | 'parse+aggregate'): number {
  let events = 0;
  const t0 = process.hrtime.bigint();
  for (const body of parts) {
    // A worker parses every body on dictionaries of its own (parse-worker.ts).
    const dictionaries = createDictionaries();
    const r = job === 'parse' ? parseBody(body, LIMITS, dictionaries) : parseBodyToDelta(body, LIMITS, dictionaries);
    if (r.rejected !== 0) throw new Error(`a peers line was rejected: ${JSON.stringify(r.errors[0])}`);
    events += r.events;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (events !== EVENTS) throw new Error(`parsed ${events} events, expected ${EVENTS}`);
  return events / seconds;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const stream = peerStream(EVENTS);
const parts = bodies(stream.eventsFile, Number(args['body-bytes']));
const floor: number[] = [];
const parse: number[] = [];
const full: number[] = [];
timeRun(parts, 'parse+aggregate'); // warm-up: the JIT, the dictionaries' code paths
const session = args.profile === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
for (let r = 0; r < ROUNDS; r++) {
  floor.push(runPeerAggregator('scan-typed', stream.genFile).events_per_s);
  parse.push(timeRun(parts, 'parse'));
  full.push(timeRun(parts, 'parse+aggregate'));
}
if (session !== undefined && args.profile !== undefined) {
  const { profile } = await session.post('Profiler.stop');
  fs.writeFileSync(args.profile, JSON.stringify(profile));
  console.log(`profile: ${args.profile}`);
}
const f = median(floor);
console.log(machineLine());
report(
  [
    { bench: 'parse-peers', what: `floor: agg.js scan-typed, one core (${parts.length} bodies of the same stream)`, value: `${int(f)} events/s` },
    { bench: 'parse-peers', what: 'parseBody (parse only, one thread)', value: `${int(median(parse))} events/s`, baseline: `${int(f)} events/s`, ratio: ratio(median(parse), f) },
    {
      bench: 'parse-peers',
      what: "parseBodyToDelta (parse + aggregate: a parse worker's job, one thread)",
      value: `${int(median(full))} events/s`,
      baseline: `${int(f)} events/s`,
      ratio: ratio(median(full), f),
    },
  ],
  COMMAND,
);
