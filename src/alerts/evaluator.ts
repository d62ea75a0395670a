/**
 * Evaluates every alert rule once per published second: the rule's metric over its window
 * (granularity `all`, the rule's filters, the creator's grant) through the query model, compared
 * with its threshold. A change of state (ok -> firing, firing -> resolved) sends one webhook
 * notification. Evaluations never pile up: a second published while one runs is folded into the
 * next run, which evaluates the newest second.
 */
import type { Logger } from 'pino';
import type { PublishedSeconds } from '../query/published-seconds.ts';
import { resolveQuery } from '../query/resolve.ts';
import type { QueryBody } from '../query/query-schema.ts';
import { runQuery, type QuerySources } from '../query/run-query.ts';
import type { AlertRule, AlertStore, Comparison } from '../store/alert-store.ts';
import type { WebhookSender } from './webhook.ts';

export interface AlertState {
  state: 'ok' | 'firing';
  /** The metric's value at the last evaluation (null: no value, e.g. a ratio over nothing). */
  value: number | null;
  /** The last second evaluated. */
  evaluated: number | undefined;
  /** The second the rule started firing. */
  since: number | undefined;
}

export interface AlertEvaluatorOptions {
  store: AlertStore;
  sources: QuerySources;
  published: PublishedSeconds;
  webhook: WebhookSender;
  logger: Logger;
  onEvaluated?: () => void;
  onFiringChanged?: (firing: number) => void;
}

export interface AlertEvaluator {
  state(id: string): AlertState;
  /** Evaluates every rule for second `latest` (the timer calls this; tests may too). */
  evaluate(latest: number): Promise<void>;
  close(): Promise<void>;
}

const compare = (c: Comparison, value: number, threshold: number): boolean =>
  c === '>' ? value > threshold : c === '>=' ? value >= threshold : c === '<' ? value < threshold : value <= threshold;

export function createAlertEvaluator(opts: AlertEvaluatorOptions): AlertEvaluator {
  const states = new Map<string, AlertState>();
  const deliveries = new Set<Promise<unknown>>();
  let running: Promise<void> | undefined;
  let pending: number | undefined;

  async function valueOf(rule: AlertRule, latest: number): Promise<number | null> {
    const body = { from: latest - rule.windowSeconds + 1, to: latest + 1, granularity: 'all', metrics: [rule.metric], filters: rule.filters } as QueryBody;
    const query = resolveQuery(body, latest + 1);
    const answer = await runQuery(opts.sources, query, rule.services === 'all' ? 'all' : new Set(rule.services));
    // No row: every sum was 0. A counter is then 0; a ratio has no value.
    const row = answer.rows[0];
    if (row === undefined) return query.metrics[0]?.compute([0, 0, 0, 0]) ?? null;
    const v = row[rule.metric];
    return typeof v === 'number' ? v : null;
  }

  function notify(rule: AlertRule, status: 'firing' | 'resolved', s: AlertState, latest: number): void {
    const { id, name, metric, filters, windowSeconds, comparison, threshold } = rule;
    const body = { status, alert: { id, name, metric, filters, windowSeconds, comparison, threshold }, value: s.value, second: latest, since: s.since ?? null };
    const p = opts.webhook.send(rule.webhook, body).finally(() => deliveries.delete(p));
    deliveries.add(p);
  }

  async function evaluateAll(latest: number): Promise<void> {
    const rules = await opts.store.list();
    const live = new Set(rules.map((r) => r.id));
    for (const id of states.keys()) if (!live.has(id)) states.delete(id);
    for (const rule of rules) {
      let value: number | null;
      try {
        value = await valueOf(rule, latest);
      } catch (err) {
        opts.logger.warn({ err, alert: rule.id }, 'alert evaluation failed');
        continue;
      }
      const prev = states.get(rule.id) ?? { state: 'ok', value: null, evaluated: undefined, since: undefined };
      const firing = value !== null && compare(rule.comparison, value, rule.threshold);
      const next: AlertState = { state: firing ? 'firing' : 'ok', value, evaluated: latest, since: firing ? (prev.state === 'firing' ? prev.since : latest) : undefined };
      states.set(rule.id, next);
      if (firing && prev.state !== 'firing') notify(rule, 'firing', next, latest);
      if (!firing && prev.state === 'firing') notify(rule, 'resolved', { ...next, since: prev.since }, latest);
      opts.onEvaluated?.();
    }
    opts.onFiringChanged?.([...states.values()].filter((s) => s.state === 'firing').length);
  }

  const evaluate = (latest: number): Promise<void> => {
    if (running !== undefined) {
      pending = Math.max(pending ?? latest, latest);
      return running;
    }
    running = (async () => {
      let next: number | undefined = latest;
      while (next !== undefined) {
        pending = undefined;
        await evaluateAll(next);
        next = pending;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unsubscribe = opts.published.subscribe((latest) => {
    if (Number.isFinite(latest)) void evaluate(latest);
  });

  return {
    state: (id) => states.get(id) ?? { state: 'ok', value: null, evaluated: undefined, since: undefined },
    evaluate,
    async close() {
      unsubscribe();
      await running;
      opts.webhook.close();
      await Promise.allSettled([...deliveries]);
    },
  };
}
