// Uniforms of a kernel packed into one WGSL struct. Scalars are 4-byte fields; arrays (shapes,
// strides) are `array<vec4<T>, ceil(n/4)>`, because a uniform array's element stride must be 16
// bytes, so four values share one element. The struct text and the byte packing are both derived
// from the same list with the same alignment rules, so they cannot disagree.
import type { KernelUniform } from './kernel.ts';

interface Field {
  readonly u: KernelUniform;
  readonly offset: number;
  /** Number of vec4 elements for an array, 0 for a scalar. */
  readonly vecs: number;
}

function layout(uniforms: readonly KernelUniform[]): { fields: Field[]; size: number } {
  const fields: Field[] = [];
  let off = 0;
  for (const u of uniforms) {
    if (Array.isArray(u.value)) {
      off = Math.ceil(off / 16) * 16;
      const vecs = Math.max(1, Math.ceil((u.value as number[]).length / 4));
      fields.push({ u, offset: off, vecs });
      off += vecs * 16;
    } else {
      fields.push({ u, offset: off, vecs: 0 });
      off += 4;
    }
  }
  // A uniform struct's size rounds up to its alignment (16 once it holds an array); rounding to
  // 16 always keeps the buffer size valid for either case.
  return { fields, size: Math.max(16, Math.ceil(off / 16) * 16) };
}

/** The WGSL struct `Uniforms` declaring the given uniforms, in order. */
export function uniformStruct(uniforms: readonly KernelUniform[]): string {
  const names = new Set<string>();
  const lines = layout(uniforms).fields.map(({ u, vecs }) => {
    if (names.has(u.name)) throw new Error(`uniform '${u.name}' is declared twice`);
    names.add(u.name);
    return vecs ? `  ${u.name}: array<vec4<${u.type}>, ${vecs}>,` : `  ${u.name}: ${u.type},`;
  });
  return `struct Uniforms {\n${lines.join('\n')}\n};`;
}

/** The bytes of the uniform buffer matching `uniformStruct(uniforms)`. */
export function packUniforms(uniforms: readonly KernelUniform[]): ArrayBuffer {
  const { fields, size } = layout(uniforms);
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const put = (type: KernelUniform['type'], at: number, v: number) => {
    if (type === 'f32') view.setFloat32(at, v, true);
    else if (type === 'i32') view.setInt32(at, v, true);
    else view.setUint32(at, v, true);
  };
  for (const { u, offset } of fields) {
    if (Array.isArray(u.value)) (u.value as number[]).forEach((v, i) => put(u.type, offset + 4 * i, v));
    else put(u.type, offset, u.value as number);
  }
  return buf;
}

/** WGSL reading element `i` of array uniform `name` (`i` a number or a u32 expression). */
export function uniformAt(name: string, i: number | string): string {
  return typeof i === 'number' ? `u.${name}[${i >> 2}][${i & 3}]` : `u.${name}[(${i}) / 4u][(${i}) % 4u]`;
}
