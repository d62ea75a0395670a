/**
 * Where `rtmetrics import` and `tail` send events: a running server's POST /ingest (`--url`,
 * or the default address when a server answers there), else the data dir in process, through
 * the same durable pipeline the server uses (DuckDB lets one process open the data dir, so a
 * running server must be sent to).
 */
import type { TopValueCounts } from '../aggregate/top-value-counts.ts';
import { Option, type Command } from 'commander';
import pino from 'pino';
import { readAdminTokenFile } from '../api/tokens.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { createHttpSubmitter, createLocalSubmitter, type EventSubmitter } from '../ingest/access-log/submit.ts';
import { LOG_FORMATS, type LogFormatName } from '../ingest/access-log/formats.ts';
import { systemClock } from '../model/clock.ts';
import { createServices } from '../services.ts';
import { CliError, probeServer } from './admin-http.ts';

export interface IngestTargetOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  /** In process: DuckDB's memory limit, bytes, when lower than the config's. Default: the config's. */
  duckdbMemoryBytes?: number;
}

export interface LogCommandOptions extends IngestTargetOptions {
  service: string;
  format: LogFormatName;
  logFormat?: string;
  map?: string;
  datacenter?: string;
  datacenterVar?: string;
}

export function defaultUrl(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' || config.host === '' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export function loadCliConfig(dataDir?: string): Config {
  try {
    const config = loadConfig();
    return dataDir === undefined ? config : { ...config, dataDir: loadConfig({ ...process.env, RTM_DATA_DIR: dataDir }).dataDir };
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
}

/** The submitter for the options, with what it goes through; close() releases the data dir. */
export async function openIngestTarget(opts: IngestTargetOptions, onRetry?: (attempt: number, reason: string) => void): Promise<{ submitter: EventSubmitter; config: Config }> {
  const config = loadCliConfig(opts.dataDir);
  const url = opts.url ?? defaultUrl(config);
  const probe = await probeServer(url);
  if (probe.kind === 'rtmetrics') {
    const token = opts.token ?? config.adminToken ?? readAdminTokenFile(config.dataDir);
    if (!token) throw new CliError(`a server answers at ${url}: pass --token (a token with the ingest scope) or set RTM_ADMIN_TOKEN`);
    return { submitter: createHttpSubmitter({ url, token, ...(onRetry ? { onRetry } : {}) }), config };
  }
  if (probe.kind === 'foreign') throw new CliError(`${url} answered HTTP ${probe.status} but is not rtmetrics`);
  if (opts.url !== undefined) throw new CliError(`no server answers at ${url}`);

  // No server: the data dir in process. Logs go to stderr at warn so they do not mix with the summary.
  const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2));
  let services;
  try {
    const duckdbMemoryBytes = Math.min(config.duckdbMemoryBytes, opts.duckdbMemoryBytes ?? Number.POSITIVE_INFINITY);
    services = await createServices({ config: { ...config, ingestWorkers: 0, duckdbMemoryBytes }, clock: systemClock, logger });
  } catch (err) {
    throw new CliError(`cannot open the data dir ${config.dataDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const submitter = createLocalSubmitter({
    ingest: services.ingest,
    via: config.dataDir,
    maxSecond: () => Math.floor(systemClock.now() / 1000) + config.limits.maxFutureSeconds,
    close: () => services.close(),
    // The ClickHouse spool over its budget (a shard away), or the store queue over its memory
    // share: the import waits, as a server would refuse.
    refusal: () => services.ingestRefusal(),
    onHold: (reason) => logger.warn({ reason }, 'the import waits until the store takes events again'),
    ...(config.topValues ? { onTopValues: (counts: TopValueCounts) => services.topValues.add(counts) } : {}),
  });
  return { submitter, config };
}

/** The options import and tail share. */
export function addLogOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--service <service>', 'service of the events (lines that name none)')
    .addOption(new Option('--format <format>', 'log format').choices([...LOG_FORMATS]).default('nginx'))
    .option('--log-format <format>', "nginx: the log_format as written in nginx.conf, or a preset (combined, rtmetrics); default combined")
    .option('--map <file>', 'json: mapping file from event fields to keys (docs/import.md)')
    .option('--datacenter <pop>', 'POP of lines that name none (nginx: of every line)')
    .option('--datacenter-var <var>', 'nginx: the log_format variable that holds the POP, e.g. pop for $pop')
    .addOption(new Option('--url <url>', 'send to this server (default: http://127.0.0.1:$PORT when one answers, else the data dir in process)').env('RTM_URL'))
    .option('--token <secret>', 'token with the ingest scope for the server (default RTM_ADMIN_TOKEN or the data dir admin-token file)')
    .option('--data-dir <dir>', 'data dir when no server runs (default RTM_DATA_DIR or ./data)');
}
