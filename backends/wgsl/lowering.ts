// The lowering registry: each op's WGSL lowering is registered once, by domain and op name, from
// the family files in backends/wgsl/ops/. A lowering turns one node (shapes all static: the model
// is specialized to concrete input sizes first) into kernels, or into an alias when the result is
// its operand's bytes seen differently (Reshape, Squeeze, Identity, ...).
import type { AttrReader } from '../../ir/attr-reader.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN, qualifiedOp } from '../../ir/graph.ts';
import type { ConstTensor } from '../../ir/tensor-data.ts';
import type { Kernel } from './kernel.ts';

/** What the device offers that kernels may depend on. */
export interface DeviceCaps {
  readonly f16: boolean;
  readonly subgroups: boolean;
  readonly maxWorkgroupInvocations: number;
  readonly maxWorkgroupStorageBytes: number;
  readonly maxStorageBufferBindingBytes: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** A statically shaped tensor operand or result. */
export interface StaticTensor {
  readonly name: string;
  readonly dtype: import('../../ir/dtype.ts').DType;
  readonly shape: readonly number[];
}

export interface LowerContext extends AttrReader {
  readonly node: Node;
  readonly opset: number;
  readonly caps: DeviceCaps;
  /** Operand i, or undefined where it is omitted. */
  input(i: number): StaticTensor | undefined;
  /** Result i, or undefined where it is omitted. */
  output(i: number): StaticTensor | undefined;
  /** Operand i's contents when it is a constant (weights, shape operands). */
  constant(i: number): ConstTensor | undefined;
  /** A kernel name unique in the program: `<node>/<what>`. */
  kernelName(what: string): string;
  /** Throw an UnsupportedOp error naming this node and op (no silent CPU fallback). */
  unsupported(why: string): never;
}

/** Result i is operand `input`'s buffer (same bytes, maybe another shape). */
export interface Alias {
  readonly alias: { readonly output: number; readonly input: number }[];
}

export type Lowering = (ctx: LowerContext) => Kernel[] | Alias;

/**
 * Results known when compiling (a Constant node; shape arithmetic once shapes are static): the
 * program uploads them like weights and no kernel runs. Registered apart from the lowerings
 * (defineWgslFold), so a Lowering still returns kernels or an alias.
 */
export interface Folded {
  readonly folded: { readonly output: number; readonly tensor: ConstTensor }[];
}
export type Folding = (ctx: LowerContext) => Folded;

const lowerings = new Map<string, Lowering>();
const key = (domain: string, op: string) => `${domain || ONNX_DOMAIN}::${op}`;

export function defineWgsl(domain: string, op: string, fn: Lowering): void {
  const k = key(domain, op);
  if (lowerings.has(k)) throw new Error(`WGSL lowering for ${domain}.${op} is defined twice`);
  lowerings.set(k, fn);
}

export function defineOnnxWgsl(ops: readonly string[], fn: Lowering): void {
  for (const op of ops) defineWgsl(ONNX_DOMAIN, op, fn);
}

const foldings = new Map<string, Folding>();

/** Register an op whose results lower.ts computes while compiling (checked before lowerings). */
export function defineWgslFold(domain: string, op: string, fn: Folding): void {
  const k = key(domain, op);
  if (foldings.has(k) || lowerings.has(k)) throw new Error(`WGSL lowering for ${domain}.${op} is defined twice`);
  foldings.set(k, fn);
}

export function lookupWgslFold(node: Pick<Node, 'domain' | 'op'>): Folding | undefined {
  return foldings.get(key(node.domain, node.op));
}

export function lookupWgsl(node: Pick<Node, 'domain' | 'op'>): Lowering | undefined {
  return lowerings.get(key(node.domain, node.op));
}

export function loweredOps(): string[] {
  return [...lowerings.keys(), ...foldings.keys()].sort();
}

export function noLowering(node: Node): never {
  throw new LatheError('UnsupportedOp', `op ${qualifiedOp(node)} has no WGSL lowering (lathe does not fall back to the CPU)`, {
    node: node.name,
    op: qualifiedOp(node),
  });
}

export function isAlias(r: Kernel[] | Alias): r is Alias {
  return !Array.isArray(r);
}

export function isFolded(r: Kernel[] | Alias | Folded): r is Folded {
  return !Array.isArray(r) && 'folded' in r;
}
