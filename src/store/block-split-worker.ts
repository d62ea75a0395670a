/**
 * The block-split worker thread: cuts a store write's delta into its encoded (second, service)
 * blocks (splitToBlockBytes), or sums a rollup flush (rollupSums), off the main thread, and hands
 * the results back transferred.
 */
import { parentPort } from 'node:worker_threads';
import { splitToBlockBytes } from '../model/delta-concat.ts';
import { rollupSums, transferablesOf, type BlockSplitReply, type BlockSplitRequest } from './block-splitter.ts';

const port = parentPort;
if (port === null) throw new Error('block-split-worker.ts runs as a worker thread');
port.on('message', (req: BlockSplitRequest) => {
  let reply: BlockSplitReply;
  try {
    reply = req.job === 'split' ? { id: req.id, blocks: splitToBlockBytes(req.delta) } : { id: req.id, sums: rollupSums(req.delta, req.bucketSeconds) };
  } catch (err) {
    reply = { id: req.id, failure: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transferablesOf(reply));
});
