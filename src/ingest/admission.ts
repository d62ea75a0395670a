/**
 * Which services of a parsed body may be written, and which of their key values are counted
 * under OTHER_KEY: the per-token check (permissions and the stateful service quota) runs once per
 * body over its distinct services, after parsing, in the order each service first appears among
 * the body's valid events; then the per-service key caps (key-cap.ts) run over each admitted
 * service's distinct domains, datacenters and backends (in CAPPED_KEYS order, each in the order
 * its values first appear among that service's events). Parsing itself knows nothing of tokens or
 * caps, so a parse worker and the main thread parse alike and the admission, the same code for
 * both, decides alone; an in-thread body and a worker body get the same answer.
 */
import { ORIGIN_ABSENT, type EventBatch } from '../model/event.ts';
import type { Interner } from '../model/dictionary.ts';
import { CAPPED_KEYS, type CappedKey } from '../model/other-key.ts';
import type { LineError } from './ndjson-parser.ts';

/** One distinct value of a capped key of a service in a parsed body. */
export interface KeyTally {
  value: string;
  /** Its valid events (of this service). */
  events: number;
  /** The lines of its first events (at most the body's maxErrors): what a warning reports. */
  lines: number[];
}

/** One distinct service of a parsed body. */
export interface ServiceTally {
  service: string;
  /** Its valid events. */
  events: number;
  /** The lines of its first events (at most the body's maxErrors): what a refusal reports. */
  lines: number[];
  /**
   * Its distinct values of each capped key, in order of first appearance among its events.
   * Backends only of its origin fetches: only those make an origin key (aggregate-batch.ts).
   */
  keys: Record<CappedKey, KeyTally[]>;
}

/** The running tally of one capped key of one service: value id -> its tally, and the last one looked up. */
interface KeyCounts {
  byId: Map<number, KeyTally>;
  lastId: number;
  last: KeyTally | undefined;
}

interface ServiceCounts {
  tally: ServiceTally;
  domain: KeyCounts;
  datacenter: KeyCounts;
  backend: KeyCounts;
}

const keyCounts = (): KeyCounts => ({ byId: new Map(), lastId: -1, last: undefined });

/** Counts event `line` for value `id` of one key (a Map lookup only when the value changes from the last one counted). */
function countValue(k: KeyCounts, out: KeyTally[], id: number, names: Interner, line: number, maxLines: number): void {
  if (id !== k.lastId) {
    k.last = k.byId.get(id);
    if (k.last === undefined) {
      k.last = { value: names.name(id), events: 0, lines: [] };
      k.byId.set(id, k.last);
      out.push(k.last);
    }
    k.lastId = id;
  }
  const t = k.last as KeyTally;
  t.events++;
  if (t.lines.length < maxLines) t.lines.push(line);
}

/**
 * The distinct services of `batch` in order of first appearance, each with its distinct values of
 * every capped key; `lines[i]` is the line of event i. Per event a few compares (Map lookups only
 * when the service or a value changes from the one before).
 */
export function tallyServices(batch: EventBatch, lines: Int32Array, names: Record<'service' | CappedKey, Interner>, maxLines: number): ServiceTally[] {
  const byId = new Map<number, ServiceCounts>();
  const out: ServiceTally[] = [];
  let lastId = -1;
  let last: ServiceCounts | undefined;
  for (let i = 0; i < batch.length; i++) {
    const id = batch.service[i] as number;
    if (id !== lastId) {
      last = byId.get(id);
      if (last === undefined) {
        last = { tally: { service: names.service.name(id), events: 0, lines: [], keys: { domain: [], datacenter: [], backend: [] } }, domain: keyCounts(), datacenter: keyCounts(), backend: keyCounts() };
        byId.set(id, last);
        out.push(last.tally);
      }
      lastId = id;
    }
    const s = last as ServiceCounts;
    const t = s.tally;
    const line = lines[i] as number;
    t.events++;
    if (t.lines.length < maxLines) t.lines.push(line);
    countValue(s.domain, t.keys.domain, batch.domain[i] as number, names.domain, line, maxLines);
    countValue(s.datacenter, t.keys.datacenter, batch.datacenter[i] as number, names.datacenter, line, maxLines);
    if (batch.originStatus[i] !== ORIGIN_ABSENT) countValue(s.backend, t.keys.backend, batch.backend[i] as number, names.backend, line, maxLines);
  }
  return out;
}

/** Per capped key, per admitted service, the values past its cap, whose events are counted under OTHER_KEY. */
export type FoldedKeys = Record<CappedKey, Map<string, Set<string>>>;

export interface Admission {
  /** The services whose events must be dropped. */
  refused: Set<string>;
  /** The events of refused services (all counted as rejected). */
  refusedEvents: number;
  /** The first `maxErrors` refused events, in line order, with the refusal. */
  errors: LineError[];
  /** The values to count under OTHER_KEY (a service absent: none of its values). */
  foldedKeys: FoldedKeys;
  /**
   * The first `maxErrors` warnings, in line order, with why: one per folded key of a line (a line
   * whose domain and datacenter are both past their caps has two, domain first).
   */
  warnings: LineError[];
}

/** Undefined when the events may be written, else the reason to refuse their lines. */
export type AcceptService = (service: string) => string | undefined;
/** Undefined when `value` may be a `key` of its own for `service`, else why its events are counted under OTHER_KEY. */
export type AcceptKey = (key: CappedKey, service: string, value: string) => string | undefined;

/** True when some value of some key is folded. */
export function anyFolded(folded: FoldedKeys): boolean {
  return CAPPED_KEYS.some((k) => folded[k].size > 0);
}

/**
 * Asks `acceptService` (undefined = every service may be written) once per service, in order,
 * then `acceptKey` (undefined = every value) once per distinct value of each capped key of each
 * admitted service, in order. Refused lines are reported in line order, the first `maxErrors` of
 * them; lines of a value `acceptKey` turns away are kept, folded into OTHER_KEY, and reported as
 * warnings the same way.
 */
export function admitServices(services: readonly ServiceTally[], acceptService: AcceptService | undefined, maxErrors: number, acceptKey?: AcceptKey): Admission {
  const refused = new Set<string>();
  const foldedKeys: FoldedKeys = { domain: new Map(), datacenter: new Map(), backend: new Map() };
  let refusedEvents = 0;
  const errors: { list: LineError[] } = { list: [] };
  const warnings: { list: LineError[] } = { list: [] };
  // Each service (value) keeps its first maxErrors lines: the first maxErrors of all are among them.
  const report = (to: { list: LineError[] }, lines: readonly number[], reason: string): void => {
    // A full list whose last line comes before these keeps them all out (many folded values).
    const full = to.list.length >= maxErrors;
    if (lines.length === 0 || (full && (maxErrors === 0 || (lines[0] as number) > (to.list[to.list.length - 1] as LineError).line))) return;
    to.list = mergeErrors(
      to.list,
      lines.map((line) => ({ line, reason })),
      maxErrors,
    );
  };
  for (const t of services) {
    const reason = acceptService?.(t.service);
    if (reason !== undefined) {
      refused.add(t.service);
      refusedEvents += t.events;
      report(errors, t.lines, reason);
      continue;
    }
    if (acceptKey === undefined) continue;
    for (const key of CAPPED_KEYS) {
      for (const v of t.keys[key]) {
        const why = acceptKey(key, t.service, v.value);
        if (why === undefined) continue;
        const byService = foldedKeys[key];
        let set = byService.get(t.service);
        if (set === undefined) byService.set(t.service, (set = new Set()));
        set.add(v.value);
        report(warnings, v.lines, why);
      }
    }
  }
  return { refused, refusedEvents, errors: errors.list, foldedKeys, warnings: warnings.list };
}

/** Merges two line-ordered error lists, keeping the first `max`. */
export function mergeErrors(a: readonly LineError[], b: readonly LineError[], max: number): LineError[] {
  const out: LineError[] = [];
  let i = 0;
  let j = 0;
  while (out.length < max && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.line <= y.line)) {
      out.push(x as LineError);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}
