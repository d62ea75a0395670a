/**
 * One NDJSON body, parsed and admitted, in either of two shapes that answer alike:
 * - in-thread (small bodies, no workers): events in a batch on the sink's Dictionaries, which
 *   the pipeline aggregates with the other bodies of its commit;
 * - on a parse worker (parse-worker.ts): parsed AND aggregated there into a Delta carrying its
 *   own strings, so the main thread neither maps ids nor aggregates.
 * Both parse with no token in mind (parseBody), on dictionaries of their own, and leave the
 * per-token service check and the per-service key caps (domains, datacenters, backends) to the
 * admission (admission.ts) on the main thread; refused services' events are then dropped from
 * the batch or the delta. A worker body with folded values is parsed again on this thread with
 * the admission's decision (a delta's rows cannot tell which of their events had which value of
 * the other keys), so only bodies that hit a cap pay twice. So a body gets the same response and
 * the same totals whichever way it went, and no name of a refused line is interned into the
 * sink's dictionaries (the service quota and the key caps bound what one token can make the
 * process hold).
 */
import { aggregateToDelta } from '../aggregate/aggregate-batch.ts';
import { countTopValues, dropTopValueServices, emptyTopValueCounts, type TopValueCounts } from '../aggregate/top-value-counts.ts';
import { dropServices } from '../model/delta-builder.ts';
import { emptyDelta, type Delta } from '../model/delta.ts';
import { createDictionaries, type Dictionaries, type Interner } from '../model/dictionary.ts';
import { ORIGIN_ABSENT, type EventBatch } from '../model/event.ts';
import { CAPPED_KEYS, OTHER_KEY, type CappedKey } from '../model/other-key.ts';
import { admitServices, anyFolded, mergeErrors, tallyServices, type Admission, type FoldedKeys, type ServiceTally } from './admission.ts';
import { parseNdjson, type LineError, type ParseOptions } from './ndjson-parser.ts';
import { DICTIONARY_NAMES, type DictionaryName } from './parse-protocol.ts';

/** What parsing needs of the request: its limits, nothing of its token. */
export type BodyLimits = Pick<ParseOptions, 'maxLineBytes' | 'maxEvents' | 'maxSecond' | 'maxErrors' | 'keepPathQuery' | 'skipTopValues' | 'skipDistributions'>;

/** A body parsed, before admission. */
export interface UnadmittedBody {
  /** Valid events (before admission). */
  events: number;
  rejected: number;
  errors: LineError[];
  tooManyEvents: boolean;
  /** The distinct services of the valid events, in order of first appearance. */
  services: ServiceTally[];
  /** The valid events' paths and client addresses per (service, minute, value). */
  topValues: TopValueCounts;
}

/** The accepted events of a body, as the sink takes them. */
export type BodyEvents = { kind: 'batch'; batch: EventBatch } | { kind: 'delta'; delta: Delta };

/** A body parsed and admitted: what the route answers and ingests. */
export interface ParsedBody {
  events: BodyEvents;
  accepted: number;
  rejected: number;
  errors: LineError[];
  /** Accepted events with a domain, datacenter or backend past the service's cap, counted under OTHER_KEY (each event once). */
  folded: number;
  /** The first maxErrors warnings about them, by line, with why (one per folded key of a line). */
  warnings: LineError[];
  /** See ParseResult.tooManyEvents: nothing of the body may be ingested. */
  tooManyEvents: boolean;
  /** The accepted events' paths and client addresses: for the top-values tracker once they are durable. */
  topValues: TopValueCounts;
}

/** Parses a body into a batch on `dictionaries`, with every valid event and its services tallied. */
export function parseBody(body: Buffer, limits: BodyLimits, dictionaries: Dictionaries): UnadmittedBody & { batch: EventBatch } {
  // Picked one by one: `limits` may be a route's ParseOptions, whose acceptService is not for parsing.
  const { maxLineBytes, maxEvents, maxSecond, maxErrors, keepPathQuery, skipTopValues } = limits;
  const r = parseNdjson(body, { dictionaries, maxLineBytes, maxEvents, maxSecond, maxErrors, keepPathQuery, skipTopValues, recordLines: true });
  const services = r.tooManyEvents ? [] : tallyServices(r.batch, r.lines ?? new Int32Array(0), dictionaries, maxErrors ?? Number.POSITIVE_INFINITY);
  const topValues = r.tooManyEvents || skipTopValues === true ? emptyTopValueCounts() : countTopValues(r.batch, r.topNames, dictionaries.service);
  return { batch: r.batch, events: r.batch.length, rejected: r.rejected, errors: r.errors, tooManyEvents: r.tooManyEvents, services, topValues };
}

/** A parse worker's work: parseBody, then the batch aggregated into a delta (empty past maxEvents). */
export function parseBodyToDelta(body: Buffer, limits: BodyLimits, dictionaries: Dictionaries): UnadmittedBody & { delta: Delta } {
  const { batch, ...parsed } = parseBody(body, limits, dictionaries);
  return { ...parsed, delta: parsed.tooManyEvents ? emptyDelta() : aggregateToDelta([batch], dictionaries, { distributions: limits.skipDistributions !== true }) };
}

type Admit = Pick<ParseOptions, 'acceptService' | 'acceptKey' | 'maxErrors'>;

/** The admission's decision on a body and its response counts (`folded` is counted when the events are folded). */
interface Decision extends Pick<Admission, 'refused' | 'foldedKeys' | 'warnings'> {
  accepted: number;
  rejected: number;
  errors: LineError[];
}

/** The response counts of an admitted body; `refused` are the services to drop, `foldedKeys` the values to count as OTHER_KEY. */
function admit(parsed: UnadmittedBody, opts: Admit): Decision {
  const maxErrors = opts.maxErrors ?? Number.POSITIVE_INFINITY;
  // A body refused whole (413) admits nothing, so it takes none of the token's service quota.
  const a = parsed.tooManyEvents ? admitServices([], undefined, maxErrors) : admitServices(parsed.services, opts.acceptService, maxErrors, opts.acceptKey);
  return {
    refused: a.refused,
    foldedKeys: a.foldedKeys,
    warnings: a.warnings,
    accepted: parsed.events - a.refusedEvents,
    rejected: parsed.rejected + a.refusedEvents,
    errors: a.refusedEvents === 0 ? parsed.errors : mergeErrors(parsed.errors, a.errors, maxErrors),
  };
}

/**
 * A worker's delta admitted: refused services' rows dropped. With folded values, `body` (the one
 * the worker parsed) is parsed again here under the same decision.
 */
export function admitDelta(parsed: UnadmittedBody & { delta: Delta }, opts: ParseOptions, body: Buffer): ParsedBody {
  const decision = admit(parsed, opts);
  if (anyFolded(decision.foldedKeys)) return parseInThread(body, opts, decision);
  const { refused, accepted, rejected, errors, warnings } = decision;
  return {
    accepted,
    rejected,
    errors,
    folded: 0,
    warnings,
    tooManyEvents: parsed.tooManyEvents,
    events: { kind: 'delta', delta: dropServices(parsed.delta, refused) },
    topValues: dropTopValueServices(parsed.topValues, refused),
  };
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
  const { refused, foldedKeys, ...counts } = decided ?? admit(parsed, opts);
  const { batch } = parsed;
  let folded = 0;
  if (parsed.tooManyEvents) batch.length = 0;
  else folded = adoptBatch(batch, local, opts.dictionaries, refused, foldedKeys);
  return { ...counts, folded, tooManyEvents: parsed.tooManyEvents, events: { kind: 'batch', batch }, topValues: dropTopValueServices(parsed.topValues, refused) };
}

/**
 * In place: the events of `refused` services dropped, each value of `foldedKeys` moved to the
 * value OTHER_KEY of its key (a backend only on an origin fetch, as the admission tallied it),
 * ids moved from `from` to `to` (each name interned once, on first use). Returns the events with
 * at least one value folded. Per event a few typed-array reads and writes (a Map lookup only for
 * a key that has folded values in some service).
 */
function adoptBatch(b: EventBatch, from: Dictionaries, to: Dictionaries, refused: ReadonlySet<string>, foldedKeys: FoldedKeys): number {
  const columns = (Object.keys(b) as (keyof EventBatch)[]).filter((k) => k !== 'length').map((k) => b[k] as Float64Array);
  const idColumns = DICTIONARY_NAMES.map((d) => b[d]);
  const maps = DICTIONARY_NAMES.map((d) => new Int32Array(from[d].size).fill(-1));
  const drop = new Uint8Array(from.service.size);
  for (const name of refused) drop[from.service.id(name)] = 1;
  // Per id column: local value id -> the local service ids it is folded for (undefined: nothing folded), and OTHER_KEY's id in `to`.
  const folds = DICTIONARY_NAMES.map((d): Map<number, Set<number>> | undefined => (isCapped(d) && foldedKeys[d].size > 0 ? localFolds(foldedKeys[d], from.service, from[d]) : undefined));
  const others = DICTIONARY_NAMES.map((d, c) => (folds[c] === undefined ? -1 : to[d].id(OTHER_KEY)));
  const backendColumn = DICTIONARY_NAMES.indexOf('backend');
  const n = b.length;
  let kept = 0;
  let folded = 0;
  for (let i = 0; i < n; i++) {
    const service = b.service[i] as number;
    if (drop[service] === 1) continue;
    const fetched = b.originStatus[i] !== ORIGIN_ABSENT;
    if (kept !== i) for (const col of columns) col[kept] = col[i] as number;
    let foldedHere = false;
    for (let c = 0; c < idColumns.length; c++) {
      const col = idColumns[c] as Int32Array;
      const local = col[kept] as number;
      const fold = folds[c];
      if (fold !== undefined && (c !== backendColumn || fetched) && fold.get(local)?.has(service) === true) {
        col[kept] = others[c] as number;
        foldedHere = true;
        continue;
      }
      const map = maps[c] as Int32Array;
      let id = map[local] as number;
      if (id < 0) {
        const d = DICTIONARY_NAMES[c] as DictionaryName;
        map[local] = id = to[d].id(from[d].name(local));
      }
      col[kept] = id;
    }
    if (foldedHere) folded++;
    kept++;
  }
  b.length = kept;
  return folded;
}

const isCapped = (d: DictionaryName): d is CappedKey => (CAPPED_KEYS as readonly string[]).includes(d);

/** One key's folded values in local ids: value id -> the ids of the services it is folded for. */
function localFolds(byService: ReadonlyMap<string, ReadonlySet<string>>, services: Interner, values: Interner): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const [service, folded] of byService) {
    const serviceId = services.id(service);
    for (const value of folded) {
      const id = values.id(value);
      let set = out.get(id);
      if (set === undefined) out.set(id, (set = new Set()));
      set.add(serviceId);
    }
  }
  return out;
}
