/**
 * `rtmetrics service list|rename`: the catalog's services (Azion configurations), through the
 * running server's admin API or, when no server answers, directly in the data dir
 * (./service-admin.ts says why).
 */
import type { Command } from 'commander';
import { invalidServiceName, type CatalogService } from '../store/catalog.ts';
import { addAdminOptions, withAdmin, type AdminBackends, type AdminOptions } from './admin-target.ts';
import { createHttpServiceAdmin, openDirectServiceAdmin, type ServiceAdmin } from './service-admin.ts';
import { CliError } from './admin-http.ts';

const SERVICE_BACKENDS: AdminBackends<ServiceAdmin> = { http: createHttpServiceAdmin, direct: openDirectServiceAdmin };



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

  addAdminOptions(service.command('list').description('list services with their ids, products and domains')).action(async (opts: AdminOptions) => {
    await withAdmin('service', opts, SERVICE_BACKENDS, async (admin) => {
      const services = await admin.list();
      if (opts.json) process.stdout.write(`${JSON.stringify(services)}\n`);
      else printTable(services);
    });
  });

  addAdminOptions(
    service
      .command('rename')
      .description('set the display name of a service (the Azion configuration "name")')
      .argument('<service>', 'the service id of the events')
      .argument('<name>', 'the new display name'),
  ).action(async (serviceKey: string, name: string, opts: AdminOptions) => {
    const invalid = invalidServiceName(name);
    if (invalid) {
      process.exitCode = 1;
      process.stderr.write(`rtmetrics service: ${invalid}\n`);
      return;
    }
    await withAdmin('service', opts, SERVICE_BACKENDS, async (admin) => {
      const renamed = await admin.rename(serviceKey, name);
      if (!renamed) throw new CliError(`no service ${serviceKey} has been seen`);
      process.stdout.write(opts.json ? `${JSON.stringify(renamed)}\n` : `Renamed ${renamed.service} (id ${renamed.id}) to "${renamed.name}" via ${admin.via}\n`);
    });
  });
}
