/**
 * The disk budget of the node's ClickHouse write spool (RTM_CLICKHOUSE_SPOOL_MAX_BYTES). It is
 * kept at the door, not in the spool: ingest refuses new events while the spool is over it, and
 * the spool still takes every write of events already acknowledged (refusing one there would
 * leave it in the WAL, which then grows instead, and a write the node acknowledged must never be
 * dropped). So the spool may pass the budget by what was acknowledged while it crossed it (about
 * one store write: the seconds of one store-writer round).
 */

const MiB = 1024 ** 2;

const size = (bytes: number): string => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`);

/** Why ingest must refuse new events (the spool over its budget), or undefined. */
export function spoolBudgetRefusal(spoolBytes: number, maxBytes: number): string | undefined {
  if (spoolBytes <= maxBytes) return undefined;
  return (
    `the ClickHouse write spool holds ${size(spoolBytes)} of acknowledged writes not yet in ClickHouse, ` +
    `over its budget of ${size(maxBytes)} (RTM_CLICKHOUSE_SPOOL_MAX_BYTES): ClickHouse or one of its shards is not taking writes`
  );
}
