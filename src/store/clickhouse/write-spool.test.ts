import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deltaFromRecordSet, deltaToRecordSet } from '../../model/delta.ts';
import { edgeRecord } from '../record-fixtures.ts';
import { openWriteSpool } from './write-spool.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-spool-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('ClickHouse write spool', () => {
  it('gives back the writes not yet done, oldest first, with their ids, lsns and rows', async () => {
    const dir = tempDir();
    const spool = openWriteSpool(dir);
    const rows = (n: number) => deltaFromRecordSet({ edge: [edgeRecord(1_704_067_200, 's1', { requests: n })], origin: [], dimension: [] });
    const first = await spool.put('n:a', 7, rows(1));
    await spool.put('n:b', 8, rows(2));
    await spool.put('n:c', 9, rows(3));
    await spool.done(first);
    fs.writeFileSync(path.join(dir, '999999999999999-000000.write.tmp'), 'half');
    const pending = await openWriteSpool(dir).pending();
    expect(pending.map((w) => [w.writeId, w.lsn, deltaToRecordSet(w.delta).edge[0]?.values[0]])).toEqual([
      ['n:b', 8, 2],
      ['n:c', 9, 3],
    ]);
    expect(fs.readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('keeps the shard count each write was split for, and counts its files and bytes', async () => {
    const dir = tempDir();
    const spool = openWriteSpool(dir, { shards: 3 });
    const delta = deltaFromRecordSet({ edge: [edgeRecord(1_704_067_200, 's1', { requests: 1 })], origin: [], dimension: [] });
    expect(spool.size()).toEqual({ files: 0, bytes: 0 });
    const file = await spool.put('n:a', 1, delta);
    await spool.put('n:b', 2, delta);
    const onDisk = fs.readdirSync(dir).reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
    expect(spool.size()).toEqual({ files: 2, bytes: onDisk });
    await spool.done(file);
    expect(spool.size().files).toBe(1);
    const reopened = openWriteSpool(dir);
    expect((await reopened.pending()).map((w) => w.shards)).toEqual([3]);
    expect(reopened.size()).toEqual({ files: 1, bytes: onDisk / 2 });
  });

  it('refuses a file that is not a spool file, naming it', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '000000000000001-000000.write'), 'something else\n');
    await expect(openWriteSpool(dir).pending()).rejects.toThrow(/000000000000001-000000\.write is not a ClickHouse write spool file/);
  });
});
