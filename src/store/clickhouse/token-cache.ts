/**
 * The live tokens of a cluster as this node last read them, by secret digest: what verify()
 * looks in, so a request never waits on ClickHouse. A refresh replaces the whole map with what
 * the table held; the tokens this node created or revoked itself since that read began are laid
 * over it again, so a refresh that started before a local change cannot undo it.
 */
import type { Principal } from '../../http/auth.ts';
import { tokenPrincipal, type TokenInfo } from '../token-store.ts';
import type { StoredToken } from './token-tables.ts';

export interface LiveToken {
  info: TokenInfo;
  /** SHA-256 of the secret, hex. */
  digest: string;
  principal: Principal;
}

export interface TokenCache {
  /** The live token whose secret has this digest. */
  find(digest: string): LiveToken | undefined;
  /** Whether a live token has this id. */
  hasId(id: string): boolean;
  size(): number;
  /** A token this node created, usable at once (its row is in the table). */
  created(info: TokenInfo, digest: string): void;
  /** A token this node revoked, refused at once (its revocation is in the table). */
  revoked(id: string): void;
  /**
   * Call just before reading the table; call what it returns with the rows that read got. The
   * rows of a read that began before the one applied last are ignored (they are older).
   */
  beginRefresh(): (rows: readonly StoredToken[]) => void;
}

type LocalChange = { seq: number; created: LiveToken } | { seq: number; revoked: string };

export function createTokenCache(): TokenCache {
  let byDigest = new Map<string, LiveToken>();
  let byId = new Map<string, LiveToken>();
  /** Local changes a refresh in progress may not have seen; `seq` orders them against reads. */
  let changes: LocalChange[] = [];
  let seq = 0;
  /** Reads are numbered as they begin; one that began before the read applied last is stale. */
  let reads = 0;
  let appliedRead = 0;

  const add = (live: LiveToken): void => {
    byDigest.set(live.digest, live);
    byId.set(live.info.id, live);
  };
  const remove = (id: string): void => {
    const live = byId.get(id);
    if (!live) return;
    byId.delete(id);
    byDigest.delete(live.digest);
  };

  return {
    find: (digest) => byDigest.get(digest),
    hasId: (id) => byId.has(id),
    size: () => byId.size,
    created(info, digest) {
      const live = { info, digest, principal: tokenPrincipal(info) };
      changes.push({ seq: seq++, created: live });
      add(live);
    },
    revoked(id) {
      changes.push({ seq: seq++, revoked: id });
      remove(id);
    },
    beginRefresh() {
      // Every change before this point was acknowledged by ClickHouse before the read starts, so
      // the read sees it; those from here on may be missed and are laid over the result.
      const from = seq;
      const read = ++reads;
      return (rows) => {
        if (read < appliedRead) return;
        appliedRead = read;
        byDigest = new Map();
        byId = new Map();
        const revokedIds = new Set<string>();
        for (const row of rows) {
          if (row.revoked) revokedIds.add(row.info.id);
          else add({ info: row.info, digest: row.digest, principal: tokenPrincipal(row.info) });
        }
        changes = changes.filter((c) => c.seq >= from);
        for (const c of changes) {
          if ('revoked' in c) remove(c.revoked);
          // Revoked elsewhere after this node created it: the table is the later word.
          else if (!revokedIds.has(c.created.info.id)) add(c.created);
        }
      };
    },
  };
}
