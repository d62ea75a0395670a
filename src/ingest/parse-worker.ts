/**
 * A parse-pool worker thread: parses NDJSON bodies and aggregates each into a Delta
 * (parseBodyToDelta), whose string table carries the names, so nothing of this thread's ids
 * leaves it. Pure as seen from the main thread: a reply depends on the request alone (no
 * closure or state of the request's token crosses; the service check runs on the main thread
 * over the services the reply lists). The ids are this thread's own Dictionaries, kept across
 * bodies (a name seen before costs a lookup, not an insert) and replaced by empty ones past
 * MAX_NAMES, since no reply refers to them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deltaBuffers } from '../model/delta.ts';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import { parseBodyToDelta } from './parse-body.ts';
import { DICTIONARY_NAMES, type WorkerData, type WorkerFailure, type WorkerReply, type WorkerRequest } from './parse-protocol.ts';

/** Names held (all dictionaries) beyond which the dictionaries start again empty. */
const MAX_NAMES = 1_000_000;

const maxNames = (workerData as WorkerData | null)?.maxNames ?? MAX_NAMES;
let dictionaries: Dictionaries = createDictionaries();

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts runs as a worker thread');
port.on('message', (req: WorkerRequest) => {
  const body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  let reply: WorkerReply;
  try {
    reply = { id: req.id, ...parseBodyToDelta(body, req, dictionaries) };
  } catch (err) {
    // Never expected (bad lines are reported, not thrown); fails this body only, not the worker.
    dictionaries = createDictionaries();
    const failure: WorkerFailure = { id: req.id, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    port.postMessage(failure);
    return;
  }
  let held = 0;
  for (const d of DICTIONARY_NAMES) held += dictionaries[d].size;
  if (held > maxNames) dictionaries = createDictionaries();
  port.postMessage(reply, deltaBuffers(reply.delta));
});
