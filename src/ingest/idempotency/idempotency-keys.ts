/**
 * Remembered `Idempotency-Key`s of `POST /ingest` (docs/decisions.md, "Idempotent ingest"): for
 * each key (scoped to its token) the fingerprint of the body it came with and the answer it got,
 * for a window of time. A retry with the same key and body is answered again from here without
 * being counted again; the same key with another body is a 422; the same key while the first
 * request is still being committed waits for it and answers the same.
 *
 * Durability is not kept here: a record is durable because it travels in the WAL entry of the
 * events it stands for (src/ingest/wal-payload.ts), and the pipeline calls `remember` when that
 * entry is fsynced and again when it is replayed; `persist` copies the records to the key file
 * (idempotency-file.ts) before the WAL drops the segments that hold them.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../model/clock.ts';
import type { IdempotencyRecord } from '../wal-payload.ts';

/** What claim() found for a key. */
export type Claim =
  /** Answered before: send `record`'s answer again. */
  | { kind: 'done'; record: IdempotencyRecord }
  /** Known with another body. */
  | { kind: 'mismatch' }
  /** A request with this key is being committed: wait for `settled`, then claim again. */
  | { kind: 'wait'; settled: Promise<void> }
  /** Nobody has it: the caller processes the request and must call `release` when done. */
  | { kind: 'owner'; release: () => void };

export interface IdempotencyKeys {
  /** Looks `key` (already scoped, see scopedKey) up for a body with fingerprint `hash`. */
  claim(key: string, hash: string): Claim;
  /** Records an acknowledged request (idempotent: the same record again changes nothing). */
  remember(record: IdempotencyRecord): void;
  /** Writes the records not yet written to the key file (before the WAL is truncated). */
  persist(): Promise<void>;
  /** Remembered keys, not expired. */
  size(): number;
  /** Keys dropped before their window ended because maxKeys was reached (self-metrics). */
  evicted(): number;
}

/** Where persist() writes: the durable key file (createIdempotencyFile). */
export interface IdempotencyKeySink {
  /** Appends records durably (fsync); `live` is every record still remembered, for compaction. */
  write(records: readonly IdempotencyRecord[], live: { readonly size: number; values(): Iterable<IdempotencyRecord> }): Promise<void>;
}

export interface IdempotencyKeyOptions {
  clock: Clock;
  /** Seconds a key is remembered after its request was acknowledged (config idempotencyWindowSeconds). */
  windowSeconds: number;
  /** Most keys remembered; beyond it the oldest are forgotten early (config idempotencyMaxKeys). */
  maxKeys: number;
  /** Records read from the key file on start. Default none. */
  initial?: Iterable<IdempotencyRecord>;
  /** Where persist() writes. Default: nowhere (tests, in-memory use). */
  sink?: IdempotencyKeySink;
}

const digest = (text: string | Buffer): string => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * The stored form of a client's key: 128 bits of SHA-256 over the token id and the key, so that
 * keys of different tokens never meet, and every remembered key costs the same few bytes
 * however long the client's is.
 */
export const scopedKey = (tokenId: string, key: string): string => digest(`${tokenId}\u0000${key}`);

/**
 * The fingerprint that tells "the same body": the bytes as sent (a gzip body is hashed
 * compressed, several times fewer bytes than decoded; a retry resends the same bytes), with how
 * they are read (format and content coding).
 */
export function bodyFingerprint(format: string, contentEncoding: string | undefined, raw: Buffer): string {
  return createHash('sha256').update(`${format}\n${(contentEncoding ?? '').trim().toLowerCase()}\n`).update(raw).digest('base64url').slice(0, 22);
}

export function createIdempotencyKeys(opts: IdempotencyKeyOptions): IdempotencyKeys {
  const { clock, sink } = opts;
  const windowMs = opts.windowSeconds * 1000;
  // Insertion order is acknowledgement order (near enough): the first entries expire first.
  const records = new Map<string, IdempotencyRecord>();
  const inFlight = new Map<string, { hash: string; settled: Promise<void> }>();
  let unwritten: IdempotencyRecord[] = [];
  let evicted = 0;

  const expired = (r: IdempotencyRecord, now: number): boolean => r.at + windowMs <= now;
  const sweep = (now: number): void => {
    for (const [key, r] of records) {
      if (!expired(r, now)) break;
      records.delete(key);
    }
  };
  const add = (r: IdempotencyRecord, now: number): boolean => {
    if (expired(r, now)) return false;
    const known = records.get(r.key);
    if (known !== undefined) {
      // The same acknowledgement again (WAL replay after the key file has it): keep the first.
      if (!expired(known, now)) return false;
      records.delete(r.key); // re-inserted at the end, so the oldest stay first
    }
    records.set(r.key, r);
    while (records.size > opts.maxKeys) {
      const oldest = records.keys().next().value as string;
      records.delete(oldest);
      evicted++;
    }
    return true;
  };
  for (const r of opts.initial ?? []) add(r, clock.now());

  return {
    claim(key, hash) {
      const now = clock.now();
      const known = records.get(key);
      if (known !== undefined && !expired(known, now)) return known.hash === hash ? { kind: 'done', record: known } : { kind: 'mismatch' };
      const running = inFlight.get(key);
      if (running !== undefined) return running.hash === hash ? { kind: 'wait', settled: running.settled } : { kind: 'mismatch' };
      let release!: () => void;
      const settled = new Promise<void>((resolve) => (release = resolve));
      inFlight.set(key, { hash, settled });
      return {
        kind: 'owner',
        release: () => {
          inFlight.delete(key);
          release();
        },
      };
    },
    remember(record) {
      if (add(record, clock.now())) unwritten.push(record);
    },
    async persist() {
      sweep(clock.now());
      if (sink === undefined || unwritten.length === 0) return;
      const batch = unwritten;
      unwritten = [];
      try {
        await sink.write(batch, records);
      } catch (err) {
        unwritten = [...batch, ...unwritten];
        throw err;
      }
    },
    size() {
      sweep(clock.now());
      return records.size;
    },
    evicted: () => evicted,
  };
}
