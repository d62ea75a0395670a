/**
 * `rtmetrics serve` and `rtmetrics demo`: run the server (demo adds synthetic traffic).
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.ts';
import { startServer, type Running } from '../main.ts';
import { describeStartupFailure } from './startup-failure.ts';

/**
 * Loads the config and starts, or prints one line saying what failed and what to do and exits
 * with status 1 (a supervisor sees the failure, an operator reads the fix).
 */
export async function startOrExit(start: (config: Config) => Promise<Running>): Promise<Running> {
  let config: Config | undefined;
  try {
    config = loadConfig();
    return await start(config);
  } catch (err) {
    process.stderr.write(`${describeStartupFailure(err, config ?? {})}\n`);
    if (config?.logLevel === 'debug' || config?.logLevel === 'trace') console.error(err);
    process.exit(1);
  }
}

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
      const running = await startOrExit((config) => startServer(config));
      stopOnSignals(running);
    });
}
