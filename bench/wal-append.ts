/**
 * WAL group-commit throughput: appends/s and MB/s with `concurrency` appends in flight, each a
 * delta of `keys` edge records, with and without fsync.
 * Run: node --import tsx bench/wal-append.ts [keys=50] [concurrency=64] [appends=5000]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { encodeWalPayload } from '../src/ingest/wal-payload.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import { openWal } from '../src/ingest/wal/wal.ts';
import { edgeRecord } from '../src/store/record-fixtures.ts';

const keys = Number(process.argv[2] ?? 50);
const concurrency = Number(process.argv[3] ?? 64);
const appends = Number(process.argv[4] ?? 5000);
const delta = {
  edge: Array.from({ length: keys }, (_, k) => edgeRecord(1_704_067_200, `svc${k % 5}`, { requests: 3, hits: 2, miss: 1, resp_body_bytes: 4567, status_200: 3 }, `DC${k}`)),
  origin: [],
  dimension: [],
};
const payload = encodeWalPayload(deltaFromRecordSet(delta));
const bytes = payload.length;
for (const fsync of [true, false]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-wal-bench-'));
  const wal = await openWal({ dir, logger: pino({ level: 'silent' }), fsync });
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < appends) await wal.append(payload);
    }),
  );
  const s = (performance.now() - t) / 1000;
  console.log(`fsync=${fsync} keys=${keys} payload=${bytes} B concurrency=${concurrency}: ${(appends / s).toFixed(0)} appends/s, ${((appends * bytes) / s / 1e6).toFixed(1)} MB/s`);
  await wal.close();
  await fs.rm(dir, { recursive: true, force: true });
}
console.log(`command: node --import tsx bench/wal-append.ts ${keys} ${concurrency} ${appends}`);
