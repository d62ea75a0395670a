/**
 * The key file: where remembered Idempotency-Keys outlive the WAL segments that carried them
 * (`<dataDir>/idempotency/keys.ndjson`, one IdempotencyRecord as JSON per line; docs/wal.md).
 * Append-only and fsynced per write; rewritten (temp file, fsync, rename, directory fsync) with
 * only the live records once most of its lines are dead, so it stays near the size of what is
 * remembered. A torn last line (a crash mid-append) is skipped on read: its records are still in
 * the WAL, because the WAL is truncated only after a write here has returned.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { IdempotencyRecord } from '../wal-payload.ts';
import type { IdempotencyKeySink } from './idempotency-keys.ts';

export interface IdempotencyFile extends IdempotencyKeySink {
  /** The records read on open (expired ones included: the registry drops them). */
  readonly initial: readonly IdempotencyRecord[];
  close(): Promise<void>;
}

/** Lines written beyond which a mostly-dead file is rewritten. */
const COMPACT_MIN_LINES = 10_000;

const isRecord = (v: unknown): v is IdempotencyRecord => {
  const r = v as Partial<IdempotencyRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.key === 'string' && typeof r.hash === 'string' && typeof r.at === 'number' && typeof r.accepted === 'number' && typeof r.rejected === 'number';
};

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function openIdempotencyFile(dir: string, logger: Logger): Promise<IdempotencyFile> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'keys.ndjson');
  const initial: IdempotencyRecord[] = [];
  let text = '';
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (isRecord(value)) initial.push(value);
    else skipped++;
  }
  if (skipped > 0) logger.warn({ file, skipped }, 'idempotency key file: unreadable lines skipped (a write cut short by a crash; the WAL still holds their keys)');
  let lines = initial.length + skipped;
  // A torn last line has no newline: start the next append on a line of its own.
  let handle = await fs.open(file, 'a');
  if (text.length > 0 && !text.endsWith('\n')) await handle.write('\n');

  const compact = async (live: Iterable<IdempotencyRecord>): Promise<void> => {
    const tmp = `${file}.tmp`;
    const out = await fs.open(tmp, 'w');
    let n = 0;
    try {
      let chunk = '';
      for (const r of live) {
        chunk += `${JSON.stringify(r)}\n`;
        n++;
        if (chunk.length >= 1 << 20) {
          await out.write(chunk);
          chunk = '';
        }
      }
      await out.write(chunk);
      await out.sync();
    } finally {
      await out.close();
    }
    await handle.close();
    await fs.rename(tmp, file);
    await syncDir(dir);
    handle = await fs.open(file, 'a');
    lines = n;
  };

  return {
    initial,
    async write(records, live) {
      await handle.write(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await handle.sync();
      lines += records.length;
      if (lines >= COMPACT_MIN_LINES && lines > 2 * live.size) await compact(live.values());
    },
    async close() {
      await handle.close();
    },
  };
}
