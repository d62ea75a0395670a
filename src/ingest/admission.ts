/**
 * Which services of a parsed body the token may write: the per-token check (permissions and the
 * stateful service quota) runs once per body over its distinct services, after parsing, in the
 * order each service first appears among the body's valid events. Parsing itself knows nothing
 * of tokens, so a parse worker and the main thread parse alike and the admission, the same code
 * for both, decides alone; an in-thread body and a worker body get the same answer.
 */
import type { EventBatch } from '../model/event.ts';
import type { Interner } from '../model/dictionary.ts';
import type { LineError } from './ndjson-parser.ts';

/** One distinct service of a parsed body. */
export interface ServiceTally {
  service: string;
  /** Its valid events. */
  events: number;
  /** The lines of its first events (at most the body's maxErrors): what a refusal reports. */
  lines: number[];
}

/**
 * The distinct services of `batch` in order of first appearance; `lines[i]` is the line of event
 * i. Per event one compare (a Map lookup only when the service changes).
 */
export function tallyServices(batch: EventBatch, lines: Int32Array, services: Interner, maxLines: number): ServiceTally[] {
  const byId = new Map<number, ServiceTally>();
  const out: ServiceTally[] = [];
  let lastId = -1;
  let last: ServiceTally | undefined;
  for (let i = 0; i < batch.length; i++) {
    const id = batch.service[i] as number;
    if (id !== lastId) {
      last = byId.get(id);
      if (last === undefined) {
        last = { service: services.name(id), events: 0, lines: [] };
        byId.set(id, last);
        out.push(last);
      }
      lastId = id;
    }
    const t = last as ServiceTally;
    t.events++;
    if (t.lines.length < maxLines) t.lines.push(lines[i] as number);
  }
  return out;
}

export interface Admission {
  /** The services whose events must be dropped. */
  refused: Set<string>;
  /** Their events (all counted as rejected). */
  refusedEvents: number;
  /** The first `maxErrors` refused events, in line order, with the refusal. */
  errors: LineError[];
}

/**
 * Asks `acceptService` (undefined = every service may be written; else the reason to refuse)
 * once per service, in order.
 */
export function admitServices(services: readonly ServiceTally[], acceptService: ((service: string) => string | undefined) | undefined, maxErrors: number): Admission {
  const refused = new Set<string>();
  let refusedEvents = 0;
  let errors: LineError[] = [];
  if (acceptService === undefined) return { refused, refusedEvents, errors };
  for (const t of services) {
    const reason = acceptService(t.service);
    if (reason === undefined) continue;
    refused.add(t.service);
    refusedEvents += t.events;
    // Each service keeps its first maxErrors lines: the first maxErrors of all are among them.
    errors = mergeErrors(
      errors,
      t.lines.map((line) => ({ line, reason })),
      maxErrors,
    );
  }
  return { refused, refusedEvents, errors };
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
