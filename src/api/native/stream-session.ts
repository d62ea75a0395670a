/**
 * One server-sent-events stream of published seconds (GET /rtm/v1/stream): an event per
 * published second in order (`id:` the second), read through the RealtimeSource (the window,
 * and the store's 1 s tier for seconds the window no longer holds, so a resume from
 * Last-Event-ID has neither gap nor duplicate), a heartbeat comment when idle, and a bounded
 * output buffer: a client that does not read is dropped, never buffered without end.
 */
import type { ChannelSecond, RealtimeSource } from '../../aggregate/realtime-source.ts';
import type { PublishedSeconds } from '../../query/published-seconds.ts';
import { renderError, type RtmError } from '../../http/errors.ts';
import { renderVector } from './stream-fields.ts';

/** Why a stream ended (the self-metrics label). */
export type CloseReason = 'client_closed' | 'slow_client' | 'resume_too_old' | 'server_closing' | 'read_failed';

/** What the session writes to: the raw response (tests pass a stuck Writable). */
export interface SseOutput {
  write(chunk: string): boolean;
  readonly writableLength: number;
  end(): void;
}

export interface StreamSessionOptions {
  out: SseOutput;
  source: RealtimeSource;
  published: PublishedSeconds;
  services: readonly string[];
  /** Fields of each vector; undefined = every non-zero field plus the derived ones. */
  fields: readonly string[] | undefined;
  /** The first second to send. */
  next: number;
  /** Heartbeat comment interval, ms. */
  heartbeatMs: number;
  /** Bytes the output may hold unsent before the client counts as too slow. */
  maxBufferedBytes: number;
  /** Most seconds read per catch-up step (bounds the memory of one step). */
  chunkSeconds?: number;
  /** An error to send as `event: error` before closing, instead of streaming (e.g. resume too old). */
  refuse?: { error: RtmError; reason: CloseReason };
  onEvent?: () => void;
  onClose: (reason: CloseReason) => void;
}

export interface StreamSession {
  close(reason: CloseReason): void;
}

export function startStreamSession(opts: StreamSessionOptions): StreamSession {
  const { out, source, published, services } = opts;
  const chunk = opts.chunkSeconds ?? 60;
  let next = opts.next;
  let closed = false;
  let pumping = false;
  let again = false;

  const close = (reason: CloseReason): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(timers.heartbeat);
    out.end();
    opts.onClose(reason);
  };
  const send = (text: string): void => {
    if (closed) return;
    out.write(text);
    if (out.writableLength > opts.maxBufferedBytes) close('slow_client');
  };

  /** Sends every published second from `next` on, a chunk at a time; one pump runs at a time. */
  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        const latest = source.latestPublished();
        while (!closed && next <= latest) {
          const to = Math.min(latest + 1, next + chunk);
          const bySecond = new Map<number, Map<string, ChannelSecond>>();
          for (const service of services) {
            for (const s of await source.channel(service, next, to)) {
              let m = bySecond.get(s.second);
              if (m === undefined) bySecond.set(s.second, (m = new Map()));
              m.set(service, s);
            }
          }
          for (let second = next; second < to && !closed; second++) {
            const entries = [...(bySecond.get(second) ?? new Map<string, ChannelSecond>())].map(([service, s]) => [
              service,
              {
                aggregated: renderVector(s.aggregated, opts.fields, s.percentiles?.aggregated),
                datacenter: Object.fromEntries([...s.byDatacenter].map(([dc, v]) => [dc, renderVector(v, opts.fields, s.percentiles?.byDatacenter.get(dc))])),
              },
            ]);
            send(`id: ${second}\ndata: ${JSON.stringify({ recorded: second, services: Object.fromEntries(entries) })}\n\n`);
            opts.onEvent?.();
          }
          next = to;
        }
      } while (again && !closed);
    } catch {
      close('read_failed');
    } finally {
      pumping = false;
    }
  };

  let unsubscribe = (): void => {};
  const timers: { heartbeat?: NodeJS.Timeout } = {};
  if (opts.refuse !== undefined) {
    const { error, reason } = opts.refuse;
    out.write(`event: error\ndata: ${JSON.stringify(renderError.native(error))}\n\n`);
    closed = true;
    out.end();
    opts.onClose(reason);
    return { close: () => undefined };
  }
  // Tells the browser how long to wait before reconnecting, and flushes the headers.
  send('retry: 2000\n\n');
  unsubscribe = published.subscribe((latest) => {
    if (!Number.isFinite(latest)) close('server_closing');
    else void pump();
  });
  timers.heartbeat = setInterval(() => send(': heartbeat\n\n'), opts.heartbeatMs);
  timers.heartbeat.unref();
  void pump();
  return { close };
}
