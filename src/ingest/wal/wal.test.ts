import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { deltaFromRecordSet, deltaToRecordSet } from '../../model/delta.ts';
import { edgeRecord } from '../../store/record-fixtures.ts';
import { StartupError } from '../../startup-error.ts';
import { decodeWalPayload, encodeWalPayload } from '../wal-payload.ts';
import { listSegments, segmentName, segmentPath } from './segment.ts';
import { openWal, type Wal, type WalEntry } from './wal.ts';

const logger = pino({ level: 'silent' });
// The WAL stores opaque payloads; these tests write the pipeline's (an encoded delta).
const delta = (requests: number, second = 1_700_000_000): Uint8Array =>
  encodeWalPayload(deltaFromRecordSet({ edge: [edgeRecord(second, 's1', { requests })], origin: [], dimension: [] }));
const requestsOf = (e: WalEntry): number => deltaToRecordSet(decodeWalPayload(e.payload).delta).edge[0]?.values[0] ?? 0;

/** A logger that keeps what it logs (level, message, fields). */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

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

  describe('edge cases on disk', () => {
    it('takes segment numbers of any length: entries after 99999999.wal survive a restart', async () => {
      const dir = await tempDir();
      const wal = await openWal({ dir, logger });
      await wal.append(delta(1));
      await wal.close();
      const [seq] = await listSegments(dir);
      await fs.rename(segmentPath(dir, seq ?? 0), path.join(dir, '99999999.wal'));
      const second = await openWal({ dir, logger });
      expect(await second.append(delta(2))).toBe(2);
      await second.close();
      expect(await fs.readdir(dir)).toContain('100000000.wal');
      const third = await openWal({ dir, logger });
      expect((await replayAll(third)).map((e) => [e.lsn, requestsOf(e)])).toEqual([
        [1, 1],
        [2, 2],
      ]);
      expect(await third.append(delta(3))).toBe(3);
      await third.close();
      expect(segmentName(100_000_001)).toBe('100000001.wal');
    });

    it('refuses to start on a segment name it would not write, saying what to rename', async () => {
      const dir = await tempDir();
      await fs.writeFile(path.join(dir, '1.wal'), '');
      const err = await openWal({ dir, logger }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as StartupError).message).toContain('1.wal');
      expect((err as StartupError).hint).toContain('rename it to 00000001.wal');
    });

    it('refuses to start when wal/ is a file', async () => {
      const dir = path.join(await tempDir(), 'wal');
      await fs.writeFile(dir, 'not a directory');
      const err = await openWal({ dir, logger }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as StartupError).message).toBe(`${dir} is not a directory (the write-ahead log needs a directory there)`);
    });

    it('removes and logs a 0-byte newest segment, keeping every entry and lsn before it', async () => {
      const dir = await tempDir();
      const wal = await openWal({ dir, logger });
      for (const n of [1, 2]) await wal.append(delta(n));
      await wal.close();
      const empty = segmentPath(dir, Math.max(...(await listSegments(dir))) + 1);
      await fs.writeFile(empty, '');
      const { logger: log, lines } = capturingLogger();
      const again = await openWal({ dir, logger: log });
      expect((await replayAll(again)).map(requestsOf)).toEqual([1, 2]);
      expect(await again.append(delta(3))).toBe(3);
      expect(again.stats()).toEqual({ corruptRegions: 0, corruptBytesSkipped: 0, corruptEntriesSkipped: 0, emptySegmentsRemoved: 1 });
      await again.close();
      expect(lines).toEqual([expect.objectContaining({ level: 40, segment: empty, bytes: 0, msg: expect.stringContaining('no complete header') })]);
      await expect(fs.stat(empty)).rejects.toThrow(/ENOENT/);
    });

    it('skips a corrupt entry mid-segment, replays the valid ones after it, and logs and counts what it skipped', async () => {
      const dir = await tempDir();
      const wal = await openWal({ dir, logger });
      for (const n of [1, 2, 3, 4, 5]) await wal.append(delta(n));
      await wal.close();
      const file = segmentPath(dir, (await listSegments(dir))[0] ?? 0);
      const data = await fs.readFile(file);
      // Entry 2 starts after the 28-byte header and entry 1 (16-byte header + payload).
      const first = 28 + 16 + data.readUInt32LE(28);
      const secondBytes = 16 + data.readUInt32LE(first);
      data[first + 20] = (data[first + 20] ?? 0) ^ 0x01;
      await fs.writeFile(file, data);
      const { logger: log, lines } = capturingLogger();
      const again = await openWal({ dir, logger: log });
      expect((await replayAll(again)).map((e) => [e.lsn, requestsOf(e)])).toEqual([
        [1, 1],
        [3, 3],
        [4, 4],
        [5, 5],
      ]);
      expect(again.stats()).toEqual({ corruptRegions: 1, corruptBytesSkipped: secondBytes, corruptEntriesSkipped: 1, emptySegmentsRemoved: 0 });
      expect(await again.append(delta(6))).toBe(6);
      await again.close();
      expect(lines).toEqual([
        expect.objectContaining({
          level: 50,
          segment: file,
          offset: first,
          bytesSkipped: secondBytes,
          entriesSkipped: 1,
          reason: 'entry checksum mismatch',
        }),
      ]);
    });

    it('still treats a bad last entry as a torn tail (a warning, nothing counted)', async () => {
      const dir = await tempDir();
      const wal = await openWal({ dir, logger });
      for (const n of [1, 2]) await wal.append(delta(n));
      await wal.close();
      const file = segmentPath(dir, (await listSegments(dir))[0] ?? 0);
      const { size } = await fs.stat(file);
      await fs.truncate(file, size - 3);
      const { logger: log, lines } = capturingLogger();
      const again = await openWal({ dir, logger: log });
      expect((await replayAll(again)).map(requestsOf)).toEqual([1]);
      expect(again.stats().corruptRegions).toBe(0);
      await again.close();
      expect(lines).toEqual([expect.objectContaining({ level: 40, reason: 'torn entry', msg: 'WAL segment ends early; the rest is ignored' })]);
    });
  });
});
