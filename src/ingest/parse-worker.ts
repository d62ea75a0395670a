/**
 * A parse-pool worker thread: parses NDJSON bodies into batches whose ids come from this
 * thread's own Dictionaries, and sends along the names it interned since its last reply, so the
 * main thread can map the ids to its own (parse-pool.ts). It does not check the services a
 * token may write (that state lives on the main thread): it records each event's line instead.
 */
import { parentPort } from 'node:worker_threads';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import { parseNdjson } from './ndjson-parser.ts';
import { DICTIONARY_NAMES, type WorkerReply, type WorkerRequest } from './parse-protocol.ts';

const dictionaries: Dictionaries = createDictionaries();
/** Per dictionary, how many of its names the main thread has. */
const sent = new Map(DICTIONARY_NAMES.map((d) => [d, 0]));

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts runs as a worker thread');
port.on('message', (req: WorkerRequest) => {
  const body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  const result = parseNdjson(body, {
    dictionaries,
    maxLineBytes: req.maxLineBytes,
    maxEvents: req.maxEvents,
    maxSecond: req.maxSecond,
    maxErrors: req.maxErrors,
    recordLines: true,
  });
  const names = {} as WorkerReply['names'];
  for (const d of DICTIONARY_NAMES) {
    const interner = dictionaries[d];
    const from = sent.get(d) ?? 0;
    const fresh: string[] = [];
    for (let id = from; id < interner.size; id++) fresh.push(interner.name(id));
    names[d] = fresh;
    sent.set(d, interner.size);
  }
  const { batch } = result;
  const reply: WorkerReply = {
    id: req.id,
    batch,
    lines: result.lines ?? new Int32Array(0),
    rejected: result.rejected,
    errors: result.errors,
    tooManyEvents: result.tooManyEvents,
    names,
  };
  // The columns move to the main thread without a copy.
  const transfer = new Set<ArrayBuffer>();
  for (const [key, column] of Object.entries(batch) as [keyof EventBatch, unknown][]) {
    if (key !== 'length' && ArrayBuffer.isView(column)) transfer.add(column.buffer as ArrayBuffer);
  }
  port.postMessage(reply, [...transfer]);
});
