/**
 * Self-metering: every API request rtmetrics serves becomes usage entities of provider
 * RTMRequest (the seed's ODSLRequest metrics). Hot path: the onResponse hook only builds a few
 * small objects and pushes them on an array; a timer inserts the batch (one appender call) about
 * once a second, off the request path.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Clock } from '../../model/clock.ts';
import type { NewUsageEntity, UsageStore } from '../../store/usage-store.ts';

export const SELF_PROVIDER = 'RTMRequest';

/** The seed's request metrics, in its order. */
export const SELF_METRICS = Object.freeze([
  'ReadRequests', 'ReadRequestDuration', 'ReadRequestResponseSize', 'WriteRequests', 'DeleteRequests',
] as const);

export interface UsageRecorderOptions {
  store: UsageStore;
  clock: Clock;
  /** `environment` of the entities (Config.environment). */
  environment: string;
  /** Milliseconds between batch inserts. Default 1000. */
  flushMs?: number;
  /** Entities held at most while the store is slow; more are dropped (and counted). Default 100,000. */
  maxBuffer?: number;
  /** Called when a batch insert fails (the batch is dropped). Default: ignore. */
  onError?: (err: unknown) => void;
}

export interface UsageRecorder {
  readonly clock: Clock;
  readonly environment: string;
  /** Buffers one entity; synchronous and cheap. */
  record(e: NewUsageEntity): void;
  /** Inserts what is buffered; resolves when it is stored. */
  flush(): Promise<void>;
  /** Entities dropped because the buffer was full. */
  dropped(): number;
  /** Stops the timer and flushes; idempotent. */
  close(): Promise<void>;
}

export function createUsageRecorder(opts: UsageRecorderOptions): UsageRecorder {
  const maxBuffer = opts.maxBuffer ?? 100_000;
  let buffer: NewUsageEntity[] = [];
  let dropped = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let closed = false;

  const flush = (): Promise<void> => {
    // Chained so batches reach the store in order and flush() waits for earlier ones.
    inFlight = inFlight.then(async () => {
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      try {
        await opts.store.insert(batch);
      } catch (err) {
        opts.onError?.(err);
      }
    });
    return inFlight;
  };

  const timer = setInterval(() => void flush(), opts.flushMs ?? 1000);
  timer.unref();

  return {
    clock: opts.clock,
    environment: opts.environment,
    record(e) {
      if (closed || buffer.length >= maxBuffer) {
        dropped++;
        return;
      }
      buffer.push(e);
    },
    flush,
    dropped: () => dropped,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}

/** Which API a path belongs to (the `service` of RTMRequest entities). */
export function serviceOfPath(path: string): string {
  const under = (prefix: string): boolean =>
    path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
  if (under('/ingest')) return 'ingest';
  if (path.startsWith('/v1/')) return 'fastly';
  if (under('/metrics')) return 'azion';
  if (under('/api/metric')) return 'metric';
  if (under('/api/object')) return 'object';
  return 'native';
}

export function actionOfMethod(method: string): 'read' | 'write' | 'delete' {
  if (method === 'DELETE') return 'delete';
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') return 'write';
  return 'read';
}

export interface SelfMeteringOptions {
  /** Requests not to meter (e.g. health checks). Default: meter every request. */
  skip?: (req: FastifyRequest) => boolean;
}

/**
 * An onResponse hook; add it on the root app (`app.addHook('onResponse', hook)`) so it sees
 * every route. Owner and user are the token that made the request, or `anonymous`.
 */
export function selfMeteringHook(recorder: UsageRecorder, opts: SelfMeteringOptions = {}) {
  return function meterRequest(req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (!opts.skip?.(req)) recordRequest(recorder, req, reply);
    done();
  };
}

function recordRequest(recorder: UsageRecorder, req: FastifyRequest, reply: FastifyReply): void {
  const action = actionOfMethod(req.method);
  const duration = reply.elapsedTime;
  const length = Number(reply.getHeader('content-length'));
  const responseSize = Number.isFinite(length) && length >= 0 ? length : undefined;
  const principal = req.principal;
  const user = principal?.tokenId ?? 'anonymous';
  const application = principal?.name ?? 'anonymous';
  const timestamp = recorder.clock.now();
  const service = serviceOfPath(req.url);
  // The seed's methods are lower case ("usually 'get'").
  const method = req.method.toLowerCase();
  const httpstatus = reply.statusCode;
  const detail = req.routeOptions.url;
  const { environment } = recorder;
  const invocationId = req.id;
  // One literal of fixed shape per entity: ~10x cheaper than spreading a shared base object.
  // Absent detail/responseSize stay as undefined properties, which the store treats as absent.
  const entity = (metric: string, value: number): NewUsageEntity =>
    ({
      provider: SELF_PROVIDER, metric, timestamp, value, type: 'api', action, service, method, httpstatus, duration,
      user, application, environment, invocationId, owner: user, detail, responseSize,
    }) as NewUsageEntity;
  if (action === 'read') {
    recorder.record(entity('ReadRequests', 1));
    recorder.record(entity('ReadRequestDuration', duration));
    // Streamed replies have no content-length: no size entity rather than a false 0.
    if (responseSize !== undefined) recorder.record(entity('ReadRequestResponseSize', responseSize));
  } else {
    recorder.record(entity(action === 'write' ? 'WriteRequests' : 'DeleteRequests', 1));
  }
}
