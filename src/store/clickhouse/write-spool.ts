/**
 * The node's record of the store write in flight, so a node killed mid-write finishes that same
 * write (same write id, same ledger rows) when it starts again, instead of the WAL replay sending
 * its rows a second time to the tables that already hold them. One file per write, written and
 * fsynced before the first insert, removed once the write's published_lsn rows are in.
 *
 *   file: "rtm-chspool1\n" + JSON {writeId, lsn, shards} + "\n" + encodeDelta bytes
 *
 * `shards` is the shard count the write was split for (absent in files of one-shard versions:
 * 1): its inserts and ledger rows are only found again with the same split.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeDelta, encodeDelta } from '../../model/delta-bytes.ts';
import type { Delta } from '../../model/delta.ts';

const MAGIC = 'rtm-chspool1\n';

export interface SpooledWrite {
  writeId: string;
  lsn: number;
  delta: Delta;
  file: string;
  /** The shard count it was split for. */
  shards: number;
}

export interface WriteSpool {
  /** Durably records a write before it is sent. */
  put(writeId: string, lsn: number, delta: Delta): Promise<string>;
  /** Forgets a write once it is durable in ClickHouse. */
  done(file: string): Promise<void>;
  /** The writes a previous process left unfinished, oldest first. */
  pending(): Promise<SpooledWrite[]>;
  /** Files and bytes in the spool now (put or found by pending, not yet done). */
  size(): { files: number; bytes: number };
}

export interface WriteSpoolOptions {
  /** The shard count recorded with each write. Default 1. */
  shards?: number;
}

export function openWriteSpool(dir: string, opts: WriteSpoolOptions = {}): WriteSpool {
  fs.mkdirSync(dir, { recursive: true });
  let seq = 0;
  const shards = opts.shards ?? 1;
  /** Bytes of each file in the spool, and their sum (asked by every ingest request: the spool budget). */
  const held = new Map<string, number>();
  let heldBytes = 0;
  const hold = (file: string, bytes: number): void => {
    heldBytes += bytes - (held.get(file) ?? 0);
    held.set(file, bytes);
  };
  return {
    async put(writeId, lsn, delta) {
      // The name sorts in write order: time, then a counter within the millisecond.
      const file = path.join(dir, `${String(Date.now()).padStart(15, '0')}-${String(seq++).padStart(6, '0')}.write`);
      const header = Buffer.from(`${MAGIC}${JSON.stringify({ writeId, lsn, shards })}\n`);
      const body = encodeDelta(delta);
      const tmp = `${file}.tmp`;
      const fh = await fs.promises.open(tmp, 'w');
      try {
        await fh.write(header);
        await fh.write(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, file);
      hold(file, header.length + body.length);
      return file;
    },
    async done(file) {
      await fs.promises.rm(file, { force: true });
      heldBytes -= held.get(file) ?? 0;
      held.delete(file);
    },
    size: () => ({ files: held.size, bytes: heldBytes }),
    async pending() {
      const all = await fs.promises.readdir(dir);
      // A .tmp is a write the process died while spooling: never sent (the rename comes first).
      for (const n of all.filter((n) => n.endsWith('.write.tmp'))) await fs.promises.rm(path.join(dir, n), { force: true });
      const names = all.filter((n) => n.endsWith('.write')).sort();
      const out: SpooledWrite[] = [];
      for (const name of names) {
        const file = path.join(dir, name);
        const bytes = await fs.promises.readFile(file);
        const nl = bytes.indexOf(10, MAGIC.length);
        if (bytes.subarray(0, MAGIC.length).toString() !== MAGIC || nl < 0) throw new Error(`${file} is not a ClickHouse write spool file; move it away to start`);
        const header = JSON.parse(bytes.subarray(MAGIC.length, nl).toString()) as { writeId: string; lsn: number; shards?: number };
        out.push({ writeId: header.writeId, lsn: header.lsn, delta: decodeDelta(new Uint8Array(bytes.subarray(nl + 1))), file, shards: header.shards ?? 1 });
        hold(file, bytes.length);
      }
      return out;
    },
  };
}
