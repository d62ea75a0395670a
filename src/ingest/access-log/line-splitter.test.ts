import { describe, expect, it } from 'vitest';
import { createLineSplitter } from './line-splitter.ts';

function run(chunks: Buffer[], maxLineBytes: number) {
  const lines: [number, string][] = [];
  const tooLong: [number, number][] = [];
  const s = createLineSplitter(
    {
      line: (buf, start, end, n) => lines.push([n, buf.toString('utf8', start, end)]),
      tooLong: (n, bytes) => tooLong.push([n, bytes]),
    },
    { maxLineBytes },
  );
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, tooLong, consumed: s.consumed, maxCarried: s.maxCarried };
}

describe('createLineSplitter', () => {
  it('splits lines across chunk boundaries, strips CR, keeps a last line without a break', () => {
    const r = run([Buffer.from('ab\r\ncd'), Buffer.from('ef\n\ngh')], 100);
    expect(r.lines).toEqual([
      [1, 'ab'],
      [2, 'cdef'],
      [3, ''],
      [4, 'gh'],
    ]);
    expect(r.consumed).toBe(12);
  });

  it('skips a 10 MB line without holding it, reports its number and size, and keeps the lines around it', () => {
    const chunk = 64 * 1024;
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const all = Buffer.concat([Buffer.from('first\n'), big, Buffer.from('\nlast\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < all.length; i += chunk) chunks.push(all.subarray(i, i + chunk));
    const r = run(chunks, 64 * 1024);
    expect(r.lines).toEqual([
      [1, 'first'],
      [3, 'last'],
    ]);
    expect(r.tooLong).toEqual([[2, big.length]]);
    // Never more than one line's limit carried between chunks.
    expect(r.maxCarried).toBeLessThanOrEqual(64 * 1024 + 1);
    expect(r.consumed).toBe(all.length);
  });

  it('reports a too-long last line without a line break', () => {
    const r = run([Buffer.from('ok\n'), Buffer.alloc(300, 0x62)], 100);
    expect(r.lines).toEqual([[1, 'ok']]);
    expect(r.tooLong).toEqual([[2, 300]]);
  });
});
