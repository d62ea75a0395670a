/**
 * The expression form of `_filter`: `(service=object or service=data) and httpstatus>=200`.
 * Grammar (and binds tighter than or; keywords are case-insensitive):
 *   expr := and ('or' and)* ;  and := term ('and' term)* ;  term := '(' expr ')' | field op value
 *   op := = == != <> > >= < <= ;  value := bare word | 'quoted' | "quoted"
 * Errors name the column so a user can find the mistake in a long filter.
 */
import type { FilterNode } from '../../model/usage.ts';
import { FilterError, type LeafBuilder } from './filter-leaf.ts';

type Token =
  | { kind: 'lparen'; pos: number }
  | { kind: 'rparen'; pos: number }
  | { kind: 'op'; op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; text: string; pos: number }
  | { kind: 'word'; text: string; quoted: boolean; pos: number };

const OPS: readonly [string, 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'][] = [
  ['==', 'eq'], ['!=', 'ne'], ['<>', 'ne'], ['>=', 'gte'], ['<=', 'lte'], ['=', 'eq'], ['>', 'gt'], ['<', 'lt'],
];
const BARE = /[^\s()=!<>'"]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push(ch === '(' ? { kind: 'lparen', pos: i + 1 } : { kind: 'rparen', pos: i + 1 });
      i++;
    } else if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new FilterError(`unterminated quote at column ${i + 1}`);
      tokens.push({ kind: 'word', text: text.slice(i + 1, end), quoted: true, pos: i + 1 });
      i = end + 1;
    } else {
      const op = OPS.find(([sym]) => text.startsWith(sym, i));
      if (op) {
        tokens.push({ kind: 'op', op: op[1], text: op[0], pos: i + 1 });
        i += op[0].length;
      } else if (BARE.test(ch)) {
        const start = i;
        while (i < text.length && BARE.test(text[i] ?? '')) i++;
        tokens.push({ kind: 'word', text: text.slice(start, i), quoted: false, pos: start + 1 });
      } else {
        throw new FilterError(`unexpected "${ch}" at column ${i + 1}`);
      }
    }
  }
  return tokens;
}

const isKeyword = (t: Token | undefined, kw: 'and' | 'or'): boolean =>
  t?.kind === 'word' && !t.quoted && t.text.toLowerCase() === kw;

function show(t: Token | undefined): string {
  if (!t) return 'end of filter';
  if (t.kind === 'lparen' || t.kind === 'rparen') return `"${t.kind === 'lparen' ? '(' : ')'}" at column ${t.pos}`;
  return `"${t.text}" at column ${t.pos}`;
}

/** Parses an expression-form filter; throws FilterError with a column on bad input. */
export function parseExpression(text: string, leaves: LeafBuilder, maxDepth: number): FilterNode {
  const tokens = tokenize(text);
  let at = 0;

  const group = (op: 'and' | 'or', args: FilterNode[]): FilterNode =>
    args.length === 1 && args[0] ? args[0] : { op, args };

  const parseOr = (depth: number): FilterNode => {
    const args = [parseAnd(depth)];
    while (isKeyword(tokens[at], 'or')) {
      at++;
      args.push(parseAnd(depth));
    }
    return group('or', args);
  };

  const parseAnd = (depth: number): FilterNode => {
    const args = [parseTerm(depth)];
    while (isKeyword(tokens[at], 'and')) {
      at++;
      args.push(parseTerm(depth));
    }
    return group('and', args);
  };

  const parseTerm = (depth: number): FilterNode => {
    const t = tokens[at];
    if (t?.kind === 'lparen') {
      if (depth >= maxDepth) throw new FilterError(`filter nested deeper than ${maxDepth} at column ${t.pos}`);
      at++;
      const inner = parseOr(depth + 1);
      const close = tokens[at];
      if (close?.kind !== 'rparen') throw new FilterError(`expected ")" to close column ${t.pos}, got ${show(close)}`);
      at++;
      return inner;
    }
    if (t?.kind !== 'word' || t.quoted) throw new FilterError(`expected a field name, got ${show(t)}`);
    const op = tokens[at + 1];
    if (op?.kind !== 'op') throw new FilterError(`expected an operator (= != > >= < <=) after ${show(t)}, got ${show(op)}`);
    const value = tokens[at + 2];
    if (value?.kind !== 'word') throw new FilterError(`expected a value after ${show(op)}, got ${show(value)}`);
    at += 3;
    // The text is coerced to the field's type: numbers for numeric fields, `007` kept for strings.
    try {
      return leaves.leaf(op.op, t.text, value.text);
    } catch (err) {
      if (err instanceof FilterError) throw new FilterError(`${err.message} (column ${t.pos})`);
      throw err;
    }
  };

  const node = parseOr(0);
  if (at < tokens.length) throw new FilterError(`unexpected ${show(tokens[at])} (missing "and"/"or"?)`);
  return node;
}
