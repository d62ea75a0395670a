/**
 * Where the ingest route hands a parsed batch. `ingest` resolves only once the batch is durable
 * (written to the WAL and fsynced): only then may the route answer 200.
 */
import type { Dictionaries } from '../model/dictionary.ts';
import type { Delta } from '../model/delta.ts';
import type { EventBatch } from '../model/event.ts';
import type { IdempotencyRecord } from './wal-payload.ts';

export interface IngestSink {
  /** The interners the parser must use for this sink's batches. */
  readonly dictionaries: Dictionaries;
  /**
   * Events parsed on this thread: aggregated in the next commit. `key`, the request's
   * Idempotency-Key and answer, is made durable in the same WAL entry as the events.
   */
  ingest(batch: EventBatch, key?: IdempotencyRecord): Promise<void>;
  /** Events a parse worker aggregated already (with its own string table); `key` as for ingest. */
  ingestDelta(delta: Delta, key?: IdempotencyRecord): Promise<void>;
}
