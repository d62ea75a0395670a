/** The messages between the parse pool (main thread) and its workers. */
import type { Dictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import type { LineError } from './ndjson-parser.ts';

export const DICTIONARY_NAMES = ['service', 'datacenter', 'domain', 'backend', 'method'] as const satisfies readonly (keyof Dictionaries)[];
export type DictionaryName = (typeof DICTIONARY_NAMES)[number];

export interface WorkerRequest {
  id: number;
  body: Uint8Array;
  maxLineBytes: number;
  maxEvents: number;
  maxSecond: number | undefined;
  maxErrors: number | undefined;
}

export interface WorkerReply {
  id: number;
  /** Ids are the worker's: map them with `names`. */
  batch: EventBatch;
  /** The line of each event of `batch`. */
  lines: Int32Array;
  rejected: number;
  errors: LineError[];
  tooManyEvents: boolean;
  /** Per dictionary, the names the worker interned since its previous reply, in id order. */
  names: Record<DictionaryName, string[]>;
}
