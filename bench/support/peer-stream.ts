/**
 * The high-cardinality stream of ../shared/peers (gen.js: 50 services x 30 POPs x 500 Zipf
 * domains over 600 s, seeded) in both spellings: gen.js' own field names (what agg.js, the
 * one-core floor, reads) and events.md's (what rtmetrics ingests, via to-events.js). Generated
 * once per (events, seed) into .tmp/peers/ (gitignored) and reused: the files are byte-identical
 * for the same arguments, and 5M events take about a minute to write.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const PEERS_DIR = path.resolve(ROOT, '../shared/peers');

export interface PeerStream {
  /** gen.js field names (ts, pop, ...). */
  genFile: string;
  /** events.md field names. */
  eventsFile: string;
  /** The nginx log gen.js writes beside the NDJSON. */
  logFile: string;
  events: number;
}

export function peerStream(events: number, seed = 1): PeerStream {
  const dir = path.join(ROOT, '.tmp', 'peers');
  fs.mkdirSync(dir, { recursive: true });
  const prefix = path.join(dir, `s${events}-${seed}`);
  const genFile = `${prefix}.ndjson`;
  const eventsFile = `${prefix}.events.ndjson`;
  const logFile = `${prefix}.log`;
  if (!fs.existsSync(`${prefix}.done`)) {
    console.log(`generating ${events} events: node ${path.join(PEERS_DIR, 'gen.js')} ${events} ${prefix} ${seed}`);
    execFileSync(process.execPath, [path.join(PEERS_DIR, 'gen.js'), String(events), prefix, String(seed)], { stdio: 'inherit' });
    execFileSync(process.execPath, [path.join(PEERS_DIR, 'to-events.js'), genFile, eventsFile], { stdio: 'inherit' });
    fs.writeFileSync(`${prefix}.done`, '');
  }
  return { genFile, eventsFile, logFile, events };
}

/**
 * The events.md file of `stream` with each event's `client_ip` and `path` added: the address
 * (drawn uniformly from 200,000 clients) and the request path gen.js wrote on the same event's
 * line of the nginx log (what unique clients and top values read). Written once beside it.
 */
export function withClientsAndPaths(stream: PeerStream): string {
  const out = stream.eventsFile.replace(/\.events\.ndjson$/, '.extras.ndjson');
  if (fs.existsSync(`${out}.done`)) return out;
  const events = fs.readFileSync(stream.eventsFile, 'latin1').split('\n');
  const log = fs.readFileSync(stream.logFile, 'latin1').split('\n');
  const fd = fs.openSync(out, 'w');
  try {
    let chunk: string[] = [];
    for (let i = 0; i < events.length; i++) {
      const line = events[i] as string;
      if (line.length === 0) continue;
      const logLine = log[i] as string;
      const ip = logLine.slice(0, logLine.indexOf(' '));
      // ... "METHOD /path HTTP/1.1" ...
      const request = logLine.slice(logLine.indexOf('"') + 1);
      const path = request.slice(request.indexOf(' ') + 1, request.indexOf(' HTTP/'));
      chunk.push(`${line.slice(0, -1)},"client_ip":"${ip}","path":${JSON.stringify(path)}}`);
      if (chunk.length === 50_000) {
        fs.writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) fs.writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(`${out}.done`, '');
  return out;
}

export interface FloorResult {
  events_per_s: number;
  maxRSS_MB: number;
  seconds: number;
  buckets: number;
}

/** `node agg.js MODE FILE` (scan-typed: the one-core floor; json-map: the naive loop). */
export function runPeerAggregator(mode: 'scan-typed' | 'json-map', genFile: string): FloorResult {
  const out = execFileSync(process.execPath, [path.join(PEERS_DIR, 'agg.js'), mode, genFile], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = out.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as FloorResult;
}
