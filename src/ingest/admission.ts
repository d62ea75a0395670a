/**
 * Which services and domains of a parsed body may be written: the per-token check (permissions
 * and the stateful service quota) runs once per body over its distinct services, after parsing,
 * in the order each service first appears among the body's valid events; then the per-service
 * domain cap (domain-cap.ts) runs over each admitted service's distinct domains, in the order
 * each first appears among that service's events. Parsing itself knows nothing of tokens or
 * caps, so a parse worker and the main thread parse alike and the admission, the same code for
 * both, decides alone; an in-thread body and a worker body get the same answer.
 */
import type { EventBatch } from '../model/event.ts';
import type { Interner } from '../model/dictionary.ts';
import type { LineError } from './ndjson-parser.ts';

/** One distinct domain of a service in a parsed body. */
export interface DomainTally {
  domain: string;
  /** Its valid events (of this service). */
  events: number;
  /** The lines of its first events (at most the body's maxErrors): what a refusal reports. */
  lines: number[];
}

/** One distinct service of a parsed body. */
export interface ServiceTally {
  service: string;
  /** Its valid events. */
  events: number;
  /** The lines of its first events (at most the body's maxErrors): what a refusal reports. */
  lines: number[];
  /** Its distinct domains, in order of first appearance among its events. */
  domains: DomainTally[];
}

interface ServiceCounts {
  tally: ServiceTally;
  domains: Map<number, DomainTally>;
}

/**
 * The distinct services of `batch` in order of first appearance, each with its distinct domains;
 * `lines[i]` is the line of event i. Per event two compares (Map lookups only when the service
 * or the domain changes from the event before).
 */
export function tallyServices(batch: EventBatch, lines: Int32Array, names: { service: Interner; domain: Interner }, maxLines: number): ServiceTally[] {
  const byId = new Map<number, ServiceCounts>();
  const out: ServiceTally[] = [];
  let lastId = -1;
  let last: ServiceCounts | undefined;
  let lastDomainId = -1;
  let lastDomain: DomainTally | undefined;
  for (let i = 0; i < batch.length; i++) {
    const id = batch.service[i] as number;
    const domainId = batch.domain[i] as number;
    if (id !== lastId) {
      last = byId.get(id);
      if (last === undefined) {
        last = { tally: { service: names.service.name(id), events: 0, lines: [], domains: [] }, domains: new Map() };
        byId.set(id, last);
        out.push(last.tally);
      }
      lastId = id;
      lastDomainId = -1;
    }
    const s = last as ServiceCounts;
    const t = s.tally;
    const line = lines[i] as number;
    t.events++;
    if (t.lines.length < maxLines) t.lines.push(line);
    if (domainId !== lastDomainId) {
      lastDomain = s.domains.get(domainId);
      if (lastDomain === undefined) {
        lastDomain = { domain: names.domain.name(domainId), events: 0, lines: [] };
        s.domains.set(domainId, lastDomain);
        t.domains.push(lastDomain);
      }
      lastDomainId = domainId;
    }
    const d = lastDomain as DomainTally;
    d.events++;
    if (d.lines.length < maxLines) d.lines.push(line);
  }
  return out;
}

export interface Admission {
  /** The services whose events must be dropped. */
  refused: Set<string>;
  /** The events of refused services (all counted as rejected). */
  refusedEvents: number;
  /** The first `maxErrors` refused events, in line order, with the refusal. */
  errors: LineError[];
  /** Per admitted service, the domains past the cap, whose events are counted under OTHER_KEY (absent: none). */
  foldedDomains: Map<string, Set<string>>;
  /** Their events (accepted). */
  foldedEvents: number;
  /** The first `maxErrors` folded events, in line order, with why. */
  warnings: LineError[];
}

/** Undefined when the events may be written, else the reason to refuse their lines. */
export type AcceptService = (service: string) => string | undefined;
/** Undefined when the domain may be a key of its own, else why its events are counted under OTHER_KEY. */
export type AcceptDomain = (service: string, domain: string) => string | undefined;

/**
 * Asks `acceptService` (undefined = every service may be written) once per service, in order,
 * then `acceptDomain` (undefined = every domain) once per distinct domain of each admitted
 * service, in order. Refused lines are reported in line order, the first `maxErrors` of them;
 * lines of a domain `acceptDomain` turns away are kept, folded into OTHER_KEY, and reported as
 * warnings the same way.
 */
export function admitServices(
  services: readonly ServiceTally[],
  acceptService: AcceptService | undefined,
  maxErrors: number,
  acceptDomain?: AcceptDomain,
): Admission {
  const refused = new Set<string>();
  const foldedDomains = new Map<string, Set<string>>();
  let refusedEvents = 0;
  let foldedEvents = 0;
  const errors: { list: LineError[] } = { list: [] };
  const warnings: { list: LineError[] } = { list: [] };
  // Each service (domain) keeps its first maxErrors lines: the first maxErrors of all are among them.
  const report = (to: { list: LineError[] }, lines: readonly number[], reason: string): void => {
    // A full list whose last line comes before these keeps them all out (many folded domains).
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
    if (acceptDomain === undefined) continue;
    for (const d of t.domains) {
      const why = acceptDomain(t.service, d.domain);
      if (why === undefined) continue;
      let set = foldedDomains.get(t.service);
      if (set === undefined) foldedDomains.set(t.service, (set = new Set()));
      set.add(d.domain);
      foldedEvents += d.events;
      report(warnings, d.lines, why);
    }
  }
  return { refused, refusedEvents, errors: errors.list, foldedDomains, foldedEvents, warnings: warnings.list };
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
