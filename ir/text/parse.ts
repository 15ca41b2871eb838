// Text → Model. The chevrotain grammar (syntax.ts) builds a syntax tree; this file turns it into
// the graph data model, checking what the text alone decides: names defined once and before use
// (scopes nest like ONNX's), result counts, declared graph result types, dense element counts and
// ranges, and @file paths that stay inside baseDir. It knows nothing about ops.
import type { IToken } from 'chevrotain';
import { dirname, isAbsolute, relative, resolve, win32 } from 'node:path';
import { isDType, type DType } from '../dtype.ts';
import { LatheError, type ErrorKind } from '../errors.ts';
import type { Attr, Constant, Graph, Model, Node, Value } from '../graph.ts';
import { domainFromPrefix } from '../graph.ts';
import type { ConstTensor, TensorData } from '../tensor-data.ts';
import { expectedBytes } from '../tensor-data.ts';
import type { Dim, ValueType } from '../types.ts';
import { numElements, typeToString } from '../types.ts';
import { sameType } from '../equal.ts';
import * as T from './lexer.ts';
import { writeElement, type ElementLit } from './numbers.ts';
import { lirParser, type SynAttrValue, type SynGraph, type SynModel, type SynStmt, type SynTensor, type SynType } from './syntax.ts';

export interface ParseOptions {
  /** Shown in messages (file:line:column). */
  file?: string;
  /** Folder @file paths are relative to; default the folder of `file`, else process.cwd(). */
  baseDir?: string;
}

export function parseModel(text: string, opts: ParseOptions = {}): Model {
  const baseDir = resolve(opts.baseDir ?? (opts.file ? dirname(opts.file) : process.cwd()));
  return new Builder(opts.file, baseDir).model(syntaxTree(text, opts.file));
}

function syntaxTree(text: string, file: string | undefined): SynModel {
  const lexed = T.lirLexer.tokenize(text);
  const bad = lexed.tokens.find((t) => t.tokenType === T.Unterminated);
  const lexErr = lexed.errors[0];
  if (bad && (!lexErr || bad.startOffset < lexErr.offset)) {
    throw new LatheError('ParseError', `unterminated string (no closing quote on this line)`, at(file, bad));
  }
  if (lexErr) {
    const ch = text.slice(lexErr.offset, lexErr.offset + 1);
    throw new LatheError('ParseError', `unexpected character ${JSON.stringify(ch)}`, {
      file,
      line: lexErr.line ?? 1,
      column: lexErr.column ?? 1,
    });
  }
  const parser = lirParser();
  parser.input = lexed.tokens;
  const tree = parser.model();
  const err = parser.errors[0];
  if (err) {
    const tok = err.token;
    const eof = tok.tokenType.name === 'EOF' || Number.isNaN(tok.startOffset);
    const last = lexed.tokens[lexed.tokens.length - 1];
    const where = eof
      ? { file, line: last?.endLine ?? 1, column: (last?.endColumn ?? 0) + 1 }
      : at(file, tok);
    // The lexer only knows real dtypes, so an unknown one reaches the grammar as a plain name
    // (right at the error, or just after the keyword `const` that needed a dtype).
    const i = lexed.tokens.indexOf(tok);
    const named = [tok, lexed.tokens[i + 1]].findIndex(
      (t, k) => t?.tokenType === T.Ident && lexed.tokens[i + k + 1]?.tokenType === T.LBracket,
    );
    if (!eof && named >= 0 && /dtype/.test(err.message)) {
      const t = lexed.tokens[i + named]!;
      throw new LatheError('TypeError', `unknown dtype '${t.image}'`, at(file, t));
    }
    const found = eof ? 'the end of the text' : `'${tok.image}'`;
    throw new LatheError('ParseError', `${cleanMessage(err.message)} (found ${found})`, where);
  }
  return tree;
}

/** Chevrotain's messages, shortened: "expected ')'", "expected one of: dtype | 'seq' | 'opt'". */
function cleanMessage(m: string): string {
  const one = /Expecting --> (.*?) <--/.exec(m);
  if (one) return `expected ${one[1]}`;
  const seqs = /possible Token sequences:+\n([\s\S]*?)\nbut found/.exec(m);
  if (seqs) {
    const alts = [...seqs[1]!.matchAll(/\[([^\]]*)\]/g)].map((a) => a[1]!.split(', ').join(' '));
    return `expected one of: ${[...new Set(alts)].join(' | ')}`;
  }
  if (/^Redundant input/.test(m)) return 'expected the end of the text';
  return m.split('\n')[0]!;
}

const at = (file: string | undefined, tok: IToken) => ({ file, line: tok.startLine ?? 1, column: tok.startColumn ?? 1 });

/** The values a graph and the graphs around it define. */
class Scope {
  private readonly own = new Map<string, ValueType>();
  constructor(private readonly parent?: Scope) {}
  get(name: string): ValueType | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }
  define(name: string, type: ValueType): boolean {
    if (this.get(name)) return false;
    this.own.set(name, type);
    return true;
  }
}

class Builder {
  constructor(
    private readonly file: string | undefined,
    private readonly baseDir: string,
  ) {}

  private fail(kind: ErrorKind, tok: IToken, message: string): never {
    throw new LatheError(kind, message, at(this.file, tok));
  }

  /** A JSON string literal's value; our escapes are JSON's. */
  private str(tok: IToken, image = tok.image): string {
    try {
      return JSON.parse(image) as string;
    } catch {
      this.fail('ParseError', tok, `bad escape in string ${image}`);
    }
  }

  /** The name in a %value, @graph or #node token. */
  private name(tok: IToken): string {
    const rest = tok.image.slice(1);
    return rest.startsWith('"') ? this.str(tok, rest) : rest;
  }

  private domain(parts: IToken[]): string {
    if (parts.length === 1 && parts[0]!.tokenType === T.StringLit) return this.str(parts[0]!);
    const quoted = parts.find((p) => p.tokenType === T.StringLit);
    if (quoted) this.fail('ParseError', quoted, 'a quoted domain must stand alone before the op name');
    return domainFromPrefix(parts.map((p) => p.image).join('.'));
  }

  model(syn: SynModel): Model {
    let opsets: Record<string, number> = {};
    let producer: string | undefined;
    if (syn.header) {
      const h = syn.header;
      if (h.tok.image !== 'lathe' || h.word.image !== 'model') this.fail('ParseError', h.tok, `expected 'lathe.model' or 'graph'`);
      const seen = new Set<string>();
      for (const e of h.entries) {
        const key = e.key.image;
        if (seen.has(key)) this.fail('TypeError', e.key, `model field '${key}' given twice`);
        seen.add(key);
        if (key === 'opsets' && Array.isArray(e.value)) {
          const entries: [string, number][] = [];
          for (const o of e.value) {
            const d = this.domain(o.key);
            if (entries.some(([k]) => k === d)) this.fail('TypeError', o.key[0]!, `opset for domain '${d}' given twice`);
            entries.push([d, Number(o.value.image)]);
          }
          opsets = Object.fromEntries(entries);
        } else if (key === 'producer' && !Array.isArray(e.value)) {
          producer = this.str(e.value);
        } else if (key === 'opsets' || key === 'producer') {
          this.fail('TypeError', e.key, key === 'opsets' ? `opsets must be {domain = version, ...}` : `producer must be a string`);
        } else {
          this.fail('ParseError', e.key, `unknown model field '${key}' (expected opsets or producer)`);
        }
      }
    }
    const graph = this.graph(syn.graph, new Scope());
    return producer === undefined ? { graph, opsets } : { graph, opsets, producer };
  }

  private graph(syn: SynGraph, scope: Scope): Graph {
    const inputs: Value[] = [];
    for (const i of syn.inputs) inputs.push(this.define(scope, i.name, this.type(i.type)));
    const constants: Constant[] = [];
    const inputDefaults: Constant[] = [];
    const nodes: Node[] = [];
    for (const s of syn.body) {
      if (s.kind === 'default') {
        const name = this.name(s.name);
        if (!inputs.some((v) => v.name === name)) this.fail('TypeError', s.name, `default for %${name}, which is not an input of this graph`);
        inputDefaults.push({ name, tensor: this.tensor(s.value) });
      } else if (s.kind === 'const') {
        if (s.results.length !== 1 || s.results[0]!.tokenType !== T.ValueName) {
          this.fail('TypeError', s.tok, 'a constant binds exactly one %value');
        }
        const tensor = this.tensor(s.value);
        const v = this.define(scope, s.results[0]!, { kind: 'tensor', dtype: tensor.dtype, shape: tensor.shape });
        constants.push({ name: v.name, tensor });
      } else nodes.push(this.node(s, scope));
    }
    const outputs = syn.ret.values.map((tok) => {
      const name = this.name(tok);
      if (!scope.get(name)) this.fail('TypeError', tok, `undefined value %${name}`);
      return name;
    });
    if (syn.results.length !== outputs.length) {
      this.fail('TypeError', syn.ret.tok, `graph declares ${syn.results.length} results but returns ${outputs.length}`);
    }
    syn.results.forEach((r, i) => {
      if (!r) return;
      const declared = this.type(r);
      const actual = scope.get(outputs[i]!)!;
      if (!sameType(declared, actual)) {
        this.fail('TypeError', syn.ret.values[i]!, `result ${i} is declared ${typeToString(declared)} but %${outputs[i]} is ${typeToString(actual)}`);
      }
    });
    const g: Graph = { name: this.name(syn.name), inputs, constants, nodes, outputs };
    return inputDefaults.length ? { ...g, inputDefaults } : g;
  }

  private define(scope: Scope, tok: IToken, type: ValueType): Value {
    const name = this.name(tok);
    if (!scope.define(name, type)) this.fail('TypeError', tok, `value %${name} is defined twice`);
    return { name, type };
  }

  private node(s: Extract<SynStmt, { kind: 'node' }>, scope: Scope): Node {
    const opTok = s.opParts[s.opParts.length - 1]!;
    const op = opTok.tokenType === T.StringLit ? this.str(opTok) : opTok.image;
    const domain = this.domain(s.opParts.slice(0, -1));
    const inputs = s.operands.map((tok) => {
      if (tok.tokenType === T.Underscore) return null;
      const name = this.name(tok);
      if (!scope.get(name)) this.fail('TypeError', tok, `undefined value %${name}`);
      return name;
    });
    const attrs: [string, Attr][] = [];
    for (const a of s.attrs) {
      const name = a.name.tokenType === T.StringLit ? this.str(a.name) : a.name.image;
      if (attrs.some(([k]) => k === name)) this.fail('TypeError', a.name, `attribute '${name}' given twice`);
      attrs.push([name, this.attr(a.value, scope)]);
    }
    if (s.types.length !== s.results.length) {
      const tok = s.typesTok ?? opTok;
      this.fail('TypeError', tok, `${s.results.length} results but ${s.types.length} result types`);
    }
    const outputs = s.results.map((tok, i) => {
      const t = s.types[i]!;
      const omitted = tok.tokenType === T.Underscore;
      if (omitted !== (t === null)) this.fail('TypeError', tok, `result ${i}: an omitted result '_' needs the type '_', and only it`);
      return omitted ? null : this.define(scope, tok, this.type(t!));
    });
    const name = s.name ? this.name(s.name) : defaultNodeName(outputs);
    return { name, op, domain, inputs, outputs, attrs: Object.fromEntries(attrs) };
  }

  private attr(v: SynAttrValue, scope: Scope): Attr {
    switch (v.kind) {
      case 'tensor': return { kind: 'tensor', value: this.tensor(v.value) };
      case 'graph': return { kind: 'graph', value: this.graph(v.value, new Scope(scope)) };
      case 'type': return { kind: 'type', value: this.type(v.value) };
      case 'scalar': {
        const t = v.tok;
        if (t.tokenType === T.IntLit) return { kind: 'int', value: Number(t.image) };
        if (t.tokenType === T.StringLit) return { kind: 'string', value: this.str(t) };
        const f = floatOf(t);
        if (f !== undefined) return { kind: 'float', value: f };
        return this.fail('TypeError', t, `'${t.image}' is not an attribute value (use an int, float or string)`);
      }
      case 'list': return this.list(v, scope);
    }
  }

  private list(v: Extract<SynAttrValue, { kind: 'list' }>, scope: Scope): Attr {
    const items = v.items.map((i) => this.attr(i, scope));
    const kinds = new Set(items.map((i) => i.kind));
    let kind: string | undefined = v.annot?.image;
    if (kind === undefined) {
      if (items.length === 0) this.fail('TypeError', v.tok, `an empty list needs its kind, e.g. '[] : ints'`);
      kind = kinds.has('float') && [...kinds].every((k) => k === 'float' || k === 'int') ? 'floats' : `${items[0]!.kind}s`;
    }
    const elemKind = kind.slice(0, -1);
    const listKinds = ['ints', 'floats', 'strings', 'tensors', 'graphs', 'types'];
    if (!listKinds.includes(kind)) this.fail('TypeError', v.annot ?? v.tok, `unknown list kind '${kind}' (expected ${listKinds.join(', ')})`);
    const values = items.map((item, i) => {
      if (item.kind === elemKind) return item.value;
      if (elemKind === 'float' && item.kind === 'int') return item.value;
      return this.fail('TypeError', v.tok, `a list of ${kind} holds a ${item.kind} at position ${i}`);
    });
    return { kind, value: values } as Attr;
  }

  private type(t: SynType): ValueType {
    if (t.kind !== 'tensor') return { kind: t.kind === 'seq' ? 'sequence' : 'optional', elem: this.type(t.elem) };
    const dtype = t.tok.image;
    if (!isDType(dtype)) this.fail('TypeError', t.tok, `unknown dtype '${dtype}'`);
    const shape = t.dims === null ? null : t.dims.map((d): Dim => {
      if (d.tokenType === T.Question) return null;
      if (d.tokenType === T.StringLit) return this.str(d);
      if (d.tokenType === T.IntLit) {
        const n = Number(d.image);
        if (!(n >= 0 && Number.isSafeInteger(n))) this.fail('TypeError', d, `dimension ${d.image} is not a size`);
        return n;
      }
      return d.image;
    });
    return { kind: 'tensor', dtype, shape };
  }

  private tensor(syn: SynTensor): ConstTensor {
    const t = this.type(syn.type);
    if (t.kind !== 'tensor' || t.shape === null || t.shape.some((d) => typeof d !== 'number')) {
      this.fail('TypeError', syn.type.tok, `a constant needs a static shape, got ${typeToString(t)}`);
    }
    const dtype = t.dtype;
    const shape = t.shape as number[];
    const data = syn.data.kind === 'dense' ? this.dense(syn, dtype, shape) : this.fileRange(syn, dtype, shape);
    return { dtype, shape, data };
  }

  private dense(syn: SynTensor, dtype: DType, shape: number[]): TensorData {
    const elems = syn.data.elems;
    const n = numElements(shape);
    if (elems.length !== n) {
      this.fail('TypeError', syn.data.tok, `dense<> has ${elems.length} elements but ${dtype}[${shape.join(', ')}] needs ${n}`);
    }
    if (dtype === 'string') {
      return { kind: 'strings', values: elems.map((e) => (e.tokenType === T.StringLit ? this.str(e) : this.fail('TypeError', e, `expected a string element, got ${e.image}`))) };
    }
    const bytes = new Uint8Array(expectedBytes(dtype, shape));
    const view = new DataView(bytes.buffer);
    elems.forEach((e, i) => {
      const problem = writeElement(dtype, view, i, elementLit(e) ?? this.fail('TypeError', e, `expected a number, got ${e.image}`));
      if (problem) this.fail('TypeError', e, problem);
    });
    return { kind: 'bytes', bytes };
  }

  private fileRange(syn: SynTensor, dtype: DType, shape: number[]): TensorData {
    const d = syn.data;
    if (d.tok.image !== '@file') this.fail('ParseError', d.tok, `expected dense<...> or @file(...), found ${d.tok.image}`);
    const pathTok = d.elems[0]!;
    const rel = this.str(pathTok);
    if (isAbsolute(rel) || win32.isAbsolute(rel)) this.fail('ExternalDataError', pathTok, `weight path "${rel}" must be relative to ${this.baseDir}`);
    const path = resolve(this.baseDir, rel);
    const inside = relative(this.baseDir, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      this.fail('ExternalDataError', pathTok, `weight path "${rel}" leaves the folder ${this.baseDir}`);
    }
    const fields = new Map<string, number>();
    for (const f of d.fields) {
      if (f.key.image !== 'offset' && f.key.image !== 'length') this.fail('ParseError', f.key, `unknown @file field '${f.key.image}' (expected offset, length)`);
      if (fields.has(f.key.image)) this.fail('TypeError', f.key, `@file field '${f.key.image}' given twice`);
      const v = Number(f.value.image);
      if (!(v >= 0 && Number.isSafeInteger(v))) this.fail('TypeError', f.value, `${f.key.image} must be a byte count`);
      fields.set(f.key.image, v);
    }
    const offset = fields.get('offset') ?? 0;
    const length = fields.get('length');
    if (dtype === 'string') this.fail('TypeError', d.tok, `a string tensor cannot live in a weight file`);
    const need = expectedBytes(dtype, shape);
    if (length === undefined) this.fail('TypeError', d.tok, `@file needs length = ${need}`);
    if (length !== need) this.fail('TypeError', d.tok, `${dtype}[${shape.join(', ')}] needs ${need} bytes, @file gives ${length}`);
    return { kind: 'file', path, offset, length };
  }
}

/** The node name the printer leaves out: its first present result's name, or '' with none. */
export function defaultNodeName(outputs: readonly (Value | null)[]): string {
  return outputs.find((o) => o !== null)?.name ?? '';
}

function floatOf(t: IToken): number | undefined {
  if (t.tokenType === T.DecFloat) return Number(t.image);
  if (t.tokenType === T.Inf) return Infinity;
  if (t.tokenType === T.NegInf) return -Infinity;
  if (t.tokenType === T.Nan) return NaN;
  return undefined;
}

function elementLit(t: IToken): ElementLit | undefined {
  if (t.tokenType === T.IntLit) return { kind: 'int', text: t.image };
  if (t.tokenType === T.Hex) return { kind: 'hex', text: t.image };
  if (t.tokenType === T.True || t.tokenType === T.False) return { kind: 'bool', value: t.tokenType === T.True };
  if (floatOf(t) !== undefined) return { kind: 'float', text: t.image };
  return undefined;
}
