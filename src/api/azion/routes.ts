/**
 * The Azion Real-Time Metrics API v3 (`/metrics/products/...`): configurations of a product,
 * and one metric (or one dimension of it) as `[timestamp, value]` pairs per bucket.
 * Errors render in Azion's `{"detail": ...}` envelope (app.ts picks it for `/metrics` URLs).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Clock } from '../../model/clock.ts';
import type { Product } from '../../model/event.ts';
import type { Catalog } from '../../store/catalog.ts';
import type { MetricStore } from '../../store/store.ts';
import type { TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { DEFAULT_MAX_QUERY_RANGE_SECONDS, type QueryRangeLimits } from '../../query/query-range.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { parseGranularity, planBuckets } from './buckets.ts';
import { listConfigurations, requireReadScope, resolveConfiguration } from './configurations.ts';
import { parseAzionRange } from './dates.ts';
import { findMetric, type Series } from './metrics.ts';
import { productOf } from '../../model/azion-products.ts';
import { readSeries } from './series.ts';
import { formatWallMinute, isValidTimeZone } from '../../model/time-zone.ts';

export interface AzionRoutesOptions {
  store: MetricStore;
  catalog: Catalog;
  tokens: TokenVerifier;
  clock: Clock;
  /** IANA zone of dates written without `Z` (config `timeZone`, `RTM_TZ`; default UTC). */
  timeZone: string;
  /** Limits; only `maxQueryRangeSeconds` (per tier) is read. Default DEFAULT_MAX_QUERY_RANGE_SECONDS. */
  limits?: { maxQueryRangeSeconds: QueryRangeLimits };
}

type Query = Record<string, string | string[] | undefined>;

/** A query parameter's first value. */
function param(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

function humanReadable(query: Query): boolean {
  const raw = param(query, 'human_readable');
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  throw new RtmError(Errors.REQUEST_BAD_PARAM, `human_readable must be true or false, got "${raw}"`);
}

function productOrThrow(prodId: string): Product {
  const product = productOf(prodId);
  if (!product) throw new RtmError(Errors.AZION_UNKNOWN_PRODUCT, `No product ${prodId}`);
  return product;
}

export const azionRoutes: FastifyPluginAsync<AzionRoutesOptions> = async (app, opts) => {
  const { store, catalog, tokens, clock, timeZone } = opts;
  if (!isValidTimeZone(timeZone)) throw new Error(`RTM_TZ: unknown time zone "${timeZone}"`);
  const maxRangeSeconds = opts.limits?.maxQueryRangeSeconds ?? DEFAULT_MAX_QUERY_RANGE_SECONDS;

  app.get<{ Params: { prodId: string } }>('/metrics/products/:prodId/configurations', async (req) => {
    const principal = await authenticateRequest(req, tokens);
    requireReadScope(principal);
    return listConfigurations(catalog, principal, productOrThrow(req.params.prodId));
  });

  interface MetricParams {
    prodId: string;
    confId: string;
    metric: string;
    dimension?: string;
  }

  const answerMetric = async (req: FastifyRequest<{ Params: MetricParams }>): Promise<[number | string, number][]> => {
    const principal = await authenticateRequest(req, tokens);
    requireReadScope(principal);
    const { prodId, confId, metric: metricName, dimension } = req.params;
    const product = productOrThrow(prodId);
    const { filter } = await resolveConfiguration(catalog, principal, product, confId);
    const metric = findMetric(product, metricName);
    if (!metric) throw new RtmError(Errors.AZION_UNKNOWN_METRIC, `No metric ${metricName} for this product`);
    let series: Series = metric.series;
    if (dimension !== undefined) {
      const found = metric.dimension(dimension);
      if (!found) {
        throw new RtmError(Errors.AZION_UNKNOWN_DIMENSION, `No dimension ${dimension} for ${metricName}; dimensions: ${metric.dimensionsHelp}`);
      }
      series = found;
    }

    const query = req.query as Query;
    const readable = humanReadable(query);
    const range = parseAzionRange({ date_from: param(query, 'date_from'), date_to: param(query, 'date_to') }, clock.now(), timeZone);
    if (!range.ok) throw new RtmError(Errors.AZION_BAD_DATE, range.reason);
    const granularity = parseGranularity(param(query, 'granularity'));
    if (!granularity.ok) throw new RtmError(Errors.REQUEST_BAD_PARAM, granularity.reason);
    const plan = planBuckets(range.value, granularity.value, maxRangeSeconds);
    if (!plan.ok) throw new RtmError(Errors.QUERY_RANGE_TOO_LARGE, plan.reason);

    const values = await readSeries(store, series, plan.value, filter);
    const { start, bucketSeconds } = plan.value;
    return values.map((value, i) => {
      const ms = (start + i * bucketSeconds) * 1000;
      return [readable ? formatWallMinute(ms, range.value.zone) : ms, value];
    });
  };

  app.get<{ Params: MetricParams }>('/metrics/products/:prodId/configurations/:confId/metrics/:metric', answerMetric);
  app.get<{ Params: MetricParams }>('/metrics/products/:prodId/configurations/:confId/metrics/:metric/dimensions/:dimension', answerMetric);
};
