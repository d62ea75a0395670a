/**
 * Sends alert notifications: a JSON POST to the rule's webhook, retried with exponential backoff
 * (a receiver that is briefly down still gets the message), each outcome counted. A 2xx is
 * delivered; anything else, a network error or a timeout is retried until the attempts run out.
 */

export interface WebhookOptions {
  /** Attempts per notification. Default 5. */
  attempts?: number;
  /** Wait before the first retry, ms; doubled for each next one. Default 500. */
  baseDelayMs?: number;
  /** Per-attempt timeout, ms. Default 5000. */
  timeoutMs?: number;
  onOutcome?: (outcome: 'delivered' | 'failed') => void;
  onRetry?: () => void;
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
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'rtmetrics-alerts' },
            body: payload,
            signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) {
            opts.onOutcome?.('delivered');
            return true;
          }
        } catch {
          // Network error or timeout: retried below.
        }
      }
      opts.onOutcome?.('failed');
      return false;
    },
    close: () => stop.abort(),
  };
}
