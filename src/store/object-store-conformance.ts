/**
 * The behaviour every ObjectStore must show, as vitest cases: DuckDB (one node's file) and
 * ClickHouse (shared by the nodes) answer put, get, list, delete and the quota the same way. Each
 * engine's test file calls describeObjectStoreConformance with a factory for a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type Clock } from '../model/clock.ts';
import type { ObjectStore } from './object-store.ts';
import type { Reopenable } from './reopenable.ts';

export type OpenedObjectStore = Reopenable<ObjectStore>;

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

export function describeObjectStoreConformance(name: string, open: (clock: Clock) => Promise<OpenedObjectStore>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    const opened: OpenedObjectStore[] = [];
    const clock = createFakeClock(T0);
    const fresh = async (): Promise<OpenedObjectStore> => {
      const o = await open(clock);
      opened.push(o);
      return o;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
      clock.set(T0);
    });

    it('puts, gets and replaces an object: created kept, updated moved, the body as given', async () => {
      const { current: store } = await fresh();
      const body = { _id: 'AAA', name: 'Process runs', nested: { n: 1.5, list: ['é', '\u{1F600}', null] }, quote: "it's \\ \"x\"" };
      expect(await store.put('alice', 'AAA', body, T0)).toEqual({ ok: true, created: true });
      expect(await store.get('alice', 'AAA')).toEqual({ owner: 'alice', id: 'AAA', body, created: T0, updated: T0 });
      const replaced = { _id: 'AAA', name: 'v2' };
      expect(await store.put('alice', 'AAA', replaced, T0 + 5000)).toEqual({ ok: true, created: false });
      expect(await store.get('alice', 'AAA')).toEqual({ owner: 'alice', id: 'AAA', body: replaced, created: T0, updated: T0 + 5000 });
      // A replace within the same millisecond still wins.
      expect(await store.put('alice', 'AAA', { _id: 'AAA', name: 'v3' }, T0 + 5000)).toEqual({ ok: true, created: false });
      expect((await store.get('alice', 'AAA'))?.body).toEqual({ _id: 'AAA', name: 'v3' });
      expect(await store.get('alice', 'nope')).toBeUndefined();
    });

    it("keeps owners apart: the same id under two owners, neither sees the other's", async () => {
      const { current: store } = await fresh();
      await store.put('alice', 'X', { _id: 'X', who: 'alice' }, T0);
      await store.put('bob', 'X', { _id: 'X', who: 'bob' }, T0);
      expect((await store.get('alice', 'X'))?.body).toEqual({ _id: 'X', who: 'alice' });
      expect((await store.get('bob', 'X'))?.body).toEqual({ _id: 'X', who: 'bob' });
      expect(await store.delete('bob', 'X')).toBe(true);
      expect((await store.get('alice', 'X'))?.body).toEqual({ _id: 'X', who: 'alice' });
      expect(await store.get("alice' OR 1 = 1 OR owner = '", 'X')).toBeUndefined();
      expect((await store.list('carol', { limit: 10, skip: 0 })).total).toBe(0);
    });

    it('lists newest update first (id breaks ties), paged, with the total', async () => {
      const { current: store } = await fresh();
      await store.put('o', 'a', { _id: 'a' }, T0 + 1);
      await store.put('o', 'b', { _id: 'b' }, T0 + 3);
      await store.put('o', 'c', { _id: 'c' }, T0 + 3);
      await store.put('o', 'd', { _id: 'd' }, T0 + 2);
      await store.put('o', 'a', { _id: 'a', v: 2 }, T0 + 4);
      const ids = async (limit: number, skip: number): Promise<{ ids: string[]; total: number }> => {
        const page = await store.list('o', { limit, skip });
        return { ids: page.objects.map((o) => o.id), total: page.total };
      };
      expect(await ids(10, 0)).toEqual({ ids: ['a', 'b', 'c', 'd'], total: 4 });
      expect(await ids(2, 1)).toEqual({ ids: ['b', 'c'], total: 4 });
      expect(await ids(10, 4)).toEqual({ ids: [], total: 4 });
      expect((await store.list('o', { limit: 1, skip: 0 })).objects[0]).toEqual({ owner: 'o', id: 'a', body: { _id: 'a', v: 2 }, created: T0 + 1, updated: T0 + 4 });
    });

    it('deletes: gone from get and list, a second delete finds nothing, a put again creates it anew', async () => {
      const { current: store } = await fresh();
      await store.put('o', 'gone', { _id: 'gone' }, T0);
      await store.put('o', 'stays', { _id: 'stays' }, T0);
      expect(await store.delete('o', 'gone')).toBe(true);
      expect(await store.get('o', 'gone')).toBeUndefined();
      expect(await store.delete('o', 'gone')).toBe(false);
      expect(await store.delete('o', 'never')).toBe(false);
      expect(await store.list('o', { limit: 10, skip: 0 })).toMatchObject({ total: 1, objects: [{ id: 'stays' }] });
      clock.advance(1000);
      expect(await store.put('o', 'gone', { _id: 'gone', again: true }, T0 + 1000)).toEqual({ ok: true, created: true });
      expect(await store.get('o', 'gone')).toEqual({ owner: 'o', id: 'gone', body: { _id: 'gone', again: true }, created: T0 + 1000, updated: T0 + 1000 });
    });

    it('refuses a put past the quota with what is used, counting a replaced object as freed', async () => {
      const { current: store } = await fresh();
      const quota = { objects: 2, bytes: 100 };
      const body = (n: number): { _id: string; pad: string } => ({ _id: 'x', pad: 'p'.repeat(n) });
      const size = (n: number): number => JSON.stringify(body(n)).length;
      expect(await store.put('q', 'one', body(10), T0, quota)).toEqual({ ok: true, created: true });
      expect(await store.put('q', 'two', body(10), T0, quota)).toEqual({ ok: true, created: true });
      expect(await store.put('q', 'three', body(1), T0, quota)).toEqual({ ok: false, exceeded: 'objects', used: 2, limit: 2 });
      // Replacing is not a new object; its old size is freed.
      const room = 100 - size(10);
      expect(await store.put('q', 'two', body(room - size(0)), T0, quota)).toEqual({ ok: true, created: false });
      expect(await store.put('q', 'two', body(room - size(0) + 1), T0, quota)).toEqual({ ok: false, exceeded: 'bytes', used: 100, limit: 100 });
      // Another owner has its own room; a deleted object frees its room.
      expect(await store.put('r', 'three', body(1), T0, quota)).toEqual({ ok: true, created: true });
      expect(await store.delete('q', 'one')).toBe(true);
      expect(await store.put('q', 'three', body(1), T0, quota)).toEqual({ ok: true, created: true });
      expect((await store.get('q', 'one'))).toBeUndefined();
    });

    it('keeps objects and deletions across a restart', async () => {
      const o = await fresh();
      await o.current.put('o', 'kept', { _id: 'kept', n: 1 }, T0);
      await o.current.put('o', 'gone', { _id: 'gone' }, T0);
      await o.current.delete('o', 'gone');
      const again = await o.reopen();
      expect(await again.get('o', 'kept')).toEqual({ owner: 'o', id: 'kept', body: { _id: 'kept', n: 1 }, created: T0, updated: T0 });
      expect(await again.get('o', 'gone')).toBeUndefined();
      expect((await again.list('o', { limit: 10, skip: 0 })).total).toBe(1);
    });

    it('serializes concurrent puts of one node: every put lands, the quota holds', async () => {
      const { current: store } = await fresh();
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.put('c', `k${i}`, { _id: `k${i}` }, T0 + i, { objects: 10, bytes: Infinity })));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      expect((await store.list('c', { limit: 100, skip: 0 })).total).toBe(10);
    });
  });
}
