/**
 * `rtmetrics demo`: the server plus built-in synthetic traffic through the real ingest path
 * (NDJSON -> parser -> durable pipeline), so a new user sees live numbers at once.
 */
import type { Command } from 'commander';
import { createSyntheticTraffic } from '../demo/synthetic-traffic.ts';
import { feedDemoTraffic } from './feed-demo-traffic.ts';
import { resolveAdminToken } from '../api/tokens.ts';
import { startServer } from '../main.ts';
import { startOrExit, stopOnSignals } from './serve.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the server with synthetic traffic for a few services, POPs and domains')
    .option('--rate <events>', 'synthetic events per second', '2000')
    .action(async (opts: { rate: string }) => {
      const rate = Number(opts.rate);
      if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate must be a positive number, got ${opts.rate}`);
      const running = await startOrExit((config) => startServer(config));
      const { services } = running;
      const { config } = services;
      const traffic = createSyntheticTraffic({ seed: Date.now() % 1_000_000 });
      const tickMs = 100;
      const timer = setInterval(() => {
        const now = services.clock.now() / 1000;
        const count = Math.max(1, Math.round((rate * tickMs) / 1000));
        void feedDemoTraffic(services, traffic.ndjson(now - tickMs / 1000, count));
      }, tickMs);
      const token = resolveAdminToken(config, services.logger);
      process.stdout.write(
        `\nrtmetrics demo: ${rate} synthetic events/s for services shop, media, edge-api\n` +
          `  dashboard: ${running.url}/dashboard#token=${token}\n` +
          `  try:       curl -H 'Fastly-Key: ${token}' ${running.url}/v1/channel/shop/ts/h/limit/3\n\n`,
      );
      stopOnSignals(running, () => clearInterval(timer));
    });
}
