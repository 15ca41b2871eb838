// Model → text. The output is the canonical form: parsing it gives a structurally equal model
// and printing that again gives the same text. See docs/ir-text.md for the syntax.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LatheError } from '../errors.ts';
import type { Attr, Graph, Model, Node } from '../graph.ts';
import { domainFromPrefix, domainPrefix } from '../graph.ts';
import type { ConstTensor, FileRange } from '../tensor-data.ts';
import { expectedBytes, readFileRange } from '../tensor-data.ts';
import type { Dim, ValueType } from '../types.ts';
import { numElements } from '../types.ts';
import { isPlainIdent, isPlainName } from './lexer.ts';
import { doubleText, elementText } from './numbers.ts';
import { defaultNodeName } from './parse.ts';
import type { WeightSink } from './weights.ts';

export interface PrintOptions {
  /** The folder the text will live in; @file paths print relative to it. Default process.cwd(). */
  baseDir?: string;
  /** In-memory constants with more elements than this go to `weights` (default 64). */
  inlineLimit?: number;
  /** Where large in-memory constants are stored; without one they print inline. */
  weights?: WeightSink;
}

export function printModel(model: Model, opts: PrintOptions = {}): string {
  const p = new Printer(opts);
  const opsets = Object.entries(model.opsets).map(([d, v]) => `${domainText(d)} = ${v}`);
  const fields = [`opsets = {${opsets.join(', ')}}`];
  if (model.producer !== undefined) fields.push(`producer = ${JSON.stringify(model.producer)}`);
  return `lathe.model {${fields.join(', ')}}\n${p.graph(model.graph, '', new Map())}\n`;
}

export function printGraph(graph: Graph, opts: PrintOptions = {}): string {
  return `${new Printer(opts).graph(graph, '', new Map())}\n`;
}

// Names and symbols: bare when the lexer reads them back as one plain token, else JSON-quoted.
const quoted = (s: string) => JSON.stringify(s);
export const valueText = (n: string) => `%${isPlainName(n) ? n : quoted(n)}`;
const graphName = (n: string) => `@${isPlainName(n) ? n : quoted(n)}`;
const nodeName = (n: string) => `#${isPlainName(n) ? n : quoted(n)}`;
const identText = (s: string) => (isPlainIdent(s) ? s : quoted(s));

/** A domain as its short prefix when that reads back to the same domain, else quoted as is. */
function domainText(d: string): string {
  const p = domainPrefix(d);
  return domainFromPrefix(p) === d && p.split('.').every(isPlainIdent) ? p : quoted(d);
}

const dimText = (d: Dim) => (d === null ? '?' : typeof d === 'number' ? String(d) : identText(d));

export function typeText(t: ValueType): string {
  switch (t.kind) {
    case 'tensor': return `${t.dtype}[${t.shape === null ? '*' : t.shape.map(dimText).join(', ')}]`;
    case 'sequence': return `seq<${typeText(t.elem)}>`;
    case 'optional': return `opt<${typeText(t.elem)}>`;
  }
}

/** Integers print exactly, digit by digit (String would use exponents past 1e21). */
const intText = (v: number) => (Object.is(v, -0) ? '-0' : Number.isInteger(v) ? BigInt(v).toString() : String(v));

/** Types of the values in scope, innermost graph last (for the `-> (...)` result types). */
type Scope = Map<string, ValueType>;

class Printer {
  private readonly baseDir: string;
  private readonly inlineLimit: number;
  constructor(private readonly opts: PrintOptions) {
    this.baseDir = resolve(opts.baseDir ?? process.cwd());
    this.inlineLimit = opts.inlineLimit ?? 64;
  }

  graph(g: Graph, indent: string, outer: Scope): string {
    const scope: Scope = new Map(outer);
    const inner = `${indent}  `;
    const inputs = g.inputs.map((v) => {
      scope.set(v.name, v.type);
      return `${valueText(v.name)}: ${typeText(v.type)}`;
    });
    const lines: string[] = [];
    for (const c of g.inputDefaults ?? []) lines.push(`${inner}default ${valueText(c.name)} = ${this.tensor(c.tensor)}`);
    for (const c of g.constants) {
      scope.set(c.name, { kind: 'tensor', dtype: c.tensor.dtype, shape: c.tensor.shape });
      lines.push(`${inner}${valueText(c.name)} = const ${this.tensor(c.tensor)}`);
    }
    for (const n of g.nodes) {
      lines.push(`${inner}${this.node(n, inner, scope)}`);
      for (const o of n.outputs) if (o) scope.set(o.name, o.type);
    }
    const ret = g.outputs.map(valueText).join(', ');
    lines.push(`${inner}return${ret ? ` ${ret}` : ''}`);
    const results = g.outputs.map((o) => {
      const t = scope.get(o);
      return t ? typeText(t) : '?';
    });
    return `graph ${graphName(g.name)}(${inputs.join(', ')}) -> (${results.join(', ')}) {\n${lines.join('\n')}\n${indent}}`;
  }

  private node(n: Node, indent: string, scope: Scope): string {
    const op = `${domainText(n.domain)}.${identText(n.op)}`;
    const operands = n.inputs.map((i) => (i === null ? '_' : valueText(i))).join(', ');
    const attrs = Object.entries(n.attrs).map(([k, a]) => `${identText(k)} = ${this.attr(a, indent, scope)}`);
    let s = `${op}(${operands})`;
    if (attrs.length) s += ` {${attrs.join(', ')}}`;
    if (n.outputs.length) {
      const results = n.outputs.map((o) => (o ? valueText(o.name) : '_')).join(', ');
      s = `${results} = ${s} : ${n.outputs.map((o) => (o ? typeText(o.type) : '_')).join(', ')}`;
    }
    if (n.name !== defaultNodeName(n.outputs)) s += ` ${nodeName(n.name)}`;
    return s;
  }

  private attr(a: Attr, indent: string, scope: Scope): string {
    const list = (items: string[]) => (items.length ? `[${items.join(', ')}]` : `[] : ${a.kind}`);
    switch (a.kind) {
      case 'int': return intText(a.value);
      case 'float': return doubleText(a.value);
      case 'string': return quoted(a.value);
      case 'tensor': return this.tensor(a.value);
      case 'graph': return this.graph(a.value, indent, scope);
      case 'type': return `type<${typeText(a.value)}>`;
      case 'ints': return list(a.value.map(intText));
      case 'floats': return list(a.value.map(doubleText));
      case 'strings': return list(a.value.map(quoted));
      case 'tensors': return list(a.value.map((t) => this.tensor(t)));
      case 'graphs': return list(a.value.map((g) => this.graph(g, indent, scope)));
      case 'types': return list(a.value.map((t) => `type<${typeText(t)}>`));
    }
  }

  /** `f32[2, 3] dense<[...]>` or `f32[768] @file("w.bin", offset = 0, length = 3072)`. */
  private tensor(t: ConstTensor): string {
    const type = `${t.dtype}[${t.shape.join(', ')}]`;
    const d = t.data;
    const sink = this.opts.weights;
    if (d.kind === 'strings') return `${type} dense<[${d.values.map(quoted).join(', ')}]>`;
    if (d.kind === 'file') {
      // With a sink, bytes the text could not refer to (outside baseDir, or in the file the sink
      // replaces) are copied into it, so the printed model can be parsed back.
      const copy = sink && (sink.replaces?.(d.path) || !isInside(this.baseDir, d.path));
      return `${type} ${this.fileRef(copy ? sink.write(readFileRange(d)) : d)}`;
    }
    if (t.dtype === 'string') throw new LatheError('TensorDataError', `a string tensor holds bytes instead of strings`);
    const need = expectedBytes(t.dtype, t.shape);
    if (d.bytes.length !== need) {
      throw new LatheError('TensorDataError', `${type} needs ${need} bytes but holds ${d.bytes.length}`);
    }
    const n = numElements(t.shape);
    if (n > this.inlineLimit) {
      // Bytes that also lie in a file (an ONNX model's raw data) are referenced there, unless the
      // sink must hold them for the text to be re-loadable; others go to the sink if there is one.
      if (d.origin && !(sink && (sink.replaces?.(d.origin.path) || !isInside(this.baseDir, d.origin.path)))) {
        return `${type} ${this.fileRef(d.origin)}`;
      }
      if (sink) return `${type} ${this.fileRef(sink.write(d.bytes))}`;
    }
    const view = new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
    const elems: string[] = [];
    for (let i = 0; i < n; i++) elems.push(elementText(t.dtype, view, i));
    return `${type} dense<[${elems.join(', ')}]>`;
  }

  private fileRef(r: FileRange): string {
    const rel = relative(this.baseDir, r.path).split(sep).join('/');
    return `@file(${quoted(rel)}, offset = ${r.offset}, length = ${r.length})`;
  }
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
