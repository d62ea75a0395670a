/**
 * Where the ingest route hands a parsed batch. `ingest` resolves only once the batch is durable
 * (written to the WAL and fsynced): only then may the route answer 200.
 */
import type { Dictionaries } from '../model/dictionary.ts';
import type { Delta } from '../model/delta.ts';
import type { EventBatch } from '../model/event.ts';

export interface IngestSink {
  /** The interners the parser must use for this sink's batches. */
  readonly dictionaries: Dictionaries;
  /** Events parsed on this thread: aggregated in the next commit. */
  ingest(batch: EventBatch): Promise<void>;
  /** Events a parse worker aggregated already (with its own string table). */
  ingestDelta(delta: Delta): Promise<void>;
}
