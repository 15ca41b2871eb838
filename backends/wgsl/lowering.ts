// The lowering registry: each op's WGSL lowering is registered once, by domain and op name, from
// the family files in backends/wgsl/ops/. A lowering turns one node (shapes all static: the model
// is specialized to concrete input sizes first) into kernels, or into an alias when the result is
// its operand's bytes seen differently (Reshape, Squeeze, Identity, ...).
import type { Alias, CoreContext, Folded } from '../lower-core.ts';
import type { Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
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

export type { Alias, Folded, StaticTensor } from '../lower-core.ts';
export { isAlias, isFolded } from '../lower-core.ts';

/** What a WGSL lowering sees: the shared driver's context with the WGSL device's caps. */
export type LowerContext = CoreContext<DeviceCaps>;

export type Lowering = (ctx: LowerContext) => Kernel[] | Alias;

/**
 * Results known when compiling (a Constant node; shape arithmetic once shapes are static): the
 * program uploads them like weights and no kernel runs. Registered apart from the lowerings
 * (defineWgslFold), so a Lowering still returns kernels or an alias.
 */
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

