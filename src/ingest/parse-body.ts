/**
 * One NDJSON body, parsed and admitted, in either of two shapes that answer alike:
 * - in-thread (small bodies, no workers): events in a batch on the sink's Dictionaries, which
 *   the pipeline aggregates with the other bodies of its commit;
 * - on a parse worker (parse-worker.ts): parsed AND aggregated there into a Delta carrying its
 *   own strings, so the main thread neither maps ids nor aggregates.
 * Both parse with no token in mind (parseBody), on dictionaries of their own, and leave the
 * per-token service check and the per-service domain cap to the admission (admission.ts) on the
 * main thread; refused services' events are then dropped from the batch or the delta. A worker
 * body with refused domains is parsed again on this thread with the admission's decision (a
 * delta's origin rows cannot tell which domain's events they summed), so only bodies that hit the
 * cap pay twice. So a body gets the same response and the same totals whichever way it went, and
 * no name of a refused line is interned into the sink's dictionaries (the service quota and the
 * domain cap bound what one token can make the process hold).
 */
import { aggregateToDelta } from '../aggregate/aggregate-batch.ts';
import { dropServices } from '../model/delta-builder.ts';
import { emptyDelta, type Delta } from '../model/delta.ts';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import { OTHER_KEY } from '../model/other-key.ts';
import { admitServices, mergeErrors, tallyServices, type Admission, type ServiceTally } from './admission.ts';
import { parseNdjson, type LineError, type ParseOptions } from './ndjson-parser.ts';
import { DICTIONARY_NAMES, type DictionaryName } from './parse-protocol.ts';

/** What parsing needs of the request: its limits, nothing of its token. */
export type BodyLimits = Pick<ParseOptions, 'maxLineBytes' | 'maxEvents' | 'maxSecond' | 'maxErrors'>;

/** A body parsed, before admission. */
export interface UnadmittedBody {
  /** Valid events (before admission). */
  events: number;
  rejected: number;
  errors: LineError[];
  tooManyEvents: boolean;
  /** The distinct services of the valid events, in order of first appearance. */
  services: ServiceTally[];
}

/** The accepted events of a body, as the sink takes them. */
export type BodyEvents = { kind: 'batch'; batch: EventBatch } | { kind: 'delta'; delta: Delta };

/** A body parsed and admitted: what the route answers and ingests. */
export interface ParsedBody {
  events: BodyEvents;
  accepted: number;
  rejected: number;
  errors: LineError[];
  /** Accepted events of domains past the service's cap, counted under OTHER_KEY. */
  folded: number;
  /** The first maxErrors of them, by line, with why. */
  warnings: LineError[];
  /** See ParseResult.tooManyEvents: nothing of the body may be ingested. */
  tooManyEvents: boolean;
}

/** Parses a body into a batch on `dictionaries`, with every valid event and its services tallied. */
export function parseBody(body: Buffer, limits: BodyLimits, dictionaries: Dictionaries): UnadmittedBody & { batch: EventBatch } {
  // Picked one by one: `limits` may be a route's ParseOptions, whose acceptService is not for parsing.
  const { maxLineBytes, maxEvents, maxSecond, maxErrors } = limits;
  const r = parseNdjson(body, { dictionaries, maxLineBytes, maxEvents, maxSecond, maxErrors, recordLines: true });
  const services = r.tooManyEvents ? [] : tallyServices(r.batch, r.lines ?? new Int32Array(0), dictionaries, maxErrors ?? Number.POSITIVE_INFINITY);
  return { batch: r.batch, events: r.batch.length, rejected: r.rejected, errors: r.errors, tooManyEvents: r.tooManyEvents, services };
}

/** A parse worker's work: parseBody, then the batch aggregated into a delta (empty past maxEvents). */
export function parseBodyToDelta(body: Buffer, limits: BodyLimits, dictionaries: Dictionaries): UnadmittedBody & { delta: Delta } {
  const { batch, ...parsed } = parseBody(body, limits, dictionaries);
  return { ...parsed, delta: parsed.tooManyEvents ? emptyDelta() : aggregateToDelta([batch], dictionaries) };
}

type Admit = Pick<ParseOptions, 'acceptService' | 'acceptDomain' | 'maxErrors'>;

/** The admission's decision on a body and its response counts. */
interface Decision extends Pick<Admission, 'refused' | 'foldedDomains' | 'warnings'> {
  accepted: number;
  rejected: number;
  errors: LineError[];
  folded: number;
}

/** The response counts of an admitted body; `refused` are the services to drop, `foldedDomains` the domains to count as OTHER_KEY. */
function admit(parsed: UnadmittedBody, opts: Admit): Decision {
  const maxErrors = opts.maxErrors ?? Number.POSITIVE_INFINITY;
  // A body refused whole (413) admits nothing, so it takes none of the token's service quota.
  const a = parsed.tooManyEvents ? admitServices([], undefined, maxErrors) : admitServices(parsed.services, opts.acceptService, maxErrors, opts.acceptDomain);
  return {
    refused: a.refused,
    foldedDomains: a.foldedDomains,
    folded: a.foldedEvents,
    warnings: a.warnings,
    accepted: parsed.events - a.refusedEvents,
    rejected: parsed.rejected + a.refusedEvents,
    errors: a.refusedEvents === 0 ? parsed.errors : mergeErrors(parsed.errors, a.errors, maxErrors),
  };
}

/**
 * A worker's delta admitted: refused services' rows dropped. With folded domains, `body` (the
 * one the worker parsed) is parsed again here under the same decision.
 */
export function admitDelta(parsed: UnadmittedBody & { delta: Delta }, opts: ParseOptions, body: Buffer): ParsedBody {
  const decision = admit(parsed, opts);
  if (decision.foldedDomains.size > 0) return parseInThread(body, opts, decision);
  const { refused, accepted, rejected, errors, folded, warnings } = decision;
  return { accepted, rejected, errors, folded, warnings, tooManyEvents: parsed.tooManyEvents, events: { kind: 'delta', delta: dropServices(parsed.delta, refused) } };
}

/**
 * Parses and admits a body on this thread: its accepted events in a batch on `opts.dictionaries`.
 * With `decided` (the admission of the same body parsed elsewhere), that decision is applied and
 * the admission is not asked again.
 */
export function parseInThread(body: Buffer, opts: ParseOptions, decided?: Decision): ParsedBody {
  // Own dictionaries for the parse (dropped with the body): the sink's get only accepted names.
  const local = createDictionaries();
  const parsed = parseBody(body, opts, local);
  const { refused, foldedDomains, ...counts } = decided ?? admit(parsed, opts);
  const { batch } = parsed;
  if (parsed.tooManyEvents) batch.length = 0;
  else adoptBatch(batch, local, opts.dictionaries, refused, foldedDomains);
  return { ...counts, tooManyEvents: parsed.tooManyEvents, events: { kind: 'batch', batch } };
}

/**
 * In place: the events of `refused` services dropped, those of `foldedDomains` moved to the
 * domain OTHER_KEY, ids moved from `from` to `to` (each name interned once, on first use). Per
 * event a few typed-array reads and writes (a Set lookup only for a domain folded in some service).
 */
function adoptBatch(b: EventBatch, from: Dictionaries, to: Dictionaries, refused: ReadonlySet<string>, foldedDomains: ReadonlyMap<string, ReadonlySet<string>>): void {
  const columns = (Object.keys(b) as (keyof EventBatch)[]).filter((k) => k !== 'length').map((k) => b[k] as Float64Array);
  const idColumns = DICTIONARY_NAMES.map((d) => b[d]);
  const maps = DICTIONARY_NAMES.map((d) => new Int32Array(from[d].size).fill(-1));
  const drop = new Uint8Array(from.service.size);
  for (const name of refused) drop[from.service.id(name)] = 1;
  // Local domain id -> the local service ids it is folded for.
  const domainFold = new Map<number, Set<number>>();
  const other = foldedDomains.size > 0 ? to.domain.id(OTHER_KEY) : -1;
  for (const [service, domains] of foldedDomains) {
    const serviceId = from.service.id(service);
    for (const domain of domains) {
      const id = from.domain.id(domain);
      let set = domainFold.get(id);
      if (set === undefined) domainFold.set(id, (set = new Set()));
      set.add(serviceId);
    }
  }
  const n = b.length;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (drop[b.service[i] as number] === 1) continue;
    const fold = domainFold.size > 0 && domainFold.get(b.domain[i] as number)?.has(b.service[i] as number) === true;
    if (kept !== i) for (const col of columns) col[kept] = col[i] as number;
    for (let c = 0; c < idColumns.length; c++) {
      const col = idColumns[c] as Int32Array;
      if (fold && col === b.domain) {
        col[kept] = other;
        continue;
      }
      const map = maps[c] as Int32Array;
      const local = col[kept] as number;
      let id = map[local] as number;
      if (id < 0) {
        const d = DICTIONARY_NAMES[c] as DictionaryName;
        map[local] = id = to[d].id(from[d].name(local));
      }
      col[kept] = id;
    }
    kept++;
  }
  b.length = kept;
}
