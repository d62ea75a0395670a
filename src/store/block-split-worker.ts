/**
 * The block-split worker thread: cuts a store write's delta into its encoded (second, service)
 * blocks (splitToBlockBytes) off the main thread, and hands the bytes back transferred.
 */
import { parentPort } from 'node:worker_threads';
import { splitToBlockBytes } from '../model/delta-concat.ts';
import type { BlockSplitReply, BlockSplitRequest } from './block-splitter.ts';

const port = parentPort;
if (port === null) throw new Error('block-split-worker.ts runs as a worker thread');
port.on('message', (req: BlockSplitRequest) => {
  let reply: BlockSplitReply;
  try {
    reply = { id: req.id, blocks: splitToBlockBytes(req.delta) };
  } catch (err) {
    reply = { id: req.id, failure: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, 'blocks' in reply ? reply.blocks.map((b) => b.bytes.buffer as ArrayBuffer) : []);
});
