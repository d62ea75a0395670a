/**
 * Stalled and slow uploads. A request body must arrive within `requestTimeoutSeconds` and, once
 * `bodyRateGraceSeconds` have passed, at an average of at least `minBodyBytesPerSecond` (as
 * Kestrel's MinRequestBodyDataRate); otherwise the client gets 408 RTM_ERR_REQUEST_TIMEOUT and
 * its connection is closed, which frees the descriptor and the token's concurrency slot. And an
 * error answered before the body was read (401, 403, 415, 429...) closes the connection rather
 * than reading a body nobody will use (RFC 9112 section 9.6: the server may close after the
 * response instead of reading the rest).
 *
 * One timer checks every body in flight once a second; the hot path only adds and removes a
 * set entry per request with a body. fastify-plugin semantics: register it on the root app.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Limits } from '../../config/config.ts';
import { Errors, RtmError } from '../errors.ts';

export type SlowRequestLimits = Pick<Limits, 'requestTimeoutSeconds' | 'minBodyBytesPerSecond' | 'bodyRateGraceSeconds'>;

export interface SlowRequestOptions {
  limits: SlowRequestLimits;
  /** The error's body in the envelope of the URL's dialect. */
  render: (e: RtmError, url: string) => unknown;
  /** Told each upload that was cut off, with why. Default: nothing. */
  onAbort?: (reason: 'timeout' | 'rate') => void;
  /** Milliseconds between checks. Default 1000. */
  checkIntervalMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
}

interface Upload {
  req: FastifyRequest;
  reply: FastifyReply;
  socket: Socket;
  /** socket.bytesRead when the request started (a kept-alive socket has read earlier requests). */
  startBytes: number;
  startMs: number;
}

/** Whether a request carries a body (RFC 9112 section 6.3). */
export function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Answers straight on the socket (Fastify is still waiting for the body) and closes it. */
function abort(upload: Upload, e: RtmError, render: SlowRequestOptions['render']): void {
  const { socket, req, reply } = upload;
  if (socket.destroyed) return;
  if (socket.writable && !reply.raw.headersSent) {
    const body = JSON.stringify(render(e, req.url));
    const head = [
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
      '',
      '',
    ].join('\r\n');
    socket.end(head + body, () => socket.destroy());
    // A client that never reads its answer must not keep the socket either.
    setTimeout(() => socket.destroy(), 1000).unref();
  } else {
    socket.destroy();
  }
}

const plugin: FastifyPluginAsync<SlowRequestOptions> = async (app, opts) => {
  const { requestTimeoutSeconds, minBodyBytesPerSecond, bodyRateGraceSeconds } = opts.limits;
  const timeoutMs = requestTimeoutSeconds > 0 && Number.isFinite(requestTimeoutSeconds) ? requestTimeoutSeconds * 1000 : Infinity;
  const minRate = Number.isFinite(minBodyBytesPerSecond) ? minBodyBytesPerSecond : 0;
  const graceMs = bodyRateGraceSeconds * 1000;
  const now = opts.now ?? (() => performance.now());
  const uploads = new Set<Upload>();

  if (timeoutMs !== Infinity || minRate > 0) {
    app.addHook('onRequest', async (req, reply) => {
      const socket = req.raw.socket as Socket | undefined;
      // app.inject() has no real socket: nothing can stall there.
      if (!hasBody(req) || typeof socket?.bytesRead !== 'number') return;
      const upload: Upload = { req, reply, socket, startBytes: socket.bytesRead, startMs: now() };
      uploads.add(upload);
      reply.raw.once('close', () => uploads.delete(upload));
    });

    const interval = opts.checkIntervalMs ?? 1000;
    let lastCheck = now();
    const check = (): void => {
      const t = now();
      // A late timer means the event loop was blocked: the bytes may be waiting in the kernel,
      // unread through no fault of the client, so that time is not charged to any upload.
      const stall = t - lastCheck - interval;
      lastCheck = t;
      for (const upload of uploads) {
        if (stall > interval / 2) upload.startMs += stall;
        const { req, socket } = upload;
        if (req.raw.complete || socket.destroyed) {
          uploads.delete(upload);
          continue;
        }
        const elapsed = t - upload.startMs;
        if (elapsed > timeoutMs) {
          uploads.delete(upload);
          opts.onAbort?.('timeout');
          abort(upload, new RtmError(Errors.REQUEST_TIMEOUT, `the request was not received within ${requestTimeoutSeconds} s (RTM_REQUEST_TIMEOUT)`), opts.render);
          continue;
        }
        // A full buffer means the server is not reading (its own backpressure): not the client's fault.
        const backpressure = req.raw.readableLength >= req.raw.readableHighWaterMark;
        if (minRate > 0 && elapsed > graceMs && !backpressure && ((socket.bytesRead - upload.startBytes) * 1000) / elapsed < minRate) {
          uploads.delete(upload);
          opts.onAbort?.('rate');
          abort(upload, new RtmError(Errors.REQUEST_TIMEOUT, `the request body arrived slower than ${minRate} bytes per second (RTM_MIN_BODY_RATE)`), opts.render);
        }
      }
    };
    const timer = setInterval(check, interval);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  // An answer sent before the body was read (refused token, wrong type, limit): close instead
  // of reading, possibly slowly, a body that will be thrown away.
  app.addHook('onSend', async (req, reply) => {
    if (reply.statusCode >= 400 && !req.raw.complete && hasBody(req)) void reply.header('connection', 'close');
  });
};

export const slowRequestPlugin = fp(plugin, { name: 'rtm-slow-requests', fastify: '5.x' });
