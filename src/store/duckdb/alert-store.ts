/**
 * Alert rules in DuckDB (table `alert_rules`, one row per rule, the rule itself as JSON so a new
 * optional field needs no migration). Rules are few and read every second by the evaluator, so
 * they are all kept in memory too; create and delete write the table first, then the Map.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Clock } from '../../model/clock.ts';
import { newAlertId, type AlertRule, type AlertRuleInput, type AlertStore } from '../alert-store.ts';
import { queryRows, type DuckDb } from './database.ts';
import { createLock } from './sql.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_rules (
  id VARCHAR PRIMARY KEY,
  owner VARCHAR NOT NULL,         -- token id of the creator
  services VARCHAR NOT NULL,      -- 'all' or a JSON array: the creator's grant
  rule VARCHAR NOT NULL,          -- AlertRuleInput as JSON
  created_ms BIGINT NOT NULL
)`;

export async function createDuckDbAlertStore({ db, clock }: { db: DuckDb; clock: Clock }): Promise<AlertStore> {
  const conn: DuckDBConnection = await db.connect();
  await conn.run(SCHEMA);
  const rules = new Map<string, AlertRule>();
  for (const row of await queryRows(conn, 'SELECT * FROM alert_rules ORDER BY created_ms, id')) {
    const services = String(row['services']);
    rules.set(String(row['id']), {
      ...(JSON.parse(String(row['rule'])) as AlertRuleInput),
      id: String(row['id']),
      owner: String(row['owner']),
      services: services === 'all' ? 'all' : (JSON.parse(services) as string[]),
      created: new Date(Number(row['created_ms'])).toISOString(),
    });
  }
  const { run: serial } = createLock();
  let closed = false;

  return {
    create(input, owner) {
      return serial(async () => {
        let id = newAlertId();
        while (rules.has(id)) id = newAlertId();
        const createdMs = clock.now();
        const services = owner.services === 'all' ? 'all' : [...owner.services].sort();
        await conn.run('INSERT INTO alert_rules (id, owner, services, rule, created_ms) VALUES ($1, $2, $3, $4, $5)', [
          id,
          owner.tokenId,
          services === 'all' ? 'all' : JSON.stringify(services),
          JSON.stringify(input),
          BigInt(Math.floor(createdMs)),
        ]);
        const rule: AlertRule = { ...input, id, owner: owner.tokenId, services, created: new Date(createdMs).toISOString() };
        rules.set(id, rule);
        return rule;
      });
    },
    async list() {
      return [...rules.values()];
    },
    delete(id) {
      return serial(async () => {
        if (!rules.has(id)) return false;
        await conn.run('DELETE FROM alert_rules WHERE id = $1', [id]);
        rules.delete(id);
        return true;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await serial(async () => undefined);
      conn.closeSync();
    },
  };
}
