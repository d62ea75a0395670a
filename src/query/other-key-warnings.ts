/**
 * What a query answer says of its rows on OTHER_KEY (`__other__`): such a row holds the traffic of
 * the values past a per-service cap (domains, datacenters or backends; src/ingest/key-cap.ts), or,
 * for domains, past the bound on all services' domains (RTM_MAX_DOMAINS, the catalog's share of the
 * memory budget), not one domain, POP or origin, and a reader of the rows alone could not tell.
 */
import { CAP_VARIABLES, CAPPED_KEYS, OTHER_KEY } from '../model/other-key.ts';
import type { Row } from './rows.ts';

/** What else folds a key into OTHER_KEY besides its per-service cap. */
const ALSO_PAST: Readonly<Partial<Record<(typeof CAPPED_KEYS)[number], string>>> = { domain: ' or past RTM_MAX_DOMAINS of all services' };

/** Services named in one warning at most (then "..."). */
const MAX_NAMED_SERVICES = 10;

/** One warning per capped key some row has as OTHER_KEY (in CAPPED_KEYS order), naming the rows' services; none when no row does. */
export function otherKeyWarnings(rows: readonly Row[]): string[] {
  const warnings: string[] = [];
  for (const key of CAPPED_KEYS) {
    const other = rows.filter((r) => r[key] === OTHER_KEY);
    if (other.length === 0) continue;
    const services = [...new Set(other.flatMap((r) => (typeof r['service'] === 'string' ? [`"${r['service']}"`] : [])))];
    const named = services.slice(0, MAX_NAMED_SERVICES).join(', ') + (services.length > MAX_NAMED_SERVICES ? ', ...' : '');
    const whose = services.length === 0 ? '' : ` (services ${named})`;
    warnings.push(`${key} "${OTHER_KEY}" holds the traffic of the ${key}s past ${CAP_VARIABLES[key]} of their service${ALSO_PAST[key] ?? ''}${whose}`);
  }
  return warnings;
}
