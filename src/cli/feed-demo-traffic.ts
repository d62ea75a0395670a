/**
 * One tick of `rtmetrics demo`'s traffic: an NDJSON body parsed and handed to the durable
 * pipeline as the ingest route would (the route's HTTP, token and admission aside: the demo
 * writes its own services), its paths and client addresses added to the top values once durable.
 */
import { parseInThread } from '../ingest/parse-body.ts';
import type { Services } from '../services.ts';

/** Resolves once the body's events are durable (errors are logged, not thrown: a demo tick never stops the server). */
export async function feedDemoTraffic(services: Pick<Services, 'config' | 'ingest' | 'topValues' | 'logger'>, ndjson: string): Promise<void> {
  const { config } = services;
  // The route's parse (counting the top values with the events); no token, so no admission.
  const parsed = parseInThread(Buffer.from(ndjson), {
    dictionaries: services.ingest.dictionaries,
    maxLineBytes: config.limits.maxLineBytes,
    maxEvents: config.limits.maxEventsPerRequest,
    keepPathQuery: config.keepPathQuery,
    skipTopValues: !config.topValues,
  });
  if (parsed.events.kind !== 'batch') return;
  try {
    await services.ingest.ingest(parsed.events.batch);
    if (config.topValues) services.topValues.add(parsed.topValues);
  } catch (err) {
    services.logger.error({ err }, 'demo ingest failed');
  }
}
