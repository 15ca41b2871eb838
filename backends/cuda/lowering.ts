// The CUDA lowering registry: each op's lowering is registered once, by domain and op name, from
// the family files in backends/cuda/ops/ — the same op-to-kernel shape as the WGSL backend, with
// the shared driver (../lower-core.ts) walking the graph and planning buffers.
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import type { Node } from '../../ir/graph.ts';
import type { Alias, CoreContext, Folded } from '../lower-core.ts';
import type { CudaKernel } from './kernel.ts';

export type { Alias, Folded, StaticTensor } from '../lower-core.ts';

/** What the target GPU offers that kernels depend on (defaults: sm_80 and newer). */
export interface CudaCaps {
  readonly maxThreadsPerBlock: number;
  /** Dynamic shared memory a block may use without opting in (48 KiB). */
  readonly maxSharedBytes: number;
  /** Lowest compute capability targeted (80 = sm_80): picks the tensor-core paths. */
  readonly sm: number;
}

export const DEFAULT_CUDA_CAPS: CudaCaps = { maxThreadsPerBlock: 1024, maxSharedBytes: 48 * 1024, sm: 80 };

export type CudaContext = CoreContext<CudaCaps>;
export type CudaLowering = (ctx: CudaContext) => CudaKernel[] | Alias;
export type CudaFolding = (ctx: CudaContext) => Folded;

const lowerings = new Map<string, CudaLowering>();
const foldings = new Map<string, CudaFolding>();
const key = (domain: string, op: string) => `${domain || ONNX_DOMAIN}::${op}`;

export function defineCuda(domain: string, op: string, fn: CudaLowering): void {
  const k = key(domain, op);
  if (lowerings.has(k) || foldings.has(k)) throw new Error(`CUDA lowering for ${domain}.${op} is defined twice`);
  lowerings.set(k, fn);
}

export function defineOnnxCuda(ops: readonly string[], fn: CudaLowering): void {
  for (const op of ops) defineCuda(ONNX_DOMAIN, op, fn);
}

/** Register an op whose results are known when compiling (Constant, Shape, Size). */
export function defineCudaFold(domain: string, op: string, fn: CudaFolding): void {
  const k = key(domain, op);
  if (lowerings.has(k) || foldings.has(k)) throw new Error(`CUDA lowering for ${domain}.${op} is defined twice`);
  foldings.set(k, fn);
}

export function lookupCuda(node: Pick<Node, 'domain' | 'op'>): CudaLowering | undefined {
  return lowerings.get(key(node.domain, node.op));
}

export function lookupCudaFold(node: Pick<Node, 'domain' | 'op'>): CudaFolding | undefined {
  return foldings.get(key(node.domain, node.op));
}

export function cudaLoweredOps(): string[] {
  return [...lowerings.keys(), ...foldings.keys()].sort();
}
