/**
 * `rtmetrics token create|list|revoke`: API tokens, through the running server's admin API or,
 * when no server answers, directly in the data dir (./token-admin.ts says why).
 */
import type { Command } from 'commander';
import { systemClock } from '../model/clock.ts';
import { checkTokenInput, type TokenInfo } from '../store/token-store.ts';
import { addAdminOptions, withAdmin, type AdminBackends, type AdminOptions } from './admin-target.ts';
import { CliError } from './admin-http.ts';
import { createHttpTokenAdmin, openDirectTokenAdmin, type TokenAdmin } from './token-admin.ts';

const TOKEN_BACKENDS: AdminBackends<TokenAdmin> = {
  http: createHttpTokenAdmin,
  direct: (dataDir, config) => openDirectTokenAdmin(dataDir, systemClock, config),
};


const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);


const servicesText = (t: TokenInfo): string => (t.services === 'all' ? 'all' : t.services.join(','));

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens');

  addAdminOptions(
    token
      .command('create')
      .description('create a token; its secret is printed this once')
      .requiredOption('--name <name>', 'what the token is for (the usage "application")')
      .requiredOption('--services <list>', 'comma-separated service ids, or all')
      .requiredOption('--scopes <list>', 'comma-separated: read, ingest, admin'),
  ).action(async (opts: AdminOptions & { name: string; services: string; scopes: string }) => {
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
    await withAdmin('token', opts, TOKEN_BACKENDS, async (admin) => {
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

  addAdminOptions(token.command('list').description('list tokens (never their secrets)')).action(
    async (opts: AdminOptions) => {
      await withAdmin('token', opts, TOKEN_BACKENDS, async (admin) => {
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

  addAdminOptions(token.command('revoke').description('revoke a token by id').argument('<id>', 'token id (see token list)')).action(
    async (id: string, opts: AdminOptions) => {
      await withAdmin('token', opts, TOKEN_BACKENDS, async (admin) => {
        if (!(await admin.revoke(id))) throw new CliError(`no token with id ${id}`);
        process.stdout.write(opts.json ? `${JSON.stringify({ revoked: id })}\n` : `Revoked ${id}\n`);
      });
    },
  );
}
