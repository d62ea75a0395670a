/**
 * What one token may POST to /api/metric/v1: a quota of stored entities (count and bytes) and a
 * sustained rate (a token bucket holding BURST_SECONDS of the rate; a request larger than the
 * bucket is let through when the bucket is full and leaves it in debt, so any request size the
 * route accepts can pass and the average rate still holds). The operator's admin token is
 * not limited (the caller decides). Expected refusals are returned as RtmErrors, not thrown.
 *
 * Stored totals are read from the store once per token and then kept in memory (a POST costs a
 * map lookup, not a count over the table); admissions reserve their room at once, so concurrent
 * POSTs cannot both take the last of it. The totals are re-read every hour, which picks up
 * retention expiry.
 */
import type { Clock } from '../../model/clock.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { usageEntityBytes, type UsageStore } from '../../store/usage-store.ts';
import type { EntityInput } from './entity-input.ts';
import { RESERVED_PROVIDERS } from './entity-input.ts';

export interface UsageQuotaLimits {
  /** Entities per token; 0 or Infinity: no limit. */
  usageEntitiesPerToken: number;
  /** Bytes (usageEntityBytes) per token; 0 or Infinity: no limit. */
  usageBytesPerToken: number;
  /** Sustained entities per second per token; 0 or Infinity: no limit. */
  usageEntitiesPerSecond: number;
}

export interface UsageQuotaOptions {
  usage: Pick<UsageStore, 'ownerTotals'>;
  limits: UsageQuotaLimits;
  clock: Clock;
}

export type Admission = { ok: true; release(): void } | { ok: false; error: RtmError };

export interface UsageQuota {
  /** Reserves room for `entities` of `owner`, or says why not; release() gives it back (failed insert). */
  admit(owner: string, entities: readonly EntityInput[]): Promise<Admission>;
}

const RELOAD_MS = 3_600_000;
/** Seconds of the sustained rate a token may send at once. */
export const BURST_SECONDS = 10;
const limitOf = (n: number): number => (n > 0 ? n : Infinity);

interface Totals {
  entities: number;
  bytes: number;
  loadedAt: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createUsageQuota({ usage, limits, clock }: UsageQuotaOptions): UsageQuota {
  const maxEntities = limitOf(limits.usageEntitiesPerToken);
  const maxBytes = limitOf(limits.usageBytesPerToken);
  const rate = limitOf(limits.usageEntitiesPerSecond);
  const burst = rate * BURST_SECONDS;
  const totals = new Map<string, Totals>();
  const loading = new Map<string, Promise<Totals>>();
  const buckets = new Map<string, Bucket>();

  const totalsOf = async (owner: string): Promise<Totals> => {
    const known = totals.get(owner);
    if (known && clock.now() - known.loadedAt < RELOAD_MS) return known;
    let pending = loading.get(owner);
    if (!pending) {
      pending = usage
        .ownerTotals(owner, [...RESERVED_PROVIDERS])
        .then((t) => {
          const fresh = { ...t, loadedAt: clock.now() };
          totals.set(owner, fresh);
          return fresh;
        })
        .finally(() => loading.delete(owner));
      loading.set(owner, pending);
    }
    return pending;
  };

  /** Takes `n` from the owner's bucket, or returns the seconds until it would hold `n`. */
  const take = (owner: string, n: number): number => {
    if (rate === Infinity) return 0;
    const now = clock.now();
    const b = buckets.get(owner) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    buckets.set(owner, b);
    const need = Math.min(n, burst);
    if (b.tokens >= need) {
      b.tokens -= n;
      return 0;
    }
    return Math.max(1, Math.ceil((need - b.tokens) / rate));
  };

  return {
    async admit(owner, entities) {
      const count = entities.length;
      let bytes = 0;
      for (const e of entities) bytes += usageEntityBytes(e);
      const t = maxEntities === Infinity && maxBytes === Infinity ? undefined : await totalsOf(owner);
      if (t && t.entities + count > maxEntities) {
        return {
          ok: false,
          error: new RtmError(
            Errors.QUOTA_USAGE_ENTITIES,
            `this token stores ${t.entities} usage entities and this request has ${count}: at most ${maxEntities} (RTM_MAX_USAGE_ENTITIES_PER_TOKEN); nothing was stored`,
          ),
        };
      }
      if (t && t.bytes + bytes > maxBytes) {
        return {
          ok: false,
          error: new RtmError(
            Errors.QUOTA_USAGE_ENTITIES,
            `this token stores ${t.bytes} bytes of usage entities and this request has ${bytes}: at most ${maxBytes} (RTM_MAX_USAGE_BYTES_PER_TOKEN); nothing was stored`,
          ),
        };
      }
      const wait = take(owner, count);
      if (wait > 0) {
        return {
          ok: false,
          error: new RtmError(
            Errors.QUOTA_USAGE_RATE,
            `more than ${rate} usage entities per second for this token (RTM_USAGE_ENTITIES_PER_SECOND); these ${count} fit in ${wait} s, nothing was stored`,
            { 'retry-after': String(wait) },
          ),
        };
      }
      if (t) {
        t.entities += count;
        t.bytes += bytes;
      }
      let released = false;
      return {
        ok: true,
        release() {
          if (released || !t) return;
          released = true;
          t.entities -= count;
          t.bytes -= bytes;
        },
      };
    },
  };
}
