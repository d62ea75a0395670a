/**
 * Composition root: config -> services -> buildApp -> listen. Returns a handle that stops
 * everything (used by the CLI's signal handlers and by child-process tests).
 */
import pino, { type Logger } from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config/config.ts';
import { systemClock, type Clock } from './model/clock.ts';
import { createServices, type Services } from './services.ts';
import type { FastifyInstance } from 'fastify';

export interface Running {
  app: FastifyInstance;
  services: Services;
  /** The bound address, e.g. http://127.0.0.1:8080. */
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config, clock: Clock = systemClock, logger?: Logger): Promise<Running> {
  const log = logger ?? pino({ level: config.logLevel });
  const services = await createServices({ config, clock, logger: log });
  let app: FastifyInstance | undefined;
  let url: string;
  try {
    app = await buildApp(services);
    url = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    // e.g. the port is taken: release the data dir before the error is reported.
    await app?.close().catch(() => undefined);
    await services.close().catch(() => undefined);
    throw err;
  }
  log.info({ url, dataDir: config.dataDir, store: services.engine.describe, nodeId: config.nodeId }, 'rtmetrics listening');
  let stopped = false;
  return {
    app,
    services,
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
      await services.close();
    },
  };
}
