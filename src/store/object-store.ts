/**
 * ODSL objects (`/api/object/v1`): JSON documents kept per owning token, so two tokens may use
 * the same `_id` without seeing each other's. The DuckDB implementation is in
 * ./duckdb/object-store.ts.
 */

export type JsonObject = Record<string, unknown>;

export interface StoredObject {
  id: string;
  owner: string;
  /** The object as stored, `_id` included. */
  body: JsonObject;
  /** Epoch ms. */
  created: number;
  /** Epoch ms. */
  updated: number;
}

/** Most objects and bytes (of their JSON text) one owner may store; Infinity is no limit. */
export interface ObjectQuota {
  objects: number;
  bytes: number;
}

/** A put: stored (`created` says whether it is new), or refused by the quota with what is used. */
export type PutResult =
  | { ok: true; created: boolean }
  | { ok: false; exceeded: 'objects' | 'bytes'; used: number; limit: number };

export interface ObjectStore {
  /**
   * Creates or replaces the object `id` of `owner`. With a quota, a put that would take the owner
   * past it (counting a replaced object's size as freed) stores nothing and says why.
   */
  put(owner: string, id: string, body: JsonObject, nowMs: number, quota?: ObjectQuota): Promise<PutResult>;
  get(owner: string, id: string): Promise<StoredObject | undefined>;
  /** The owner's objects, newest update first. */
  list(owner: string, page: { limit: number; skip: number }): Promise<{ objects: StoredObject[]; total: number }>;
  /** False when there was no such object. */
  delete(owner: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Object ids: what fits in a URL path segment without escaping. */
export const OBJECT_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
