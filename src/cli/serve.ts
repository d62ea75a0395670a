/**
 * `rtmetrics serve` and `rtmetrics demo`: run the server (demo adds synthetic traffic).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.ts';
import { startServer, type Running } from '../main.ts';

export function stopOnSignals(running: Running, extra: () => void = () => {}): void {
  const stop = (): void => {
    extra();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the server (PORT, HOST, RTM_DATA_DIR, RTM_ADMIN_TOKEN, ...)')
    .action(async () => {
      const running = await startServer(loadConfig());
      stopOnSignals(running);
    });
}
