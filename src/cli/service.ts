/**
 * `rtmetrics service list|rename`: the catalog's services (Azion configurations), through the
 * running server's admin API or, when no server answers, directly in the data dir
 * (./service-admin.ts says why).
 */
import { Option, type Command } from 'commander';
import { readAdminTokenFile } from '../api/tokens.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { invalidServiceName, type CatalogService } from '../store/catalog.ts';
import { createHttpServiceAdmin, openDirectServiceAdmin, type ServiceAdmin } from './service-admin.ts';
import { CliError, probeServer } from './token-admin.ts';

interface CommonOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

function defaultUrl(config: Config): string {
  // A server bound to every interface is reachable on loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' || config.host === '' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function openAdmin(opts: CommonOptions): Promise<ServiceAdmin> {
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
    return createHttpServiceAdmin(url, secret);
  }
  if (probe.kind === 'foreign') throw new CliError(`${url} answered HTTP ${probe.status} but is not rtmetrics`);
  // An address the user chose that does not answer is an error, not a cue to open local files.
  if (opts.url !== undefined) throw new CliError(`no server answers at ${url}`);
  return openDirectServiceAdmin(dataDir);
}

async function withAdmin(opts: CommonOptions, work: (admin: ServiceAdmin) => Promise<void>): Promise<void> {
  try {
    const admin = await openAdmin(opts);
    try {
      await work(admin);
    } finally {
      await admin.close();
    }
  } catch (err) {
    process.exitCode = 1;
    process.stderr.write(`rtmetrics service: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'server to manage (default http://127.0.0.1:$PORT)').env('RTM_URL'))
    .option('--token <secret>', 'admin token for the server (default RTM_ADMIN_TOKEN or the data dir admin-token file)')
    .option('--data-dir <dir>', 'data dir when no server runs (default RTM_DATA_DIR or ./data)')
    .option('--json', 'print JSON');
}

function printTable(services: readonly CatalogService[]): void {
  const rows = [
    ['ID', 'SERVICE', 'NAME', 'PRODUCTS', 'DOMAINS'],
    ...services.map((s) => [String(s.id), s.service, s.name, s.products.join(','), s.domains.map((d) => `${d.domain}(${d.id})`).join(',')]),
  ];
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
}

export function registerServiceCommands(program: Command): void {
  const service = program.command('service').description('list services (Azion configurations) and set their display names');

  addCommon(service.command('list').description('list services with their ids, products and domains')).action(async (opts: CommonOptions) => {
    await withAdmin(opts, async (admin) => {
      const services = await admin.list();
      if (opts.json) process.stdout.write(`${JSON.stringify(services)}\n`);
      else printTable(services);
    });
  });

  addCommon(
    service
      .command('rename')
      .description('set the display name of a service (the Azion configuration "name")')
      .argument('<service>', 'the service id of the events')
      .argument('<name>', 'the new display name'),
  ).action(async (serviceKey: string, name: string, opts: CommonOptions) => {
    const invalid = invalidServiceName(name);
    if (invalid) {
      process.exitCode = 1;
      process.stderr.write(`rtmetrics service: ${invalid}\n`);
      return;
    }
    await withAdmin(opts, async (admin) => {
      const renamed = await admin.rename(serviceKey, name);
      if (!renamed) throw new CliError(`no service ${serviceKey} has been seen`);
      process.stdout.write(opts.json ? `${JSON.stringify(renamed)}\n` : `Renamed ${renamed.service} (id ${renamed.id}) to "${renamed.name}" via ${admin.via}\n`);
    });
  });
}
