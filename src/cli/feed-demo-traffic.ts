/**
 * One tick of `rtmetrics demo`'s traffic: an NDJSON body parsed and handed to the durable
 * pipeline as the ingest route would (the route's HTTP, token and admission aside: the demo
 * writes its own services), its paths and client addresses added to the top values once durable.
 */
import { countTopValues } from '../aggregate/top-value-counts.ts';
import { parseNdjson } from '../ingest/ndjson-parser.ts';
import type { Services } from '../services.ts';

/** Resolves once the body's events are durable (errors are logged, not thrown: a demo tick never stops the server). */
export async function feedDemoTraffic(services: Pick<Services, 'config' | 'ingest' | 'topValues' | 'logger'>, ndjson: string): Promise<void> {
  const { config } = services;
  const parsed = parseNdjson(Buffer.from(ndjson), {
    dictionaries: services.ingest.dictionaries,
    maxLineBytes: config.limits.maxLineBytes,
    maxEvents: config.limits.maxEventsPerRequest,
    keepPathQuery: config.keepPathQuery,
    skipTopValues: !config.topValues,
  });
  const topValues = config.topValues ? countTopValues(parsed.batch, parsed.topNames, services.ingest.dictionaries.service) : undefined;
  try {
    await services.ingest.ingest(parsed.batch);
    if (topValues) services.topValues.add(topValues);
  } catch (err) {
    services.logger.error({ err }, 'demo ingest failed');
  }
}
