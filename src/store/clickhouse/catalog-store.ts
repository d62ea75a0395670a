/**
 * The catalog shared by every node of a cluster (issue 10: "Azion catalog ids are equal on every
 * node and never change"), in append-only tables on the first shard (./catalog-tables.ts) with
 * ids derived from the names (./catalog-ids.ts). Every answer comes from an in-memory mirror
 * (./catalog-mirror.ts) that each node reads again every `refreshMs` (only when a row count
 * moved), so what another node registered shows within a few seconds, and what this node
 * registered at once. While ClickHouse is away the last catalog stays in use and a new name is
 * not listed: it waits, in memory, for the next refresh or observe that can claim its id, since
 * an id made up locally could differ from the one the other nodes settle on (docs/decisions.md).
 */
import type { Clock } from '../../model/clock.ts';
import type { RecordSet } from '../../model/record.ts';
import type { Catalog, CatalogService } from '../catalog.ts';
import { canonicalName, domainName, serviceName, sha256CatalogId, type CatalogName, type IdHash } from './catalog-ids.ts';
import { adoptLocalCatalog } from './catalog-adopt.ts';
import { claimIds } from './catalog-claim.ts';
import { createCatalogMirror } from './catalog-mirror.ts';
import { ensureCatalogTables, insertNames, insertProducts, readCatalogRows, readCatalogWatermark, REREAD_SECONDS, type CatalogWatermark, type ProductRow } from './catalog-tables.ts';
import type { ClickHouseConnection } from './client.ts';
import { createFailureReport, startRefreshLoop } from './refresh-loop.ts';

export interface ClickHouseCatalogOptions {
  /** The first shard (the tables live there only). The catalog closes it. */
  conn: ClickHouseConnection;
  clock: Clock;
  /** Names this node in the rows it writes. */
  nodeId: string;
  /**
   * Services (with their domains and products) to copy in at open under their ids: the node's own
   * catalog from before it was shared (its DuckDB file), so Azion clients keep their ids. A name
   * already claimed, or an id already taken, is not copied (the first node to start wins).
   * Default: none.
   */
  adopt?: readonly CatalogService[];
  /** Pause between the end of one read of the tables and the next, ms. Default 1,000. */
  refreshMs?: number;
  /** Limit of one background read, and of the claims of one observe(), ms. Default 2,000. */
  refreshTimeoutMs?: number;
  /** Limit of each statement at open and of rename(), ms. Default 10,000. */
  requestTimeoutMs?: number;
  /** Candidate id of attempt k of a canonical name. Default SHA-256 (tests force collisions). */
  hash?: IdHash;
  /** Told when a read or a claim fails: the first of a run of failures, then every 60th. Default: nothing. */
  onError?: (err: unknown, failuresInARow: number) => void;
}

export interface ClickHouseCatalog extends Catalog {
  /** Reads the tables now and claims what waits; resolves when the mirror holds what they held. */
  refresh(): Promise<void>;
  /** Sightings waiting for ClickHouse to claim their ids. */
  waiting(): number;
}

/** An unknown id read through resolve() triggers a read of the tables at most this often, ms. */
const RESOLVE_REFRESH_MS = 1000;
/** A read of every row at most this often (when something changed), ms. */
const FULL_READ_MS = 10 * 60_000;
/** Sightings kept while ClickHouse is away; beyond, new ones wait for their next event. */
const MAX_WAITING = 100_000;

const sightingKey = (p: ProductRow): string => `${p.service}\u0000${p.domain}\u0000${p.product}`;

export async function createClickHouseCatalog(opts: ClickHouseCatalogOptions): Promise<ClickHouseCatalog> {
  const { conn, clock, nodeId } = opts;
  const refreshMs = opts.refreshMs ?? 1000;
  const refreshTimeoutMs = opts.refreshTimeoutMs ?? 2000;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const hash = opts.hash ?? sha256CatalogId;
  const mirror = createCatalogMirror();
  let seen: CatalogWatermark = { counts: '', newestSecond: 0 };
  let fullReadMs = Number.NEGATIVE_INFINITY;
  /**
   * Reads the tables if a row count moved, answering whether one did: the rows inserted since
   * the last read (REREAD_SECONDS before its newest), and every row now and then in case an
   * insert took longer than that to commit.
   */
  const load = async (limitMs: number): Promise<boolean> => {
    const now = await readCatalogWatermark(conn, { timeoutMs: limitMs });
    if (now.counts === seen.counts) return false;
    const full = Date.now() - fullReadMs >= FULL_READ_MS;
    mirror.add(await readCatalogRows(conn, full ? undefined : seen.newestSecond - REREAD_SECONDS, { timeoutMs: limitMs }));
    if (full) fullReadMs = Date.now();
    seen = now;
    return true;
  };
  const claimContext = (limitMs: number): Parameters<typeof claimIds>[0] => ({ conn, mirror, hash, node: nodeId, nowMs: () => clock.now(), timeoutMs: limitMs });

  /** Sightings not yet in the tables, by service, domain and product. */
  const waiting = new Map<string, ProductRow>();
  const register = async (sightings: readonly ProductRow[], limitMs: number): Promise<void> => {
    const names = new Map<string, CatalogName>();
    for (const s of sightings) for (const n of [serviceName(s.service), domainName(s.service, s.domain)]) names.set(canonicalName(n), n);
    await claimIds(claimContext(limitMs), [...names.values()]);
    const fresh = sightings.filter((s) => !mirror.hasProduct(s.service, s.domain, s.product));
    await insertProducts(conn, fresh, { nowMs: clock.now(), node: nodeId }, { timeoutMs: limitMs });
    mirror.add({ products: fresh });
    for (const s of sightings) waiting.delete(sightingKey(s));
  };

  try {
    await ensureCatalogTables(conn);
    await load(timeoutMs);
    await adoptLocalCatalog(
      { conn, mirror, nowMs: () => clock.now(), node: nodeId, timeoutMs, reload: () => load(timeoutMs), register: (sightings) => register(sightings, timeoutMs) },
      opts.adopt ?? [],
    );
    // Losers of a concurrent claim whose node stopped before it claimed their next attempt.
    await claimIds(claimContext(timeoutMs), mirror.claims.unsettled());
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }

  let closed = false;
  const failures = createFailureReport(opts.onError);
  let lastReadMs = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  const tracked = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the catalog is closed'));
    const p = work();
    inFlight.add(p);
    const forget = (): void => void inFlight.delete(p);
    p.then(forget, forget);
    return p;
  };
  // Claims and renames run one at a time: two rounds for the same names would only race each other.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };
  const failed = (err: unknown): void => failures.failed(err);
  const retry = (limitMs: number, rowsMoved: boolean): Promise<void> =>
    exclusive(async () => {
      // A name that lost its id to a concurrent claim (seen only now) takes its next attempt,
      // whichever node notices first: they all compute the same one.
      const losers = rowsMoved ? mirror.claims.unsettled() : [];
      if (losers.length > 0) await claimIds(claimContext(limitMs), losers);
      const todo = [...waiting.values()].filter((s) => !mirror.knows(s.service, s.domain, s.product));
      if (todo.length > 0) await register(todo, limitMs);
    });
  const readAndRetry = async (limitMs: number): Promise<void> => {
    lastReadMs = Date.now();
    await retry(limitMs, await load(limitMs));
    failures.succeeded();
  };

  const backgroundRead = async (): Promise<void> => {
    try {
      await readAndRetry(refreshTimeoutMs);
    } catch (err) {
      failed(err);
    }
  };
  // Reads never overlap, and a slow one delays the next.
  const loop = startRefreshLoop(refreshMs, backgroundRead);

  const unknownSightings = (records: RecordSet): ProductRow[] => {
    const unknown = new Map<string, ProductRow>();
    const check = (r: { service: string; domain: string; product: string }): void => {
      if (mirror.knows(r.service, r.domain, r.product)) return;
      const s = { service: r.service, domain: r.domain, product: r.product };
      unknown.set(sightingKey(s), s);
    };
    for (const r of records.edge) check(r);
    for (const r of records.dimension) check(r);
    return [...unknown.values()];
  };

  return {
    async observe(records) {
      const unknown = unknownSightings(records);
      if (unknown.length === 0 || closed) return;
      for (const s of unknown) if (waiting.size < MAX_WAITING || waiting.has(sightingKey(s))) waiting.set(sightingKey(s), s);
      // While reads fail, a claim would only wait for its time limit: the timer retries instead.
      if (failures.failing) return;
      // Everything waiting, not only these records: observes queued behind a running claim
      // become one round for the first of them and nothing for the rest.
      await tracked(() =>
        exclusive(async () => {
          const todo = [...waiting.values(), ...unknown.filter((s) => !waiting.has(sightingKey(s)))].filter((s) => !mirror.knows(s.service, s.domain, s.product));
          if (todo.length > 0) await register(todo, refreshTimeoutMs);
        }),
      ).catch(failed);
    },
    async services() {
      return mirror.services();
    },
    async resolve(id) {
      const known = mirror.resolve(id);
      if (known || closed || Date.now() - lastReadMs < RESOLVE_REFRESH_MS) return known;
      // Registered by another node since the last read, perhaps.
      await tracked(() => readAndRetry(refreshTimeoutMs)).catch(failed);
      return mirror.resolve(id);
    },
    rename(service, name) {
      return tracked(() =>
        exclusive(async () => {
          if (!mirror.service(service)) return undefined;
          const row = { service, name, version: Math.max(clock.now(), (mirror.nameRow(service)?.version ?? 0) + 1), node: nodeId };
          await insertNames(conn, [row], { timeoutMs });
          mirror.add({ names: [row] });
          return mirror.service(service);
        }),
      );
    },
    size: () => mirror.size(),
    // The mirror holds every node's domains in this process: the global bound counts them all.
    domainCount: () => mirror.domainCount(),
    waiting: () => waiting.size,
    refresh: () => tracked(() => readAndRetry(timeoutMs)),
    async close() {
      if (closed) return;
      closed = true;
      await loop.stop();
      await Promise.allSettled([...inFlight]);
      await conn.close();
    },
  };
}
