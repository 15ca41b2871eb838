// Random valid models for the round-trip property: odd names, every dtype and value type,
// symbols, every attribute kind, nested graphs reading outer values, omitted operands and
// results, input defaults, and constant bytes with NaN payloads, -0 and infinities.
import fc from 'fast-check';
import { ALL_DTYPES, DTYPES, type DType } from '../../ir/dtype.ts';
import type { Attr, Constant, Graph, Model, Node, Value } from '../../ir/graph.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import { expectedBytes } from '../../ir/tensor-data.ts';
import type { Dim, Shape, ValueType } from '../../ir/types.ts';
import { numElements } from '../../ir/types.ts';

const NAMES = ['x', 'y', 'input.1', 'onnx::MatMul_12', '0', '', '_', '/layer/MatMul_output_0', 'a b', '"q"', 'ünï', 'graph', 'nan', 'f32', '%', '\n'];
const SYMBOLS = ['batch', 'seq', '3', '?', '*', '', '_', 'a b', 'inf', 'f16', 'N.1'];
const DOMAINS = ['ai.onnx', '', 'ai.onnx.ml', 'onnx_ml', 'onnx', 'lathe', 'ai.onnx.preview.training', 'com.microsoft', 'my/dom ain', 'return', 'default', 'const'];
const OPS = ['MatMul', 'If', 'Loop', 'weird op', '0x', 'graph', 'return', '_', 'Foo.Bar'];
const ATTR_NAMES = ['axis', 'perm', '', '__proto__', 'graph', 'then_branch', 'a b', '0', 'type', 'nan'];
const KINDS = ['int', 'float', 'string', 'tensor', 'type', 'ints', 'floats', 'strings', 'tensors', 'types', 'graph', 'graphs'] as const;

export function arbitraryModel(): fc.Arbitrary<Model> {
  return fc.gen().map((g) => new ModelGen(g).model());
}

class ModelGen {
  private readonly used = new Set<string>();
  private counter = 0;
  constructor(private readonly g: fc.GeneratorValue) {}

  private int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  private str(): string {
    return this.g(fc.string, { unit: 'binary', maxLength: 5 });
  }
  private times<T>(max: number, f: (i: number) => T): T[] {
    return Array.from({ length: this.int(0, max) }, (_, i) => f(i));
  }
  /** A value name not used anywhere yet (so no scope redefines one). */
  private fresh(): string {
    let n = this.int(0, 3) === 0 ? this.str() : this.pick(NAMES);
    while (this.used.has(n)) n = `${n}_${this.counter++}`;
    this.used.add(n);
    return n;
  }

  model(): Model {
    const opsets = Object.fromEntries(this.times(3, () => [this.pick(DOMAINS), this.int(1, 30)] as const));
    const graph = this.graph([], 0);
    return this.int(0, 1) ? { graph, opsets } : { graph, opsets, producer: this.str() };
  }

  private dim(): Dim {
    switch (this.int(0, 3)) {
      case 0: return this.int(0, 4);
      case 1: return this.pick(SYMBOLS);
      case 2: return this.str();
      default: return null;
    }
  }
  private shape(): Shape {
    return this.int(0, 5) === 0 ? null : this.times(3, () => this.dim());
  }
  private type(depth = 0): ValueType {
    const r = this.int(0, 5);
    if (depth < 2 && r === 0) return { kind: 'sequence', elem: this.type(depth + 1) };
    if (depth < 2 && r === 1) return { kind: 'optional', elem: this.type(depth + 1) };
    return { kind: 'tensor', dtype: this.pick(ALL_DTYPES), shape: this.shape() };
  }

  private tensor(): ConstTensor {
    const dtype: DType = this.pick(ALL_DTYPES);
    const shape = this.times(2, () => this.int(0, this.int(0, 1) ? 3 : 12));
    const n = numElements(shape);
    if (dtype === 'string') return { dtype, shape, data: { kind: 'strings', values: Array.from({ length: n }, () => this.str()) } };
    const bytes: Uint8Array = this.g(fc.uint8Array, { minLength: expectedBytes(dtype, shape), maxLength: expectedBytes(dtype, shape) });
    // The unused high nibble of an odd-length 4-bit tensor is zero (the text has no room for it).
    if (DTYPES[dtype].bits === 4 && n % 2 === 1) bytes[bytes.length - 1]! &= 0x0f;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (n > 0 && dtype === 'f32') view.setUint32(0, this.pick([0x80000000, 0x7fc00000, 0x7f800000, 0xff800001, 0x00000001]), true);
    if (n > 0 && dtype === 'f64') view.setBigUint64(0, this.pick([0x8000000000000000n, 0x7ff8000000000000n, 0xfff0000000000000n, 0x7ff0000000000002n]), true);
    return { dtype, shape, data: { kind: 'bytes', bytes } };
  }

  private attr(scope: readonly string[], depth: number): Attr {
    const kinds = depth < 2 ? KINDS : KINDS.slice(0, 10);
    const kind = this.pick(kinds);
    const intV = () => this.pick([() => this.g(fc.integer), () => this.g(fc.maxSafeInteger), () => 2 ** 60, () => -0])();
    const floatV = () => this.g(fc.double);
    switch (kind) {
      case 'int': return { kind, value: intV() };
      case 'float': return { kind, value: floatV() };
      case 'string': return { kind, value: this.str() };
      case 'tensor': return { kind, value: this.tensor() };
      case 'type': return { kind, value: this.type() };
      case 'graph': return { kind, value: this.graph(scope, depth + 1) };
      case 'ints': return { kind, value: this.times(3, intV) };
      case 'floats': return { kind, value: this.times(3, floatV) };
      case 'strings': return { kind, value: this.times(3, () => this.str()) };
      case 'tensors': return { kind, value: this.times(2, () => this.tensor()) };
      case 'types': return { kind, value: this.times(2, () => this.type()) };
      case 'graphs': return { kind, value: this.times(2, () => this.graph(scope, depth + 1)) };
    }
  }

  private graph(outer: readonly string[], depth: number): Graph {
    const scope = [...outer];
    const inputs: Value[] = this.times(3, () => ({ name: this.fresh(), type: this.type() }));
    scope.push(...inputs.map((v) => v.name));
    const constants: Constant[] = this.times(2, () => ({ name: this.fresh(), tensor: this.tensor() }));
    scope.push(...constants.map((c) => c.name));
    const inputDefaults = inputs.filter(() => this.int(0, 3) === 0).reverse().map((v) => ({ name: v.name, tensor: this.tensor() }));
    const nodes: Node[] = this.times(depth === 0 ? 4 : 2, () => {
      const inputsOf = this.times(3, () => (scope.length && this.int(0, 4) ? this.pick(scope) : null));
      const attrs = new Map<string, Attr>();
      for (let i = this.int(0, 3); i > 0; i--) attrs.set(this.int(0, 2) ? this.pick(ATTR_NAMES) : this.str(), this.attr(scope, depth));
      const outputs = this.times(3, () => (this.int(0, 3) ? { name: this.fresh(), type: this.type() } : null));
      scope.push(...outputs.filter((o) => o !== null).map((o) => o.name));
      const name = this.int(0, 1) ? (outputs.find((o) => o)?.name ?? '') : this.pick([...NAMES, this.str()]);
      return { name, op: this.pick(OPS), domain: this.pick(DOMAINS), inputs: inputsOf, outputs, attrs: Object.fromEntries(attrs) };
    });
    const outputs = scope.length ? this.times(3, () => this.pick(scope)) : [];
    const g: Graph = { name: this.pick([...NAMES, this.str()]), inputs, constants, nodes, outputs };
    return inputDefaults.length ? { ...g, inputDefaults } : g;
  }
}
