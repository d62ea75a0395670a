/**
 * Sends alert notifications: a JSON POST to the rule's webhook, retried with exponential backoff
 * (a receiver that is briefly down still gets the message), each outcome counted. A 2xx is
 * delivered; anything else, a network error or a timeout is retried until the attempts run out.
 * Private and loopback targets are refused unless allowed (webhook-target.ts): node:http's
 * request takes the checking lookup, which fetch does not.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress, publicOnlyLookup, WebhookTargetRefused } from './webhook-target.ts';

export interface WebhookOptions {
  /** Attempts per notification. Default 5. */
  attempts?: number;
  /** Wait before the first retry, ms; doubled for each next one. Default 500. */
  baseDelayMs?: number;
  /** Per-attempt timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Deliver to loopback and private addresses too (a receiver on the same host or network). Default false. */
  allowPrivate?: boolean;
  onOutcome?: (outcome: 'delivered' | 'failed') => void;
  onRetry?: () => void;
  /** Told of a target refused as private (once per notification). */
  onRefused?: (url: string, reason: string) => void;
}

/** POSTs `payload` to `url`; resolves with the status code. */
function postJson(url: URL, payload: string, signal: AbortSignal, allowPrivate: boolean): Promise<number> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) return Promise.reject(new WebhookTargetRefused(`${host} is a private address`));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'rtmetrics-alerts' },
        signal,
        ...(allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface WebhookSender {
  /** Resolves when delivered or given up (never rejects). */
  send(url: string, body: unknown): Promise<boolean>;
  /** Stops pending retries. */
  close(): void;
}

export function createWebhookSender(opts: WebhookOptions = {}): WebhookSender {
  const attempts = opts.attempts ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const stop = new AbortController();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });

  return {
    async send(url, body) {
      const payload = JSON.stringify(body);
      for (let attempt = 0; attempt < attempts && !stop.signal.aborted; attempt++) {
        if (attempt > 0) {
          opts.onRetry?.();
          await sleep(baseDelayMs * 2 ** (attempt - 1));
          if (stop.signal.aborted) break;
        }
        try {
          const status = await postJson(new URL(url), payload, AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]), opts.allowPrivate === true);
          if (status >= 200 && status < 300) {
            opts.onOutcome?.('delivered');
            return true;
          }
        } catch (err) {
          // A refused target is not retried: it would be refused again.
          if (err instanceof WebhookTargetRefused || (err as { cause?: unknown }).cause instanceof WebhookTargetRefused) {
            opts.onRefused?.(url, (err as Error).message);
            break;
          }
          // Network error or timeout: retried below.
        }
      }
      opts.onOutcome?.('failed');
      return false;
    },
    close: () => stop.abort(),
  };
}
