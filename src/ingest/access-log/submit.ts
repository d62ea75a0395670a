/**
 * The one place the access-log commands meet the ingest path (the pipeline, the validator and
 * the event batch are being reworked elsewhere: keep every coupling to them in this file).
 * Two ways in, both the durable, exact path of `POST /ingest`:
 * - in process: each record is checked by the ingest validator (the same rules, reasons and
 *   dictionaries as the route) straight into an EventBatch row, and the batch is handed to the
 *   data dir's ingest pipeline, which resolves once it is in the WAL (fsynced);
 * - over HTTP: records become NDJSON lines POSTed to `/ingest` of a running server, batched,
 *   with an `Idempotency-Key` so that a retry of a request whose answer was lost is not counted twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { aggregateToDelta } from '../../aggregate/aggregate-batch.ts';
import { countTopValues, type TopValueCounts } from '../../aggregate/top-value-counts.ts';
import { createEventBatch, createTopValueNames, type EventBatch, type TopValueNames } from '../../model/event.ts';
import type { Delta } from '../../model/delta.ts';
import { createDictionaries, type Dictionaries } from '../../model/dictionary.ts';
import { DICTIONARY_NAMES } from '../parse-protocol.ts';
import { createRawEvent, F, K_ABSENT, K_FALSE, K_NUMBER, K_STRING, K_TRUE, type RawEvent } from '../raw-event.ts';
import { createEventValidator, type EventValidator } from '../validate-event.ts';
import { FIELD_LIST, type LogRecord } from './log-record.ts';

export interface SubmitBatch {
  /** Records added (accepted so far). */
  readonly length: number;
  /** Adds a record; undefined, or the reason it is rejected now (in process: the validator's). */
  add(rec: LogRecord): string | undefined;
}

export interface SubmitOutcome {
  accepted: number;
  /** Records the server rejected (over HTTP; in process they are rejected by add()). */
  rejected: number;
  /** The first rejections, by index of add() call that returned undefined. */
  errors: { index: number; reason: string }[];
  /** Over HTTP: the server had acknowledged this key before and did not count the events again. */
  replayed?: boolean;
}

export interface EventSubmitter {
  /** Where events go (the server URL or the data dir), for messages. */
  readonly via: string;
  /** A batch to fill; it holds at most `capacity` records. */
  createBatch(capacity: number): SubmitBatch;
  /** Resolves once the batch is durable (acknowledged). `key` identifies it for retries: the same key for the same lines. */
  submit(batch: SubmitBatch, key: string): Promise<SubmitOutcome>;
  /**
   * In process only: a number that grows with every acknowledged batch and survives restarts
   * (the WAL's lsn). Tail's exact-once check: a batch is in iff the mark grew past the value
   * read before it was submitted (the data dir has one writer). Undefined over HTTP.
   */
  durableMark(): number | undefined;
  /** In process only: the way in for records a worker thread validated and aggregated (createDeltaBatcher). */
  readonly deltas?: DeltaSubmitter;
  close(): Promise<void>;
}

/** Deltas in: what the parse pool's workers give the server's pipeline, for `rtmetrics import`'s worker. */
export interface DeltaSubmitter {
  /** The latest accepted second now (the route's clock-skew bound); +Infinity when none. */
  maxSecond(): number;
  /** Resolves once `delta` (of `events` events) is durable; its paths and client addresses then go to the top values. */
  submit(delta: Delta, events: number, topValues?: TopValueCounts): Promise<SubmitOutcome>;
  /** Rows durable but not yet in the store: a reader waits while they are many (bounded memory). */
  backlogRows(): number;
  /** Writes the durable rows to the store now (instead of at the writer's next tick); resolves when written. */
  drain(): Promise<void>;
}

/** What the in-process submitter needs: Services.ingest (src/services.ts) satisfies it. */
export interface LocalIngest {
  readonly dictionaries: Dictionaries;
  ingest(batch: EventBatch): Promise<void>;
  /** A delta aggregated elsewhere, with its own string table. */
  ingestDelta(delta: Delta): Promise<void>;
  stats(): { appliedLsn: number; pendingRows: number };
  /** Writes what is pending to the store now. */
  flush(): Promise<void>;
}

/** Known fields: index in LogRecord.values -> index in RawEvent. */
const RAW_INDEX = FIELD_LIST.map((name) => {
  const f = F[name];
  if (f === undefined) throw new Error(`events.md field ${name} unknown to the ingest validator`);
  return f;
});

/** Fills the validator's scratch record from a log record (the JSON.parse reader's form). */
function fillRaw(raw: RawEvent, rec: LogRecord): void {
  raw.src = undefined;
  const values = rec.values;
  for (let i = 0; i < values.length; i++) {
    const f = RAW_INDEX[i] as number;
    const v = values[i];
    if (v === undefined) {
      raw.kind[f] = K_ABSENT;
      raw.str[f] = undefined;
    } else if (typeof v === 'number') {
      raw.kind[f] = K_NUMBER;
      raw.num[f] = v;
    } else if (typeof v === 'string') {
      raw.kind[f] = K_STRING;
      raw.str[f] = v;
    } else raw.kind[f] = v ? K_TRUE : K_FALSE;
  }
}

export interface LocalSubmitterOptions {
  ingest: LocalIngest;
  /** Latest accepted second (clock + allowed skew), as the route checks. Default: none. */
  maxSecond?: () => number;
  via: string;
  close?: () => Promise<void>;
  /** Given each batch's paths and client addresses once it is durable (Services.topValues). Default: not counted. */
  onTopValues?: (counts: TopValueCounts) => void;
  /**
   * Why the store takes no new events now (StoreBacklog.writeRefusal: the ClickHouse spool over
   * its disk budget), or undefined. While it gives a reason each submit waits, checking again
   * every `holdPollMs`: an import in process pauses, as a server answers 503, instead of filling
   * the disk. Default: never.
   */
  refusal?: () => string | undefined;
  /** Told the reason once each time a submit starts to wait on `refusal` (the CLI prints it). */
  onHold?: (reason: string) => void;
  /** Pause between checks of `refusal`, ms. Default 1,000. */
  holdPollMs?: number;
}

export function createLocalSubmitter(opts: LocalSubmitterOptions): EventSubmitter {
  const { ingest } = opts;
  /** Resolves once the store takes events again (at once when it does). */
  const whileRefused = async (): Promise<void> => {
    let told = false;
    for (let why = opts.refusal?.(); why !== undefined; why = opts.refusal?.()) {
      if (!told) opts.onHold?.(why);
      told = true;
      await sleep(opts.holdPollMs ?? 1000);
    }
  };
  const raw = createRawEvent();
  let validator: EventValidator | undefined;
  let validatorMaxSecond = Number.NaN;
  const validatorFor = (): EventValidator => {
    const maxSecond = opts.maxSecond?.() ?? Number.POSITIVE_INFINITY;
    if (validator === undefined || maxSecond !== validatorMaxSecond) {
      validator = createEventValidator({ dictionaries: ingest.dictionaries, maxSecond });
      validatorMaxSecond = maxSecond;
    }
    return validator;
  };

  /**
   * EventBatches whose events are durable (aggregated into the WAL entry): reused, since a new
   * one zeroes ~150 bytes per event of capacity. The validator writes every column of a row.
   */
  const free: EventBatch[] = [];

  class LocalBatch implements SubmitBatch {
    readonly events: EventBatch;
    readonly validator = validatorFor();
    constructor(readonly capacity: number) {
      const i = free.findIndex((b) => b.second.length === capacity);
      this.events = i >= 0 ? (free.splice(i, 1)[0] as EventBatch) : createEventBatch(capacity);
      this.events.length = 0;
    }
    get length(): number {
      return this.events.length;
    }
    add(rec: LogRecord): string | undefined {
      if (this.events.length >= this.capacity) throw new RangeError('batch is full');
      fillRaw(raw, rec);
      return this.validator.append(raw, this.events);
    }
  }

  return {
    via: opts.via,
    createBatch: (capacity) => new LocalBatch(capacity),
    async submit(batch) {
      const local = batch as LocalBatch;
      const events = local.events;
      const accepted = events.length;
      // Counted before the pipeline takes the batch (it is reused once aggregated), added once durable.
      const topValues = accepted > 0 && opts.onTopValues ? countTopValues(events, local.validator.topNames, ingest.dictionaries.service) : undefined;
      if (accepted > 0) {
        await whileRefused();
        await ingest.ingest(events);
      }
      if (topValues) opts.onTopValues?.(topValues);
      // Aggregated and durable: nothing refers to its rows any more. Two suffice (one filling, one in flight).
      if (free.length < 2) free.push(events);
      return { accepted, rejected: 0, errors: [] };
    },
    durableMark: () => ingest.stats().appliedLsn,
    deltas: {
      maxSecond: () => opts.maxSecond?.() ?? Number.POSITIVE_INFINITY,
      async submit(delta, events, topValues) {
        await whileRefused();
        await ingest.ingestDelta(delta);
        if (topValues) opts.onTopValues?.(topValues);
        return { accepted: events, rejected: 0, errors: [] };
      },
      backlogRows: () => ingest.stats().pendingRows,
      drain: () => ingest.flush(),
    },
    close: opts.close ?? (async () => {}),
  };
}

/** Names a worker's dictionaries hold before they start again empty (no delta refers to its ids). */
const MAX_WORKER_NAMES = 1_000_000;

export interface DeltaBatcher {
  /** Records added since the last take(). */
  readonly length: number;
  /** Checks a record with the ingest validator (bounded by `maxSecond`) into the batch; undefined, or why it is rejected. */
  add(rec: LogRecord, maxSecond: number): string | undefined;
  /** The added records aggregated into one Delta (names in its own string table), with their top values; the batch starts again empty. */
  take(): { delta: Delta; topValues: TopValueCounts };
}

/**
 * For a worker thread: the in-process submitter's validation, then the aggregation the server's
 * parse workers do (aggregateToDelta), with this thread's own dictionaries, so the delta can be
 * moved to the main thread's pipeline (DeltaSubmitter). Hot path: one reused EventBatch.
 */
export function createDeltaBatcher(capacity: number): DeltaBatcher {
  const raw = createRawEvent();
  const events = createEventBatch(capacity);
  let dictionaries = createDictionaries();
  /** The batch's paths and addresses (one set for the batch, whichever validator added an event). */
  let topNames: TopValueNames = createTopValueNames();
  let validator: EventValidator | undefined;
  let validatorMaxSecond = Number.NaN;
  return {
    get length() {
      return events.length;
    },
    add(rec, maxSecond) {
      if (events.length >= capacity) throw new RangeError('batch is full');
      if (validator === undefined || maxSecond !== validatorMaxSecond) {
        validator = createEventValidator({ dictionaries, maxSecond, topNames });
        validatorMaxSecond = maxSecond;
      }
      fillRaw(raw, rec);
      return validator.append(raw, events);
    },
    take() {
      const delta = aggregateToDelta([events], dictionaries);
      const topValues = countTopValues(events, topNames, dictionaries.service);
      events.length = 0;
      // Names are kept from batch to batch: a dictionary made anew per batch grows its Map from
      // empty every time (rehashes and fresh pages: Map growth made 12% of the import's page faults). Each
      // delta and each count carries its own strings, so starting again only costs lookups.
      let held = topNames.path.size + topNames.clientIp.size;
      for (const d of DICTIONARY_NAMES) held += dictionaries[d].size;
      if (held > MAX_WORKER_NAMES) {
        // The validator caches ids of these dictionaries.
        dictionaries = createDictionaries();
        topNames = createTopValueNames();
        validator = undefined;
      }
      return { delta, topValues };
    },
  };
}

export interface HttpSubmitterOptions {
  /** The server, e.g. http://127.0.0.1:8080. */
  url: string;
  /** A token with the ingest scope for the services written. */
  token: string;
  /** Attempts per batch before giving up. Default 8. */
  attempts?: number;
  /** First retry delay, ms (doubled each time, at most 30 s; Retry-After wins). Default 500. */
  retryDelayMs?: number;
  /** Per-request timeout, ms. Default 120,000. */
  timeoutMs?: number;
  /** Told about each retry (the CLI prints it). */
  onRetry?: (attempt: number, reason: string) => void;
  fetch?: typeof fetch;
}

/** A refusal that retrying cannot fix (bad token, body too large, ...). */
export class SubmitError extends Error {}

const RETRIED = new Set([408, 429, 500, 502, 503, 504]);

export function createHttpSubmitter(opts: HttpSubmitterOptions): EventSubmitter {
  const endpoint = new URL('/ingest', opts.url);
  const attempts = opts.attempts ?? 8;
  const doFetch = opts.fetch ?? fetch;

  class HttpBatch implements SubmitBatch {
    readonly lines: string[] = [];
    constructor(readonly capacity: number) {}
    get length(): number {
      return this.lines.length;
    }
    add(rec: LogRecord): string | undefined {
      if (this.lines.length >= this.capacity) throw new RangeError('batch is full');
      this.lines.push(rec.toJson());
      return undefined;
    }
  }

  const once = async (body: string, key: string): Promise<{ outcome?: SubmitOutcome; retry?: string; waitMs?: number }> => {
    let res: Response;
    try {
      res = await doFetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/x-ndjson', 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
      });
    } catch (err) {
      return { retry: `cannot reach ${opts.url}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status === 200) {
      const r = parsed as { accepted?: unknown; rejected?: unknown; errors?: { line: number; reason: string }[] } | undefined;
      if (typeof r?.accepted !== 'number') return { retry: 'the server answered 200 without a count' };
      const errors = (r.errors ?? []).map((e) => ({ index: e.line - 1, reason: e.reason }));
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      return { outcome: { accepted: r.accepted, rejected: Number(r.rejected ?? 0), errors, ...(replayed ? { replayed } : {}) } };
    }
    const e = (parsed as { error?: { code?: unknown; detail?: unknown } } | undefined)?.error;
    const detail = typeof e?.detail === 'string' ? `${e.detail} (${String(e.code)}, HTTP ${res.status})` : `HTTP ${res.status}`;
    if (!RETRIED.has(res.status)) throw new SubmitError(`${opts.url} refused the events: ${detail}`);
    const after = Number(res.headers.get('retry-after'));
    return { retry: detail, ...(Number.isFinite(after) && after > 0 ? { waitMs: after * 1000 } : {}) };
  };

  return {
    via: opts.url,
    createBatch: (capacity) => new HttpBatch(capacity),
    async submit(batch, key) {
      const lines = (batch as HttpBatch).lines;
      if (lines.length === 0) return { accepted: 0, rejected: 0, errors: [] };
      const body = `${lines.join('\n')}\n`;
      let delay = opts.retryDelayMs ?? 500;
      let last = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const r = await once(body, key);
        if (r.outcome) return r.outcome;
        last = r.retry ?? '';
        if (attempt === attempts) break;
        opts.onRetry?.(attempt, last);
        await sleep(r.waitMs ?? delay);
        delay = Math.min(delay * 2, 30_000);
      }
      throw new SubmitError(`gave up after ${attempts} attempts: ${last}`);
    },
    durableMark: () => undefined,
    close: async () => {},
  };
}
