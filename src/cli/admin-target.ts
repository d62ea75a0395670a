/**
 * Where an admin CLI command goes: the running server's admin API when one answers, else the
 * data dir's database directly (DuckDB lets one process open the file read-write, so a running
 * server must be asked). Shared by `rtmetrics token` and `rtmetrics service`.
 */
import { Option, type Command } from 'commander';
import { readAdminTokenFile } from '../api/tokens.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { CliError, probeServer } from './admin-http.ts';

export interface AdminOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

/** Something an admin command works on; closed after the command. */
export interface Closable {
  close(): Promise<void>;
}

export interface AdminBackends<A extends Closable> {
  http(url: string, secret: string): A;
  /** The data dir's own store (or, for what a ClickHouse node shares, ClickHouse itself: `config.store`). */
  direct(dataDir: string, config: Config): Promise<A>;
}

function defaultUrl(config: Config): string {
  // A server bound to every interface is reachable on loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' || config.host === '' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function openAdmin<A extends Closable>(opts: AdminOptions, backends: AdminBackends<A>): Promise<A> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const dataDir = opts.dataDir ?? config.dataDir;
  const url = opts.url ?? defaultUrl(config);
  const probe = await probeServer(url);
  if (probe.kind === 'rtmetrics') {
    const secret = opts.token ?? config.adminToken ?? readAdminTokenFile(dataDir);
    if (!secret) throw new CliError(`a server answers at ${url}: set RTM_ADMIN_TOKEN or pass --token`);
    return backends.http(url, secret);
  }
  if (probe.kind === 'foreign') throw new CliError(`${url} answered HTTP ${probe.status} but is not rtmetrics`);
  // An address the user chose (--url or RTM_URL) that does not answer is an error, not a cue to
  // open local files.
  if (opts.url !== undefined) throw new CliError(`no server answers at ${url}`);
  return backends.direct(dataDir, config);
}

/** Runs `work` on the chosen backend; failures print `rtmetrics <command>: reason` and exit 1. */
export async function withAdmin<A extends Closable>(
  command: string,
  opts: AdminOptions,
  backends: AdminBackends<A>,
  work: (admin: A) => Promise<void>,
): Promise<void> {
  try {
    const admin = await openAdmin(opts, backends);
    try {
      await work(admin);
    } finally {
      await admin.close();
    }
  } catch (err) {
    process.exitCode = 1;
    process.stderr.write(`rtmetrics ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** The options every admin command takes. */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'server to manage (default http://127.0.0.1:$PORT)').env('RTM_URL'))
    .option('--token <secret>', 'admin token for the server (default RTM_ADMIN_TOKEN or the data dir admin-token file)')
    .option('--data-dir <dir>', 'data dir when no server runs (default RTM_DATA_DIR or ./data)')
    .option('--json', 'print JSON');
}
