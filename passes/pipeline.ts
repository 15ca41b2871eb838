// Pipeline text: which passes run, in order, with which options.
//
//   pipeline := (entry (',' entry)*)?
//   entry    := PASS ('{' (option (','? option)*)? '}')?
//   option   := KEY '=' value
//   value    := NUMBER | 'true' | 'false' | WORD | STRING
//
// PASS and KEY are kebab-case words (a camelCase KEY works too: `max-iterations` and
// `maxIterations` name the same option); WORD is a bare word ([A-Za-z0-9_.:/+-], not starting with
// a digit or '-'); STRING is a JSON string ("…"); spaces may go between any two tokens. The entry
// `default` stands for DEFAULT_PIPELINE. Example:
//
//   canonicalize, fuse-attention, svdquant{rank=32 format=int4}
//
// Options are checked against the pass's declared specs (name, type, choices) and defaults are
// filled in; printPipeline gives the canonical text back (explicit options only, spec order).
import { LatheError } from '../ir/errors.ts';
import { DEFAULT_PIPELINE } from './index.ts';
import type { OptionSpec, OptionValue, Pass } from './pass.ts';
import { passRegistry, type PassRegistry } from './registry.ts';

export interface PipelineEntry {
  readonly pass: Pass;
  /** Every option of the pass: given values, defaults for the rest. */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Option keys (as the spec spells them) the text set explicitly, for printing. */
  readonly given: readonly string[];
}

export type Pipeline = readonly PipelineEntry[];

type Tok =
  | { kind: 'word' | 'string' | 'number'; text: string; value: string; col: number }
  | { kind: ',' | '{' | '}' | '=' | 'end'; text: string; col: number };

export function parsePipeline(text: string, registry: PassRegistry = passRegistry()): Pipeline {
  return new Parser(text, registry).pipeline();
}

/** The canonical text of a pipeline: parsePipeline(printPipeline(p)) gives p back. */
export function printPipeline(p: Pipeline): string {
  return p
    .map((e) => {
      const specs = e.pass.options as Record<string, OptionSpec>;
      const opts = Object.keys(specs)
        .filter((k) => e.given.includes(k))
        .map((k) => `${k}=${valueText(e.options[k]!)}`);
      return opts.length ? `${e.pass.name}{${opts.join(' ')}}` : e.pass.name;
    })
    .join(',');
}

function valueText(v: OptionValue): string {
  if (typeof v !== 'string') return String(v);
  return WORD_RE.test(v) && v !== 'true' && v !== 'false' ? v : JSON.stringify(v);
}

const WORD_RE = /^[A-Za-z_][A-Za-z0-9_.:/+-]*$/;
const NUMBER_RE = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

class Parser {
  private readonly toks: Tok[];
  private i = 0;
  constructor(private readonly text: string, private readonly registry: PassRegistry) {
    this.toks = this.lex();
  }

  private fail(col: number, why: string): never {
    throw new LatheError('UsageError', `pipeline '${this.text}', column ${col}: ${why}`);
  }

  private lex(): Tok[] {
    const s = this.text;
    const out: Tok[] = [];
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      const col = i + 1;
      if (/\s/.test(c)) {
        i++;
      } else if (c === ',' || c === '{' || c === '}' || c === '=') {
        out.push({ kind: c, text: c, col });
        i++;
      } else if (c === '"') {
        const m = /^"(?:[^"\\\n]|\\.)*"/.exec(s.slice(i));
        if (!m) this.fail(col, 'unterminated string');
        let value: string;
        try {
          value = JSON.parse(m[0]) as string;
        } catch {
          this.fail(col, `bad string ${m[0]}`);
        }
        out.push({ kind: 'string', text: m[0], value, col });
        i += m[0].length;
      } else {
        const m = /^[^\s,{}="]+/.exec(s.slice(i))!;
        const t = m[0];
        if (NUMBER_RE.test(t)) out.push({ kind: 'number', text: t, value: t, col });
        else if (WORD_RE.test(t)) out.push({ kind: 'word', text: t, value: t, col });
        else this.fail(col, `unexpected '${t}'`);
        i += t.length;
      }
    }
    out.push({ kind: 'end', text: 'the end', col: s.length + 1 });
    return out;
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private expect(kind: Tok['kind'], what: string): Tok {
    const t = this.next();
    if (t.kind !== kind) this.fail(t.col, `expected ${what}, found '${t.text}'`);
    return t;
  }

  pipeline(): PipelineEntry[] {
    const out: PipelineEntry[] = [];
    if (this.peek().kind === 'end') return out;
    for (;;) {
      out.push(...this.entry());
      const t = this.next();
      if (t.kind === 'end') return out;
      if (t.kind !== ',') this.fail(t.col, `expected ',' between passes, found '${t.text}'`);
    }
  }

  private entry(): PipelineEntry[] {
    const t = this.expect('word', 'a pass name');
    const name = t.text;
    if (name === 'default' && !this.registry.lookup(name)) {
      if (this.peek().kind === '{') this.fail(this.peek().col, `'default' takes no options`);
      return DEFAULT_PIPELINE ? [...parsePipeline(DEFAULT_PIPELINE, this.registry)] : [];
    }
    const pass = this.registry.lookup(name);
    if (!pass) {
      const names = this.registry.names();
      const close = names.filter((n) => similar(n, name));
      this.fail(
        t.col,
        `unknown pass '${name}'${close.length ? ` (did you mean ${close.map((n) => `'${n}'`).join(' or ')}?)` : ''}; ` +
          `the passes are: ${names.length ? names.join(', ') : '(none registered)'}, and 'default' (${DEFAULT_PIPELINE || 'empty'})`,
      );
    }
    const specs = pass.options as Record<string, OptionSpec>;
    const options: Record<string, OptionValue> = {};
    for (const [k, s] of Object.entries(specs)) options[k] = s.default;
    const given: string[] = [];
    if (this.peek().kind === '{') {
      this.next();
      while (this.peek().kind !== '}') {
        if (given.length && this.peek().kind === ',') this.next();
        const keyTok = this.expect('word', `an option of '${name}' or '}'`);
        const key = Object.keys(specs).find((k) => k === keyTok.text || kebab(k) === keyTok.text);
        if (!key) {
          const list = Object.entries(specs).map(([k, s]) => `${kebab(k)} (${typeName(s)})`);
          this.fail(keyTok.col, `pass '${name}' has no option '${keyTok.text}'; its options are: ${list.length ? list.join(', ') : '(none)'}`);
        }
        if (given.includes(key)) this.fail(keyTok.col, `option '${keyTok.text}' of '${name}' is given twice`);
        this.expect('=', `'=' after '${keyTok.text}'`);
        const v = this.next();
        options[key] = this.value(name, keyTok.text, specs[key]!, v);
        given.push(key);
      }
      this.next();
    }
    return [{ pass, options, given }];
  }

  /** A value token checked against the option's spec. */
  private value(pass: string, key: string, spec: OptionSpec, t: Tok): OptionValue {
    const want = `option '${key}' of '${pass}' takes ${typeName(spec)}`;
    if (t.kind !== 'word' && t.kind !== 'string' && t.kind !== 'number') this.fail(t.col, `${want}, found '${t.text}'`);
    switch (spec.type) {
      case 'number':
        if (t.kind !== 'number') this.fail(t.col, `${want}, not ${t.text}`);
        return Number(t.value);
      case 'boolean':
        if (t.kind !== 'word' || (t.value !== 'true' && t.value !== 'false')) this.fail(t.col, `${want}, not ${t.text}`);
        return t.value === 'true';
      case 'string':
        if (spec.choices && !spec.choices.includes(t.value)) this.fail(t.col, `${want}, not ${t.text}`);
        return t.value;
    }
  }
}

export function typeName(s: OptionSpec): string {
  if (s.choices) return `one of ${s.choices.join('|')}`;
  return s.type === 'boolean' ? 'true or false' : `a ${s.type}`;
}

/** Typos worth suggesting: one contains the other, or they differ in at most two edits. */
function similar(a: string, b: string): boolean {
  if (a.includes(b) || b.includes(a)) return true;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]! <= 2;
}
