/**
 * `GET /rtm/v1/prometheus`: per-service counters in fastly-exporter's names and labels
 * (prometheus-families.ts) for a Prometheus that scrapes rtmetrics directly. Each counter is the
 * total since the epoch through the last published second, read through the query model (the
 * 1 d tier for whole days, finer tiers and the window for today), so it is monotonic, survives
 * restarts without a reset, and never shows a half-filled second. `aggregate_only` drops the
 * datacenter label and the allow/block lists pick families, so a large account's scrape stays small.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { canRead, hasScope, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { resolveQuery } from '../../query/resolve.ts';
import { runQuery, type QuerySources } from '../../query/run-query.ts';
import type { Row } from '../../query/rows.ts';
import { FAMILIES, type Family, type Scope } from './prometheus-families.ts';
import { strictCompiler } from './strict-schema.ts';

export interface PrometheusRouteOptions {
  tokens: TokenVerifier;
  sources: QuerySources;
  /** service id -> display name (the catalog's, `rtmetrics service rename`). */
  serviceNames: () => Promise<ReadonlyMap<string, string>>;
}

const list = Type.Union([Type.String({ maxLength: 1000 }), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 })]);
const ExportQuery = Type.Object(
  {
    service: Type.Optional(list),
    aggregate_only: Type.Optional(Type.Boolean({ description: 'sum over datacenters (no datacenter label)' })),
    metric_allowlist: Type.Optional(list),
    metric_blocklist: Type.Optional(list),
  },
  { additionalProperties: false },
);
type ExportQueryT = Static<typeof ExportQuery>;

const SCOPE_KEYS: Readonly<Record<Scope, { family: 'edge' | 'origin'; key?: 'domain' | 'backend'; label?: string }>> = {
  rt: { family: 'edge' },
  domain: { family: 'edge', key: 'domain', label: 'domain' },
  origin: { family: 'origin', key: 'backend', label: 'origin' },
};

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function regexes(name: string, raw: readonly string[]): RegExp[] {
  return raw.map((r) => {
    try {
      return new RegExp(r);
    } catch {
      throw new RtmError(Errors.REQUEST_BAD_PARAM, `${name}: "${r}" is not a valid regular expression`);
    }
  });
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatValue = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(15).replace(/\.?0+$/, ''));

export const prometheusRoute: FastifyPluginAsync<PrometheusRouteOptions> = async (app, opts) => {
  app.get<{ Querystring: ExportQueryT }>('/rtm/v1/prometheus', { schema: { querystring: ExportQuery, summary: 'Per-service counters in fastly-exporter names (Prometheus text format)', tags: ['native'] }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = await authenticateRequest(req, opts.tokens);
    if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'the export needs the read scope');
    const asked = asList(req.query.service);
    for (const s of asked) {
      // Same answer for a forbidden and an unknown service: do not reveal that it exists.
      if (!canRead(principal, s)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `Unknown service ${s}`);
    }
    const allow = regexes('metric_allowlist', asList(req.query.metric_allowlist));
    const block = regexes('metric_blocklist', asList(req.query.metric_blocklist));
    const families = FAMILIES.filter((f) => (allow.length === 0 || allow.some((r) => r.test(f.name))) && !block.some((r) => r.test(f.name)));
    const aggregateOnly = req.query.aggregate_only === true;
    const names = await opts.serviceNames();
    const to = opts.sources.realtime.latestPublished() + 1;

    const out: string[] = [];
    for (const scope of ['rt', 'domain', 'origin'] as const) {
      const mine = families.filter((f) => f.scope === scope);
      if (mine.length === 0) continue;
      const { family, key, label } = SCOPE_KEYS[scope];
      const groupBy = ['service', ...(aggregateOnly ? [] : ['datacenter']), ...(key ? [key] : [])];
      const metrics = [...new Set(mine.flatMap((f) => f.fields))];
      const filters = asked.length > 0 ? [{ field: 'service' as const, op: 'in' as const, value: asked }] : [];
      const query = resolveQuery({ from: 0, to, granularity: 'all', metrics, groupBy: groupBy as never, filters }, to);
      if (query.family !== family) throw new Error(`prometheus families of ${scope} read ${query.family}`);
      const { rows } = await runQuery(opts.sources, query, principal.services);
      for (const f of mine) out.push(renderFamily(f, rows, { aggregateOnly, key, label, names }));
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(out.join(''));
  });
};

function renderFamily(f: Family, rows: readonly Row[], o: { aggregateOnly: boolean; key: string | undefined; label: string | undefined; names: ReadonlyMap<string, string> }): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const row of rows) {
    const service = String(row['service']);
    const base: [string, string][] = [
      ['service_id', service],
      ['service_name', o.names.get(service) ?? service],
    ];
    if (!o.aggregateOnly) base.push(['datacenter', String(row['datacenter'])]);
    if (o.key !== undefined && o.label !== undefined) base.push([o.label, String(row[o.key])]);
    for (const s of f.samples((field) => Number(row[field] ?? 0))) {
      const labels = [...base, ...Object.entries(s.labels ?? {})].map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${f.name}${s.suffix ?? ''}{${labels}} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
