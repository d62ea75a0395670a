/**
 * `rtmetrics token create|list|revoke`: API tokens, through the running server's admin API or,
 * when no server answers, directly in the data dir (./token-admin.ts says why).
 */
import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/config.ts';
import { readAdminTokenFile } from '../api/tokens.ts';
import { systemClock } from '../model/clock.ts';
import { checkTokenInput, type TokenInfo } from '../store/token-store.ts';
import {
  CliError,
  createHttpTokenAdmin,
  openDirectTokenAdmin,
  probeServer,
  type TokenAdmin,
} from './token-admin.ts';

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

async function openAdmin(opts: CommonOptions): Promise<TokenAdmin> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const dataDir = opts.dataDir ?? config.dataDir;
  // --url or RTM_URL: the user chose the address.
  const explicitUrl = opts.url !== undefined;
  const url = opts.url ?? defaultUrl(config);
  const probe = await probeServer(url);
  if (probe.kind === 'rtmetrics') {
    const secret = opts.token ?? config.adminToken ?? readAdminTokenFile(dataDir);
    if (!secret) throw new CliError(`a server answers at ${url}: set RTM_ADMIN_TOKEN or pass --token`);
    return createHttpTokenAdmin(url, secret);
  }
  if (probe.kind === 'foreign') throw new CliError(`${url} answered HTTP ${probe.status} but is not rtmetrics`);
  // An address the user chose that does not answer is an error, not a cue to edit local files.
  if (explicitUrl) throw new CliError(`no server answers at ${url}`);
  return openDirectTokenAdmin(dataDir, systemClock);
}

async function withAdmin(opts: CommonOptions, work: (admin: TokenAdmin) => Promise<void>): Promise<void> {
  try {
    const admin = await openAdmin(opts);
    try {
      await work(admin);
    } finally {
      await admin.close();
    }
  } catch (err) {
    process.exitCode = 1;
    const msg = err instanceof CliError ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`rtmetrics token: ${msg}\n`);
  }
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'server to manage (default http://127.0.0.1:$PORT)').env('RTM_URL'))
    .option('--token <secret>', 'admin token for the server (default RTM_ADMIN_TOKEN or the data dir admin-token file)')
    .option('--data-dir <dir>', 'data dir when no server runs (default RTM_DATA_DIR or ./data)')
    .option('--json', 'print JSON');
}

const servicesText = (t: TokenInfo): string => (t.services === 'all' ? 'all' : t.services.join(','));

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens');

  addCommon(
    token
      .command('create')
      .description('create a token; its secret is printed this once')
      .requiredOption('--name <name>', 'what the token is for (the usage "application")')
      .requiredOption('--services <list>', 'comma-separated service ids, or all')
      .requiredOption('--scopes <list>', 'comma-separated: read, ingest, admin'),
  ).action(async (opts: CommonOptions & { name: string; services: string; scopes: string }) => {
    const checked = checkTokenInput({
      name: opts.name,
      services: opts.services.trim() === 'all' ? 'all' : list(opts.services),
      scopes: list(opts.scopes),
    });
    if (!checked.ok) {
      process.exitCode = 1;
      process.stderr.write(`rtmetrics token: ${checked.reason}\n`);
      return;
    }
    await withAdmin(opts, async (admin) => {
      const { token: t, secret } = await admin.create(checked.value);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...t, token: secret })}\n`);
        return;
      }
      process.stdout.write(
        [
          `Created token ${t.id} (${t.name}) via ${admin.via}`,
          `  services: ${servicesText(t)}`,
          `  scopes:   ${t.scopes.join(',')}`,
          `  secret:   ${secret}`,
          'The secret is shown only this once: keep it now.',
          '',
        ].join('\n'),
      );
    });
  });

  addCommon(token.command('list').description('list tokens (never their secrets)')).action(
    async (opts: CommonOptions) => {
      await withAdmin(opts, async (admin) => {
        const tokens = await admin.list();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(tokens)}\n`);
          return;
        }
        const rows = [['ID', 'NAME', 'SERVICES', 'SCOPES', 'CREATED'], ...tokens.map((t) => [t.id, t.name, servicesText(t), t.scopes.join(','), t.created])];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
      });
    },
  );

  addCommon(token.command('revoke').description('revoke a token by id').argument('<id>', 'token id (see token list)')).action(
    async (id: string, opts: CommonOptions) => {
      await withAdmin(opts, async (admin) => {
        if (!(await admin.revoke(id))) throw new CliError(`no token with id ${id}`);
        process.stdout.write(opts.json ? `${JSON.stringify({ revoked: id })}\n` : `Revoked ${id}\n`);
      });
    },
  );
}
