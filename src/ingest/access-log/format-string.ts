/**
 * nginx `log_format` strings compiled into a line splitter. The format is written exactly as in
 * nginx.conf: one or more quoted parts (`'$remote_addr - ... ' '"$http_user_agent"'`), or the bare
 * text, optionally preceded by `log_format NAME` and `escape=default|json|none`. The splitter
 * walks a line once: each literal must be at its place, each variable runs up to the next
 * literal (the last one to the end of the line).
 */

/** `escape=` of the format: how nginx wrote characters inside values. */
export type EscapeMode = 'default' | 'json' | 'none';

export interface CompiledFormat {
  /** The format's text after unquoting (for messages). */
  readonly text: string;
  readonly escape: EscapeMode;
  /** The variable names in order, without `$`. */
  readonly variables: readonly string[];
  /**
   * Splits `line` into the raw (still escaped) value of each variable, in `variables` order.
   * Returns undefined on success, else why the line does not match the format.
   */
  split(line: string, out: string[]): string | undefined;
}

/** nginx's predefined format and the one docs/import.md recommends. */
export const PRESET_FORMATS: Readonly<Record<string, string>> = {
  combined: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  // Carries every field rtmetrics reads (docs/import.md).
  rtmetrics:
    '$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
    '$host $request_time $upstream_cache_status $bytes_sent $request_length "$upstream_status" "$upstream_response_time" ' +
    '"$upstream_addr" $ssl_protocol $pop',
};

/**
 * Variables whose value nginx writes as a list when several upstreams were tried
 * (`a, b : c`): their value may contain `, ` and ` : `, so a following space is not their end.
 */
const LIST_VARIABLES = new Set(['upstream_addr', 'upstream_status', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time', 'upstream_bytes_received', 'upstream_bytes_sent', 'upstream_response_length', 'upstream_cache_status']);

type Token = { literal: string } | { variable: string };

/** Joins nginx.conf quoted parts; text that does not start with a quote is taken as is. */
function unquote(text: string): string {
  const s = text.trim().replace(/;$/, '').trim();
  if (!s.startsWith("'") && !s.startsWith('"')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    const quote = s[i];
    if (quote !== "'" && quote !== '"') throw new Error(`log format: expected a quoted part at character ${i + 1}: ${s.slice(i, i + 20)}`);
    i++;
    let closed = false;
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '\\' && i + 1 < s.length) {
        // nginx.conf keeps other escapes as written; only the quote and backslash are special.
        const next = s[i + 1] as string;
        out += next === quote || next === '\\' ? next : `\\${next}`;
        i += 2;
        continue;
      }
      if (c === quote) {
        closed = true;
        i++;
        break;
      }
      out += c;
      i++;
    }
    if (!closed) throw new Error('log format: a quoted part is not closed');
  }
  return out;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '$') {
      literal += c;
      i++;
      continue;
    }
    let name: string;
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw new Error(`log format: "\${" at character ${i + 1} is not closed`);
      name = text.slice(i + 2, close);
      i = close + 1;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1));
      if (!m) {
        literal += c;
        i++;
        continue;
      }
      name = m[0];
      i += 1 + name.length;
    }
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`log format: bad variable name "${name}"`);
    if (literal !== '') tokens.push({ literal });
    literal = '';
    const previous = tokens.at(-1);
    if (previous !== undefined && 'variable' in previous) {
      throw new Error(`log format: $${previous.variable} and $${name} have nothing between them, so a line cannot be split`);
    }
    tokens.push({ variable: name.toLowerCase() });
  }
  if (literal !== '') tokens.push({ literal });
  return tokens;
}

/** Parses `[log_format NAME] [escape=MODE] 'format' ...`, or a preset name. */
export function compileLogFormat(source: string): CompiledFormat {
  let rest = source.trim();
  const preset = PRESET_FORMATS[rest];
  if (preset !== undefined) rest = preset;
  const directive = /^log_format\s+[A-Za-z0-9_-]+\s*/.exec(rest);
  if (directive) rest = rest.slice(directive[0].length);
  let escape: EscapeMode = 'default';
  const esc = /^escape=(default|json|none)\s*/.exec(rest);
  if (esc) {
    escape = esc[1] as EscapeMode;
    rest = rest.slice(esc[0].length);
  }
  // `"$request" $status` is a bare format that starts with a quote: only text made entirely of
  // quoted parts is read as nginx.conf quoting.
  let text: string;
  try {
    text = unquote(rest);
  } catch {
    text = rest;
  }
  const tokens = tokenize(text);
  const variables = tokens.flatMap((t) => ('variable' in t ? [t.variable] : []));
  if (variables.length === 0) throw new Error('log format: no $variable in it');
  return createSplitter(text, escape, tokens, variables);
}

/** Where literal `lit` next occurs at or after `from` outside an escape (escape=json writes `\"`). */
function findLiteral(line: string, lit: string, from: number, json: boolean): number {
  let at = line.indexOf(lit, from);
  if (!json) return at;
  while (at > 0) {
    let backslashes = 0;
    for (let j = at - 1; j >= from && line.charCodeAt(j) === 92; j--) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = line.indexOf(lit, at + 1);
  }
  return at;
}

const LIST_SEPARATORS = [', ', ' : '];

/**
 * `a, b : c`: when the literal found at `end` is part of a list separator, the list goes on to
 * the next occurrence of the literal.
 */
function extendList(line: string, next: string, pos: number, end: number, json: boolean): number {
  extend: for (;;) {
    for (const sep of LIST_SEPARATORS) {
      for (let k = 0; k < sep.length; k++) {
        const at = end - k;
        if (at > pos && line.startsWith(sep, at)) {
          const more = findLiteral(line, next, at + sep.length, json);
          if (more >= 0) {
            end = more;
            continue extend;
          }
        }
      }
    }
    return end;
  }
}

function createSplitter(text: string, escape: EscapeMode, tokens: readonly Token[], variables: readonly string[]): CompiledFormat {
  // Flattened for the hot loop: per token, its literal (or '') and its variable slot (or -1).
  const literals = tokens.map((t) => ('literal' in t ? t.literal : ''));
  const slots: number[] = [];
  let slot = 0;
  for (const t of tokens) slots.push('variable' in t ? slot++ : -1);
  const isList = tokens.map((t) => 'variable' in t && LIST_VARIABLES.has(t.variable));
  const json = escape === 'json';
  const count = tokens.length;
  const describe = (i: number): string => {
    const t = tokens[i] as Token;
    return 'literal' in t ? JSON.stringify(t.literal) : `$${t.variable}`;
  };

  return {
    text,
    escape,
    variables,
    // Hot path: one pass over the line, indexOf per literal, one substring per variable.
    split(line, out) {
      let pos = 0;
      for (let i = 0; i < count; i++) {
        const s = slots[i] as number;
        if (s < 0) {
          const lit = literals[i] as string;
          if (!line.startsWith(lit, pos)) {
            return `does not match the log format: expected ${JSON.stringify(lit)} at column ${pos + 1} (after ${i > 0 ? describe(i - 1) : 'the start of the line'})`;
          }
          pos += lit.length;
          continue;
        }
        const next = literals[i + 1];
        let end: number;
        if (next === undefined) end = line.length;
        else {
          end = findLiteral(line, next, pos, json);
          if (isList[i] && end >= 0) end = extendList(line, next, pos, end, json);
          if (end < 0) return `does not match the log format: ${describe(i + 1)} after $${variables[s] as string} not found (truncated or wrong quoting?)`;
        }
        out[s] = line.slice(pos, end);
        pos = end;
      }
      if (pos !== line.length) return `does not match the log format: ${line.length - pos} unexpected characters at column ${pos + 1}`;
      return undefined;
    },
  };
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * A value as nginx wrote it, unescaped: `\xHH` (escape=default, every byte outside printable
 * ASCII plus `"` and `\`) or JSON escapes (escape=json). Values without a backslash come back as is.
 */
export function unescapeValue(value: string, escape: EscapeMode): string {
  if (escape === 'none' || !value.includes('\\')) return value;
  if (escape === 'json') {
    try {
      return JSON.parse(`"${value}"`) as string;
    } catch {
      return value;
    }
  }
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 92 && value[i + 1] === 'x' && HEX.test(value.slice(i + 2, i + 4))) {
      bytes.push(parseInt(value.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (c < 0x80) bytes.push(c);
    else bytes.push(...Buffer.from(value[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
