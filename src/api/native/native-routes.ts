/**
 * The native API (`/rtm/v1/...`): what the dashboard and scripts read, in rtmetrics' own shapes
 * (snake_case fields as in events.md, plain numbers, no dialect quirks).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RealtimeSource } from '../../aggregate/realtime-source.ts';
import { EDGE_FIELDS, edgeFieldIndex } from '../../model/fields.ts';
import { canRead, type TokenVerifier } from '../../http/auth.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { deriveSummary, SUMMARY_FIELDS } from './summary.ts';

export interface NativeRouteOptions {
  source: RealtimeSource;
  tokens: TokenVerifier;
  /** Every known service id (the catalog's); filtered by what the token may read. */
  listServices: () => Promise<readonly string[]>;
  /** Largest `seconds` a live query may ask for. Default 600. */
  maxLiveSeconds?: number;
}

const LiveQuery = Type.Object({
  seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, default: 120 })),
  fields: Type.Optional(Type.String({ maxLength: 4000 })),
});
type LiveQueryT = Static<typeof LiveQuery>;

export const nativeRoutes: FastifyPluginAsync<NativeRouteOptions> = async (app, opts) => {
  const maxLive = opts.maxLiveSeconds ?? 600;

  app.get('/rtm/v1/services', async (req) => {
    const principal = await authenticateRequest(req, opts.tokens);
    const all = await opts.listServices();
    return { services: all.filter((s) => canRead(principal, s)).sort() };
  });

  app.get<{ Params: { service: string }; Querystring: LiveQueryT }>(
    '/rtm/v1/services/:service/live',
    { schema: { querystring: LiveQuery } },
    async (req) => {
      const principal = await authenticateRequest(req, opts.tokens);
      const { service } = req.params;
      // Same answer for a forbidden and an unknown service: do not reveal that it exists.
      if (!canRead(principal, service)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `Unknown service ${service}`);
      const seconds = Math.min(req.query.seconds ?? 120, maxLive);
      const fields = parseFields(req.query.fields);
      const to = opts.source.latestPublished() + 1;
      const records = await opts.source.channel(service, to - seconds, to);
      return {
        service,
        from: to - seconds,
        to,
        fields,
        data: records.map((r) => ({
          recorded: r.second,
          aggregated: pickFields(r.aggregated, fields),
          datacenter: Object.fromEntries([...r.byDatacenter].map(([dc, v]) => [dc, pickFields(v, fields)])),
        })),
      };
    },
  );
};

/** `fields=a,b` -> checked names; default: the summary fields the dashboard charts. */
function parseFields(raw: string | undefined): readonly string[] {
  if (!raw) return SUMMARY_FIELDS;
  const names = raw.split(',').map((f) => f.trim()).filter(Boolean);
  for (const name of names) {
    if (!edgeFieldIndex.has(name) && !SUMMARY_FIELDS.includes(name)) {
      throw new RtmError(Errors.REQUEST_BAD_PARAM, `fields: unknown field "${name}" (see docs/api-native.md)`);
    }
  }
  return names;
}

function pickFields(values: Float64Array, fields: readonly string[]): Record<string, number> {
  const summary = deriveSummary(values);
  const out: Record<string, number> = {};
  for (const f of fields) {
    const i = edgeFieldIndex.get(f);
    out[f] = i !== undefined ? (values[i] ?? 0) : (summary[f] ?? 0);
  }
  return out;
}

export { EDGE_FIELDS };
