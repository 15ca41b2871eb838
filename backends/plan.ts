// Buffer planning by liveness, shared by the WGSL and CUDA backends. The program is a list of
// steps (kernels) that read and write named values; every value gets a buffer. Graph inputs,
// outputs and constants get buffers of their own (written by the host, read back, uploaded
// once); each intermediate value lives from the step that first writes it to the step that last
// reads it, and reuses the smallest freed buffer that is large enough (best fit), else a new one.
// A value is never placed in a buffer another operand or result of the same step still uses.
import { LatheError } from '../ir/errors.ts';

export type PlanRole = 'input' | 'output' | 'constant' | 'intermediate';

export interface PlanValue {
  readonly name: string;
  /** Bytes the value occupies in its buffer. */
  readonly bytes: number;
  readonly role: PlanRole;
}

export interface PlanStep {
  /** For messages (a kernel name). */
  readonly name: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}

export interface PlannedBuffer {
  readonly id: number;
  /** Size in bytes, rounded up to the plan's alignment. */
  readonly bytes: number;
  /** `intermediate` buffers are shared by values whose lifetimes do not overlap. */
  readonly role: PlanRole;
  /** The values placed in it, in order of first use. */
  readonly values: readonly string[];
}

export interface BufferPlan {
  readonly buffers: readonly PlannedBuffer[];
  /** Value name → buffer id. */
  readonly assignment: ReadonlyMap<string, number>;
  /** Bytes of all buffers together: what the program allocates. */
  readonly totalBytes: number;
  /** The most bytes of values live at once (a lower bound for any plan). */
  readonly peakLiveBytes: number;
  /** Bytes of intermediate values if each had its own buffer (what reuse saves from). */
  readonly unsharedBytes: number;
}

export interface PlanOptions {
  /** The largest buffer one binding may see (WebGPU maxStorageBufferBindingSize). */
  readonly maxBindingBytes?: number;
  /** Name of that limit in messages. */
  readonly limitName?: string;
  /** Buffer sizes round up to this (default 16). */
  readonly alignment?: number;
}

export function planBuffers(values: readonly PlanValue[], steps: readonly PlanStep[], options: PlanOptions = {}): BufferPlan {
  const align = options.alignment ?? 16;
  const round = (n: number) => Math.max(align, Math.ceil(n / align) * align);
  const byName = new Map(values.map((v) => [v.name, v]));
  if (options.maxBindingBytes !== undefined) {
    for (const v of values) {
      if (v.bytes > options.maxBindingBytes) {
        throw new LatheError(
          'BackendError',
          `${v.role} '${v.name}' needs ${v.bytes} bytes, more than the device's ${options.limitName ?? 'maxStorageBufferBindingSize'} of ${options.maxBindingBytes} bytes; lathe does not split tensors across bindings yet`,
          { value: v.name },
        );
      }
    }
  }
  // First write and last use of each intermediate.
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const name of [...s.writes, ...s.reads]) {
      const v = byName.get(name);
      if (!v) throw new LatheError('BackendError', `step '${s.name}' uses '${name}', which the plan does not know`, { value: name });
      if (!first.has(name)) first.set(name, i);
      last.set(name, i);
    }
    for (const name of s.reads) {
      if (byName.get(name)!.role === 'intermediate' && first.get(name) === i && !s.writes.includes(name)) {
        throw new LatheError('BackendError', `step '${s.name}' reads '${name}' before any step writes it`, { value: name });
      }
    }
  });

  const buffers: { id: number; bytes: number; role: PlanRole; values: string[] }[] = [];
  const assignment = new Map<string, number>();
  const newBuffer = (bytes: number, role: PlanRole, name: string) => {
    const b = { id: buffers.length, bytes: round(bytes), role, values: [name] };
    buffers.push(b);
    assignment.set(name, b.id);
  };
  for (const v of values) if (v.role !== 'intermediate') newBuffer(v.bytes, v.role, v.name);

  const free: number[] = []; // ids of intermediate buffers nobody holds
  const startsAt: string[][] = steps.map(() => []);
  const endsAt: string[][] = steps.map(() => []);
  for (const v of values) {
    if (v.role !== 'intermediate') continue;
    const f = first.get(v.name);
    if (f === undefined) continue; // never used: no buffer
    startsAt[f]!.push(v.name);
    endsAt[last.get(v.name)!]!.push(v.name);
  }
  let live = 0;
  let peak = values.filter((v) => v.role !== 'intermediate').reduce((s, v) => s + v.bytes, 0);
  const fixed = peak;
  steps.forEach((_, i) => {
    // Place this step's new values first (largest first), then release those whose last use it is:
    // a value never shares a buffer with an operand of the step that writes it.
    for (const name of [...startsAt[i]!].sort((a, b) => byName.get(b)!.bytes - byName.get(a)!.bytes)) {
      const need = byName.get(name)!.bytes;
      let best = -1;
      for (let k = 0; k < free.length; k++) {
        const b = buffers[free[k]!]!;
        if (b.bytes >= need && (best < 0 || b.bytes < buffers[free[best]!]!.bytes)) best = k;
      }
      if (best >= 0) {
        const id = free.splice(best, 1)[0]!;
        buffers[id]!.values.push(name);
        assignment.set(name, id);
      } else newBuffer(need, 'intermediate', name);
      live += need;
    }
    peak = Math.max(peak, fixed + live);
    for (const name of endsAt[i]!) {
      free.push(assignment.get(name)!);
      live -= byName.get(name)!.bytes;
    }
  });
  const totalBytes = buffers.reduce((s, b) => s + b.bytes, 0);
  const unsharedBytes = values.filter((v) => v.role === 'intermediate' && first.has(v.name)).reduce((s, v) => s + v.bytes, 0);
  return { buffers, assignment, totalBytes, peakLiveBytes: peak, unsharedBytes };
}
