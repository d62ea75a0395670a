/**
 * The official Fastly JavaScript client (fastly-js, npm `fastly`) pointed at an rtmetrics base
 * URL, as a Fastly user points it: fastly-js pins the real-time APIs to https://rt.fastly.com per
 * operation (an apiBasePath that overrides ApiClient.basePath), so setting basePath alone is not
 * enough: buildUrl is made to ignore the per-operation override.
 */
import { ApiClient, DomainInspectorRealtimeApi, OriginInspectorRealtimeApi, RealtimeApi } from 'fastly';

export function fastlyClient(baseUrl: string, key: string): { channel: RealtimeApi; domains: DomainInspectorRealtimeApi; origins: OriginInspectorRealtimeApi } {
  const client = new ApiClient();
  client.basePath = baseUrl;
  const buildUrl = client.buildUrl.bind(client);
  client.buildUrl = (path, pathParams, allowReserved) => buildUrl(path, pathParams, allowReserved, null);
  const apis = {
    channel: new RealtimeApi(client),
    domains: new DomainInspectorRealtimeApi(client),
    origins: new OriginInspectorRealtimeApi(client),
  };
  // After the constructors: they authenticate with FASTLY_API_TOKEN when it is set.
  client.authenticate(key);
  return apis;
}
