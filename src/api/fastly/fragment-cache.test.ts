import { describe, expect, it } from 'vitest';
import { createFragmentCache, ENTRY_OVERHEAD_BYTES } from './fragment-cache.ts';

const text = (s: string): Buffer => Buffer.from(s);
const at = (revision: number, json: Buffer) => ({ revision, json });

describe('fragment cache', () => {
  it('answers a fragment only for the revision it was rendered from', () => {
    const cache = createFragmentCache({ maxBytes: 10_000 });
    const svc = cache.service('channel', 'svc1');
    svc.put(100, at(7, text('{"a":1}')));
    expect(svc.get(100, 7)?.json.toString()).toBe('{"a":1}');
    expect(svc.get(100, 8)).toBeUndefined();
    expect(svc.get(101, 7)).toBeUndefined();
    // Another API or service does not see it.
    expect(cache.service('domains', 'svc1').get(100, 7)).toBeUndefined();
    expect(cache.service('channel', 'svc2').get(100, 7)).toBeUndefined();
    // A new rendering replaces the old one, and the bytes are counted once.
    svc.put(100, at(8, text('{"a":22}')));
    expect(svc.get(100, 8)?.json.toString()).toBe('{"a":22}');
    expect(svc.get(100, 7)).toBeUndefined();
    expect(cache.stats()).toEqual({ sets: 1, fragments: 1, bytes: 8 + ENTRY_OVERHEAD_BYTES });
  });

  it('drops the seconds below a moving bound and refuses them afterwards', () => {
    const cache = createFragmentCache({ maxBytes: 100_000 });
    const a = cache.service('channel', 'a');
    const b = cache.service('origins', 'b');
    for (let s = 100; s < 110; s++) a.put(s, at(1, text(`${s}`)));
    b.put(105, at(1, text('x')));
    cache.dropBelow(104);
    expect([103, 104].map((s) => a.get(s, 1)?.json.toString())).toEqual([undefined, '104']);
    expect(cache.stats().fragments).toBe(7);
    a.put(103, at(2, text('late')));
    expect(a.get(103, 2)).toBeUndefined();
    // A long jump (the service idle for a while) walks the held seconds, not the gap.
    cache.dropBelow(1_000_000);
    expect(cache.stats()).toEqual({ sets: 0, fragments: 0, bytes: 0 });
  });

  it('holds its budget by dropping the sets read least recently', () => {
    const size = 1000 + ENTRY_OVERHEAD_BYTES;
    const cache = createFragmentCache({ maxBytes: 5 * size });
    const fill = (service: string, seconds: number[]) => {
      const set = cache.service('channel', service);
      for (const s of seconds) set.put(s, at(1, Buffer.alloc(1000, 'x')));
    };
    fill('a', [1, 2]);
    fill('b', [1, 2]);
    cache.service('channel', 'a'); // a read again: b is now the least recent
    fill('c', [1, 2]);
    expect(cache.service('channel', 'b').get(1, 1)).toBeUndefined();
    expect(cache.service('channel', 'a').get(1, 1)).toBeDefined();
    expect(cache.stats().bytes).toBeLessThanOrEqual(5 * size);
    // One set alone over the budget keeps its newest seconds.
    fill('d', [1, 2, 3, 4, 5, 6, 7]);
    expect(cache.stats()).toEqual({ sets: 1, fragments: 5, bytes: 5 * size });
    expect(cache.service('channel', 'd').get(7, 1)).toBeDefined();
    expect(cache.service('channel', 'd').get(2, 1)).toBeUndefined();
  });
});
