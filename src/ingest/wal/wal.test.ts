import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { deltaFromRecordSet, deltaToRecordSet } from '../../model/delta.ts';
import { edgeRecord } from '../../store/record-fixtures.ts';
import { decodeWalPayload, encodeWalPayload } from '../wal-payload.ts';
import { listSegments, segmentPath } from './segment.ts';
import { openWal, type Wal, type WalEntry } from './wal.ts';

const logger = pino({ level: 'silent' });
// The WAL stores opaque payloads; these tests write the pipeline's (an encoded delta).
const delta = (requests: number, second = 1_700_000_000): Uint8Array =>
  encodeWalPayload(deltaFromRecordSet({ edge: [edgeRecord(second, 's1', { requests })], origin: [], dimension: [] }));
const requestsOf = (e: WalEntry): number => deltaToRecordSet(decodeWalPayload(e.payload).delta).edge[0]?.values[0] ?? 0;

async function replayAll(wal: Wal): Promise<WalEntry[]> {
  const out: WalEntry[] = [];
  for await (const segment of wal.replay()) out.push(...segment);
  return out;
}

describe('write-ahead log', () => {
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-wal-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });

  it('replays every durable entry after a reopen, with increasing lsns', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, logger });
    const lsns = await Promise.all([1, 2, 3].map((n) => wal.append(delta(n))));
    expect(lsns).toEqual([1, 2, 3]);
    await wal.close();
    const again = await openWal({ dir, logger });
    const entries = await replayAll(again);
    expect(entries.map((e) => [e.lsn, requestsOf(e)])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(await again.append(delta(4))).toBe(4);
    await again.close();
  });

  it('covers concurrent appends with one group commit and runs onDurable in lsn order', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, logger });
    const applied: number[] = [];
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append(delta(i), (lsn) => applied.push(lsn))));
    expect(applied).toEqual(all);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await wal.close();
  });

  it('ignores a torn last entry and keeps the ones before it', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, logger });
    for (const n of [1, 2, 3]) await wal.append(delta(n));
    await wal.close();
    const [seq] = await listSegments(dir);
    const file = segmentPath(dir, seq ?? 0);
    const { size } = await fs.stat(file);
    await fs.truncate(file, size - 5);
    const again = await openWal({ dir, logger });
    expect((await replayAll(again)).map(requestsOf)).toEqual([1, 2]);
    // The torn lsn is never reused: the next one follows the highest lsn seen intact... or later.
    expect(await again.append(delta(9))).toBeGreaterThan(2);
    await again.close();
    const third = await openWal({ dir, logger });
    expect((await replayAll(third)).map(requestsOf)).toEqual([1, 2, 9]);
    await third.close();
  });

  it('stops at a flipped byte (checksum) instead of replaying garbage', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, logger });
    for (const n of [1, 2]) await wal.append(delta(n));
    await wal.close();
    const file = segmentPath(dir, (await listSegments(dir))[0] ?? 0);
    const data = await fs.readFile(file);
    data[data.length - 3] = (data[data.length - 3] ?? 0) ^ 0xff;
    await fs.writeFile(file, data);
    const again = await openWal({ dir, logger });
    expect((await replayAll(again)).map(requestsOf)).toEqual([1]);
    await again.close();
  });

  it('rotates segments and deletes only those fully stored, never reusing lsns', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, logger, segmentBytes: 200 });
    for (let n = 1; n <= 10; n++) await wal.append(delta(n));
    expect(wal.segmentCount).toBeGreaterThan(3);
    expect(await wal.truncate(6)).toBeGreaterThan(0);
    await wal.close();
    const again = await openWal({ dir, logger, segmentBytes: 200 });
    const lsns = (await replayAll(again)).map((e) => e.lsn);
    expect(lsns[0]).toBeLessThanOrEqual(6);
    expect(lsns.at(-1)).toBe(10);
    // Everything stored: every closed segment goes, and the next lsn still follows 10.
    await again.truncate(11);
    await again.close();
    const third = await openWal({ dir, logger });
    expect(await replayAll(third)).toEqual([]);
    expect(await third.append(delta(1))).toBe(11);
    await third.close();
    expect((await listSegments(dir)).length).toBeLessThanOrEqual(2);
  });

  it('rejects appends after close', async () => {
    const wal = await openWal({ dir: await tempDir(), logger });
    await wal.close();
    await expect(wal.append(delta(1))).rejects.toThrow(/closed/);
  });
});
