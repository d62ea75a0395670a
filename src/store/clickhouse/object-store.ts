/**
 * ODSL objects shared by every node of a cluster, as version rows on the first shard
 * (./object-tables.ts): a put or delete on one node is read by the next get on any node. The
 * quota is checked against what the table holds before the write; this node's writes go one
 * at a time, so only puts on other nodes can race it, each overshooting by at most one object
 * (docs/decisions.md).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../model/clock.ts';
import type { ObjectStore, PutResult } from '../object-store.ts';
import type { ClickHouseConnection } from './client.ts';
import { ensureObjectTable, insertObjectVersion, readObjectPage, readObjectVersion, readOwnerUsage, type ObjectVersion } from './object-tables.ts';

export interface ClickHouseObjectStoreOptions {
  /** The first shard (the table lives there only). The store closes it. */
  conn: ClickHouseConnection;
  /** Times a delete (put is given its time). */
  clock: Clock;
  /** Names this node in the rows it writes. */
  nodeId: string;
  /** Limit of each statement, ms. Default 10,000. */
  requestTimeoutMs?: number;
}

/** A version above both the clock (µs) and the version it replaces, so a write never loses to what it read. */
const nextVersion = (nowMs: number, previous: ObjectVersion | undefined): number => Math.max(Math.floor(nowMs) * 1000, (previous?.version ?? -1) + 1);

export async function createClickHouseObjectStore(opts: ClickHouseObjectStoreOptions): Promise<ObjectStore> {
  const { conn, clock, nodeId } = opts;
  const options = { timeoutMs: opts.requestTimeoutMs ?? 10_000 };
  try {
    await ensureObjectTable(conn);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  // This node's read-then-write steps never interleave (the quota check and the version chosen).
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the object store is closed'));
    const result = tail.then(task, task);
    tail = result.catch(() => undefined);
    return result;
  };
  let closed = false;
  const live = async (owner: string, id: string): Promise<ObjectVersion | undefined> => readObjectVersion(conn, owner, id, options);

  return {
    put: (owner, id, body, nowMs, quota) =>
      serial(async (): Promise<PutResult> => {
        const text = JSON.stringify(body);
        const previous = await live(owner, id);
        const existing = previous && !previous.deleted ? previous : undefined;
        if (quota) {
          const used = await readOwnerUsage(conn, owner, options);
          if (!existing && used.objects + 1 > quota.objects) return { ok: false, exceeded: 'objects', used: used.objects, limit: quota.objects };
          if (used.bytes - (existing?.bytes ?? 0) + Buffer.byteLength(text) > quota.bytes) return { ok: false, exceeded: 'bytes', used: used.bytes, limit: quota.bytes };
        }
        await insertObjectVersion(
          conn,
          { owner, id, version: nextVersion(nowMs, previous), writeId: randomUUID(), body: text, createdMs: existing?.object.created ?? nowMs, updatedMs: nowMs, node: nodeId },
          options,
        );
        return { ok: true, created: !existing };
      }),
    get: async (owner, id) => {
      const v = await live(owner, id);
      return v && !v.deleted ? v.object : undefined;
    },
    list: (owner, page) => readObjectPage(conn, owner, page, options),
    delete: (owner, id) =>
      serial(async () => {
        const previous = await live(owner, id);
        if (!previous || previous.deleted) return false;
        const nowMs = clock.now();
        await insertObjectVersion(
          conn,
          { owner, id, version: nextVersion(nowMs, previous), writeId: randomUUID(), body: undefined, createdMs: previous.object.created, updatedMs: nowMs, node: nodeId },
          options,
        );
        return true;
      }),
    async close() {
      if (closed) return;
      const pending = tail;
      closed = true;
      await pending;
      await conn.close();
    },
  };
}
