/**
 * The few parts of the untyped `fastly` client (fastly-js v13) that test/fastly-client.test.ts
 * and test/fastly-client-store.test.ts use. Responses are the client's model objects; `response.body` is the raw JSON.
 */
declare module 'fastly' {
  export interface FastlyHttpInfo<T> {
    data: T;
    response: { status: number; body: unknown; headers: Record<string, string> };
  }

  export class ApiClient {
    basePath: string;
    authenticate(token: string): void;
    buildUrl(
      path: string,
      pathParams: Record<string, unknown>,
      pathParamsAllowReserved: Record<string, boolean>,
      apiBasePath?: string | null,
    ): string;
  }

  interface RealtimeResult {
    Timestamp?: number;
    AggregateDelay?: number;
    Data?: { recorded?: unknown; aggregated?: Record<string, unknown>; datacenter?: Record<string, Record<string, unknown>> }[];
  }

  export class RealtimeApi {
    constructor(client?: ApiClient);
    getStatsLast120Seconds(options: { service_id: string }): Promise<RealtimeResult>;
    getStatsLast120SecondsWithHttpInfo(options: { service_id: string }): Promise<FastlyHttpInfo<RealtimeResult>>;
    getStatsLast120SecondsLimitEntries(options: { service_id: string; max_entries: number }): Promise<RealtimeResult>;
    getStatsLastSecond(options: { service_id: string; timestamp_in_seconds: number }): Promise<RealtimeResult>;
    getStatsLastSecondWithHttpInfo(options: {
      service_id: string;
      timestamp_in_seconds: number;
    }): Promise<FastlyHttpInfo<RealtimeResult>>;
  }

  export class DomainInspectorRealtimeApi {
    constructor(client?: ApiClient);
    getDomainInspectorLast120Seconds(options: { service_id: string }): Promise<RealtimeResult>;
    getDomainInspectorLastMaxEntries(options: { service_id: string; max_entries: number }): Promise<RealtimeResult>;
    getDomainInspectorLastSecond(options: { service_id: string; start_timestamp: number }): Promise<RealtimeResult>;
  }

  export class OriginInspectorRealtimeApi {
    constructor(client?: ApiClient);
    getOriginInspectorLast120Seconds(options: { service_id: string }): Promise<RealtimeResult>;
    getOriginInspectorLastMaxEntries(options: { service_id: string; max_entries: number }): Promise<RealtimeResult>;
    getOriginInspectorLastSecond(options: { service_id: string; start_timestamp: number }): Promise<RealtimeResult>;
  }
}
