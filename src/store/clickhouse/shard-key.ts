/**
 * Which shard holds a row: a stable hash of its service (FNV-1a, 32 bits) modulo the shard
 * count. One service's rows all live on one shard, so a per-service read, merge and compaction
 * stay on it; the hash depends on nothing but the service name and the shard count, so every
 * node (and a node restarted to finish its spool) sends a row to the same shard.
 */

/** FNV-1a over the UTF-16 code units of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard (0 .. count - 1) of `service`. */
export function shardOfService(service: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count ${count} is not a positive integer`);
  return count === 1 ? 0 : fnv1a32(service) % count;
}
