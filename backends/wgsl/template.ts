// Assembling a kernel: the binding declarations, the uniform struct, helper functions and the
// body under `main`, plus the flat-index / dispatch convention every 1-D kernel shares (a grid
// folded into 2-D when it exceeds the per-dimension workgroup limit).
import type { Kernel, KernelBinding, KernelUniform } from './kernel.ts';
import type { DeviceCaps, LowerContext } from './lowering.ts';
import { uniformStruct } from './uniforms.ts';

/** A binding and the WGSL variable name the body uses for it. */
export interface BoundVar {
  readonly name: string;
  readonly binding: KernelBinding;
}

export interface KernelSpec {
  readonly name: string;
  readonly node: string;
  readonly op: string;
  /** What the text depends on besides itself (the key is the text's own hash of its spec). */
  readonly key: string;
  readonly vars: readonly BoundVar[];
  readonly uniforms: readonly KernelUniform[];
  readonly workgroupSize: number;
  /** WGSL functions and constants placed before `main`. */
  readonly helpers?: readonly string[];
  /** The body of `main`; `gid`, `lid`, `wid`, `nwg` builtins are in scope. */
  readonly body: string;
  readonly dispatch: readonly [number, number, number];
  /** Uses subgroup builtins: `enable subgroups;` and `sg_id`, `sg_size` in scope. */
  readonly subgroups?: boolean;
}

export function buildKernel(s: KernelSpec): Kernel {
  const f16 = s.vars.some((v) => v.binding.elem === 'f16');
  const decls = s.vars.map((v, i) => {
    const access = v.binding.access === 'read' ? 'read' : 'read_write';
    return `@group(0) @binding(${i}) var<storage, ${access}> ${v.name}: array<${v.binding.elem}>;`;
  });
  if (s.uniforms.length) decls.push(uniformStruct(s.uniforms), `@group(0) @binding(${s.vars.length}) var<uniform> u: Uniforms;`);
  const code = [
    f16 ? 'enable f16;' : '',
    s.subgroups ? 'enable subgroups;' : '',
    ...decls,
    ...(s.helpers ?? []),
    `@compute @workgroup_size(${s.workgroupSize})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,',
    `        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>${s.subgroups ? ',\n        @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32' : ''}) {`,
    s.body,
    '}',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
  return {
    name: s.name,
    node: s.node,
    op: s.op,
    // Readable part for profiles, and a hash of the text itself so equal keys mean equal code.
    key: `${s.key}#${hashText(code)}`,
    code,
    bindings: s.vars.map((v) => v.binding),
    uniforms: s.uniforms,
    dispatch: s.dispatch,
  };
}

/** Workgroups covering `units` work units of `wg` threads each, folded into (x, y). */
export function grid(units: number, caps: Pick<DeviceCaps, 'maxComputeWorkgroupsPerDimension'>): [number, number, number] {
  const max = caps.maxComputeWorkgroupsPerDimension || 65535;
  const n = Math.max(1, units);
  if (n <= max) return [n, 1, 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y, 1];
}

/** Dispatch for one thread per element. */
export function elementDispatch(n: number, wg: number, caps: Pick<DeviceCaps, 'maxComputeWorkgroupsPerDimension'>): [number, number, number] {
  return grid(Math.ceil(n / wg), caps);
}

/** WGSL: the linear workgroup index (for one-workgroup-per-row kernels). */
export const WORKGROUP_INDEX = 'wid.y * nwg.x + wid.x';
/** WGSL: the linear thread index for a grid from `elementDispatch` with workgroup size `wg`. */
export const threadIndex = (wg: number) => `(${WORKGROUP_INDEX}) * ${wg}u + lid.x`;

/** Two 32-bit FNV-1a hashes of a text (64 bits: collisions among a program's kernels are moot). */
export function hashText(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * One thread per element of `n` (`flat` in scope in `body`, which returns early past `n`): the
 * plain elementwise kernel shape several op families share. `n` is baked into the text.
 */
export function perElementKernel(
  ctx: LowerContext,
  what: string,
  key: string,
  n: number,
  vars: BoundVar[],
  body: readonly string[],
  opts: { uniforms?: KernelUniform[]; helpers?: string[]; workgroupSize?: number } = {},
): Kernel[] {
  if (n === 0) return [];
  const wg = opts.workgroupSize ?? 64;
  return [
    buildKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `${what}/${key}`,
      vars,
      uniforms: opts.uniforms ?? [],
      workgroupSize: wg,
      helpers: opts.helpers ?? [],
      body: [`  let flat = ${threadIndex(wg)};`, `  if (flat >= ${n >>> 0}u) { return; }`, ...body.map((l) => `  ${l}`)].join('\n'),
      dispatch: elementDispatch(n, wg, ctx.caps),
    }),
  ];
}

