/** The messages between the parse pool (main thread) and its workers. */
import type { TopValueCounts } from '../aggregate/top-value-counts.ts';
import type { Dictionaries } from '../model/dictionary.ts';
import type { Delta } from '../model/delta.ts';
import type { ServiceTally } from './admission.ts';
import type { LineError } from './ndjson-parser.ts';

export const DICTIONARY_NAMES = ['service', 'datacenter', 'domain', 'backend', 'method'] as const satisfies readonly (keyof Dictionaries)[];
export type DictionaryName = (typeof DICTIONARY_NAMES)[number];

/** Given to a worker when it starts. */
export interface WorkerData {
  /** Names its dictionaries hold before it starts them again; default parse-worker.ts MAX_NAMES. */
  maxNames: number | undefined;
}

/** A body to parse and aggregate, and its limits: nothing of the request's token. */
export interface WorkerRequest {
  id: number;
  body: Uint8Array;
  maxLineBytes: number;
  maxEvents: number;
  maxSecond: number | undefined;
  maxErrors: number | undefined;
  keepPathQuery: boolean | undefined;
  skipTopValues: boolean | undefined;
  skipDistributions: boolean | undefined;
}

/** UnadmittedBody (parse-body.ts) and the body's delta, its arrays transferred. */
export interface WorkerReply {
  id: number;
  /** Every valid event aggregated; names in its own string table. Empty past maxEvents. */
  delta: Delta;
  events: number;
  rejected: number;
  errors: LineError[];
  tooManyEvents: boolean;
  services: ServiceTally[];
  /** Its paths and client addresses (names included: cloned, not transferred). */
  topValues: TopValueCounts;
}

/** The body could not be parsed (a bug, not bad input: bad lines are in `errors`). */
export interface WorkerFailure {
  id: number;
  failure: string;
}
