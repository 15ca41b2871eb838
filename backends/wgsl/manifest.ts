// manifest.json: everything a host needs to run a compiled WGSL model, as plain JSON: the buffers
// (sizes from the buffer plan), where each input, output and weight lies in them, the unique
// kernels (their .wgsl files and binding layout), and the dispatches in order with their bindings,
// packed uniform bytes and workgroup counts. The generated host module embeds it; nothing in it
// refers to lathe, so any WebGPU host (a browser page, Deno, Node) can run the artifacts.
//
// This file holds types only, and no imports: backends/wgsl/host.ts copies these declarations
// into every generated model.ts, so they must stand alone.

export const MANIFEST_FORMAT = 'lathe-wgsl/1';

/** The element type a buffer holds, as the shaders declare it. */
export type StorageElem = 'f32' | 'f16' | 'i32' | 'u32';

/** A model input, output or weight: a graph value stored at `offset` in buffer `buffer`. */
export interface ManifestTensor {
  readonly name: string;
  /** The graph's dtype (e.g. i64 for token ids, stored as i32). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly storage: StorageElem;
  readonly buffer: number;
  /** Byte offset in the buffer. */
  readonly offset: number;
  /** Bytes it occupies: elements × the storage element's size. */
  readonly bytes: number;
}

export interface ManifestBuffer {
  readonly id: number;
  /** Bytes, a multiple of 4. */
  readonly size: number;
  /** What lives in it (for reading the manifest; the host treats all alike). */
  readonly kind: 'input' | 'output' | 'weight' | 'activation' | 'scratch';
  /** The values (or scratch names) placed in it over the run. */
  readonly values: readonly string[];
}

export interface ManifestKernel {
  /** The cache key: kernels with equal keys have equal text. */
  readonly key: string;
  /** Its WGSL file, relative to the artifact folder: `kernels/<op>-<n>.wgsl`. */
  readonly file: string;
  /** Storage bindings @group(0) @binding(i); the uniform struct, if any, follows them. */
  readonly bindings: readonly { readonly access: 'read' | 'read_write'; readonly elem: StorageElem }[];
  readonly hasUniforms: boolean;
}

export interface ManifestBinding {
  readonly buffer: number;
  readonly offset: number;
  readonly size: number;
  /** The graph value (or scratch name) bound. */
  readonly value: string;
}

export interface ManifestDispatch {
  /** `<node>/<what>`, as in error messages and profiles. */
  readonly name: string;
  readonly node: string;
  readonly op: string;
  /** Index into `kernels`. */
  readonly kernel: number;
  readonly bindings: readonly ManifestBinding[];
  /** The uniforms by name (for reading); `uniformData` is what the host uploads. */
  readonly uniforms: Readonly<Record<string, number | readonly number[]>>;
  /** The packed uniform struct as u32 words (bit patterns; f32 fields included). */
  readonly uniformData: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

export interface Manifest {
  readonly format: 'lathe-wgsl/1';
  /** The model's graph name. */
  readonly model: string;
  /** The sizes symbolic dims were given (`--dim batch=1`). */
  readonly dims: Readonly<Record<string, number>>;
  /** Whether kernels use f16 storage (the device must offer `shader-f16`). */
  readonly f16: boolean;
  /** Device features the kernels need. */
  readonly features: readonly string[];
  readonly inputs: readonly ManifestTensor[];
  readonly outputs: readonly ManifestTensor[];
  readonly weights: { readonly file: string; readonly tensors: readonly ManifestTensor[] };
  readonly buffers: readonly ManifestBuffer[];
  readonly kernels: readonly ManifestKernel[];
  /** In the order they run. */
  readonly dispatches: readonly ManifestDispatch[];
  /** Bytes of every buffer together (weights included). */
  readonly totalBytes: number;
  /** The plan's peak bytes live at once: inputs, outputs and weights plus the activations live together. */
  readonly peakBytes: number;
}
