// The CUDA artifacts of a lowered program, as text: `kernels.cuh` (every distinct kernel once),
// `model.cu` (the host launcher behind the C API), `lathe_model.h` (that API), `build.sh` (nvcc
// for sm_80 and sm_90 by default, warnings as errors), the weights layout and `manifest.json`.
// The launcher compiles with nvcc for a GPU, and with g++ against backends/cuda/cpu/cuda_cpu.h
// for the CPU harness — the same text both ways (lathe_cuda_compat.h picks).
import type { DType } from '../../ir/dtype.ts';
import type { SafetensorsEntry, SafetensorsLayout } from '../safetensors.ts';
import { constEntry, safetensorsLayout } from '../safetensors.ts';
import { rootOf } from '../lower-core.ts';
import type { CudaKernel } from './kernel.ts';
import { C_TYPE } from './kernel.ts';
import type { CudaProgram, CudaTensor } from './lower.ts';

export const CUDA_MANIFEST_FORMAT = 'lathe-cuda/1';

export interface CudaManifestTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: number;
  readonly buffer: number;
}

export interface CudaManifest {
  readonly format: typeof CUDA_MANIFEST_FORMAT;
  readonly model: string;
  readonly dims: Readonly<Record<string, number>>;
  readonly inputs: readonly CudaManifestTensor[];
  readonly outputs: readonly CudaManifestTensor[];
  readonly weights: { readonly file: string; readonly tensors: readonly (CudaManifestTensor & { readonly begin: number; readonly end: number })[] };
  readonly buffers: readonly { readonly id: number; readonly bytes: number; readonly role: string; readonly values: readonly string[] }[];
  readonly kernels: readonly { readonly entry: string; readonly ops: readonly string[] }[];
  readonly launches: readonly {
    readonly name: string;
    readonly node: string;
    readonly op: string;
    readonly entry: string;
    readonly grid: readonly number[];
    readonly block: readonly number[];
    readonly sharedBytes: number;
    readonly args: readonly { readonly value: string; readonly buffer: number }[];
  }[];
  readonly totalBytes: number;
  readonly peakBytes: number;
  readonly archs: readonly number[];
}

export interface CudaSources {
  readonly 'kernels.cuh': string;
  readonly 'model.cu': string;
  readonly 'lathe_model.h': string;
  readonly 'build.sh': string;
}

export interface CudaArtifacts {
  readonly manifest: CudaManifest;
  readonly sources: CudaSources;
  readonly weights: readonly SafetensorsEntry[];
  readonly layout: SafetensorsLayout;
  readonly program: CudaProgram;
}

export const WEIGHTS_FILE = 'weights.safetensors';

/** C string literal of s (names in messages). */
const cstr = (s: string) => JSON.stringify(s).replace(/\?/g, '\\?');

export function emitCuda(program: CudaProgram, options: { model: string; dims?: Record<string, number>; archs?: readonly number[] }): CudaArtifacts {
  const archs = options.archs ?? [80, 90];
  const bufferOf = (value: string) => program.plan.assignment.get(rootOf(program, value))!;
  const weights = program.constants.map((c) => constEntry(c.name, c.tensor));
  const layout = safetensorsLayout(weights, { format: 'lathe-cuda', model: options.model });
  const weightInfo = new Map(layout.tensors.map((t) => [t.name, t]));

  const launches = program.kernels.map((k) => ({
    name: k.name,
    node: k.node,
    op: k.op,
    entry: k.entry,
    grid: [...k.grid],
    block: [...k.block],
    sharedBytes: k.sharedBytes,
    args: k.bindings.map((b) => ({ value: b.value, buffer: bufferOf(b.value) })),
  }));
  const unique = new Map<string, CudaKernel>();
  for (const k of program.kernels) if (!unique.has(k.entry)) unique.set(k.entry, k);
  const tensorOf = (t: CudaTensor): CudaManifestTensor => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes, buffer: bufferOf(t.name) });
  const manifest: CudaManifest = {
    format: CUDA_MANIFEST_FORMAT,
    model: options.model,
    dims: options.dims ?? {},
    inputs: program.inputs.map(tensorOf),
    outputs: program.outputs.map(tensorOf),
    weights: {
      file: WEIGHTS_FILE,
      tensors: program.constants.map((c) => {
        const info = weightInfo.get(c.name)!;
        return { ...tensorOf(program.values.get(c.name)!), begin: info.begin, end: info.end };
      }),
    },
    buffers: program.plan.buffers.map((b) => ({ id: b.id, bytes: b.bytes, role: b.role, values: [...b.values] })),
    kernels: [...unique.values()].map((k) => ({ entry: k.entry, ops: [...new Set(program.kernels.filter((x) => x.entry === k.entry).map((x) => x.op))] })),
    launches,
    totalBytes: program.plan.totalBytes,
    peakBytes: program.plan.peakLiveBytes,
    archs: [...archs],
  };
  return {
    manifest,
    sources: {
      'kernels.cuh': kernelsSource([...unique.values()], options.model),
      'model.cu': launcherSource(program, manifest, layout),
      'lathe_model.h': API_HEADER,
      'build.sh': buildScript(archs),
    },
    weights,
    layout,
    program,
  };
}

function kernelsSource(kernels: readonly CudaKernel[], model: string): string {
  const helpers = [...new Set(kernels.flatMap((k) => k.helpers))];
  return [
    `// Kernels of ${model}, generated by lathe. Each entry's name is a hash of its text.`,
    '#pragma once',
    '#include "lathe_cuda_compat.h"',
    '#include <stdint.h>',
    '',
    ...helpers.map((h) => `${h.trim()}\n`),
    ...kernels.map((k) => `// ${k.name} (${k.op})\n${k.code}`),
  ].join('\n');
}

export const API_HEADER = `// The C API of a model compiled by lathe (generated; see manifest.json for its tensors).
// Every call returns a status; the text of the last error is lathe_last_error() (per thread).
// Inputs and outputs are passed in manifest order, as contiguous row-major arrays of their
// dtypes (bool as one byte). No call exits the process.
#pragma once
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct lathe_model lathe_model;

typedef enum lathe_status {
  LATHE_OK = 0,
  LATHE_ERR_IO = 1,      /* the weights file cannot be read */
  LATHE_ERR_FORMAT = 2,  /* the weights file is not the one this model was compiled with */
  LATHE_ERR_CUDA = 3,    /* a CUDA call or kernel launch failed (the text names it) */
  LATHE_ERR_ARG = 4      /* a null pointer or a bad argument */
} lathe_status;

/** Loads the weights (weights.safetensors) onto the current device. */
lathe_status lathe_model_create(const char* weights_path, lathe_model** out);
/** Runs once. on_device = 0: inputs/outputs are host arrays; 1: device pointers. Synchronous. */
lathe_status lathe_model_run(lathe_model* model, const void* const* inputs, void* const* outputs, int on_device);
void lathe_model_destroy(lathe_model* model);
const char* lathe_last_error(void);

int lathe_model_num_inputs(void);
int lathe_model_num_outputs(void);
/** Bytes of input/output i (elements × element size). */
size_t lathe_model_input_bytes(int i);
size_t lathe_model_output_bytes(int i);
const char* lathe_model_input_name(int i);
const char* lathe_model_output_name(int i);

#ifdef __cplusplus
}
#endif
`;

function buildScript(archs: readonly number[]): string {
  return `#!/bin/sh
# Builds liblathe_model.so from model.cu with nvcc, warnings as errors.
#   ARCHS="80 90" (default: ${archs.join(' ')}) picks the GPUs (sm_XX); NVCC and NVCC_FLAGS override.
set -eu
cd "$(dirname "$0")"
ARCHS="\${ARCHS:-${archs.join(' ')}}"
GENCODE=""
for a in $ARCHS; do GENCODE="$GENCODE -gencode arch=compute_$a,code=sm_$a"; done
# shellcheck disable=SC2086
"\${NVCC:-nvcc}" -std=c++17 -O3 -Xcompiler -fPIC,-Wall,-Wextra,-Werror -shared --Werror all-warnings $GENCODE \${NVCC_FLAGS:-} -I. -o liblathe_model.so model.cu
echo "built $(pwd)/liblathe_model.so for sm_$(echo $ARCHS | sed 's/ /, sm_/g')"
`;
}

function launcherSource(p: CudaProgram, m: CudaManifest, layout: SafetensorsLayout): string {
  const nb = Math.max(1, p.plan.buffers.length);
  const sizes = p.plan.buffers.map((b) => `${b.bytes}u`).join(', ') || '0u';
  const weightRows = m.weights.tensors.map((w) => `  {${cstr(w.name)}, ${w.begin}u, ${w.end}u, ${w.buffer}},`);
  const io = (list: readonly CudaManifestTensor[], what: string) => [
    `static const int k${what}Count = ${list.length};`,
    `static const size_t k${what}Bytes[${Math.max(1, list.length)}] = {${list.map((t) => `${t.bytes}u`).join(', ') || '0u'}};`,
    `static const int k${what}Buffer[${Math.max(1, list.length)}] = {${list.map((t) => t.buffer).join(', ') || '0'}};`,
    `static const char* const k${what}Name[${Math.max(1, list.length)}] = {${list.map((t) => cstr(t.name)).join(', ') || '""'}};`,
  ];
  const launches = p.kernels.map((k) => {
    const args = k.bindings.map((b) => `reinterpret_cast<${b.access === 'read' ? 'const ' : ''}${C_TYPE[b.elem]}*>(m->buf[${bufferIndex(p, b.value)}])`);
    return [
      `  CUDA_LAUNCH(${k.entry}, dim3(${k.grid.join(', ')}), dim3(${k.block.join(', ')}), ${k.sharedBytes}, m->stream${args.length ? `, ${args.join(', ')}` : ''});`,
      `  if (launched(m, ${cstr(`${k.name} (${k.op}, node ${k.node})`)}) != LATHE_OK) return LATHE_ERR_CUDA;`,
    ].join('\n');
  });
  return `// Host launcher of ${m.model}, generated by lathe: buffers planned by liveness (${p.plan.buffers.length} buffers,
// ${p.plan.totalBytes} bytes), weights read from ${WEIGHTS_FILE}, ${p.kernels.length} launches per run.
#include "lathe_model.h"
#include "kernels.cuh"
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

const int kBufferCount = ${p.plan.buffers.length};
const size_t kBufferBytes[${nb}] = {${sizes}};
${io(m.inputs, 'Input').join('\n')}
${io(m.outputs, 'Output').join('\n')}

struct WeightSlot { const char* name; size_t begin, end; int buffer; };
const int kWeightCount = ${m.weights.tensors.length};
const WeightSlot kWeights[${Math.max(1, m.weights.tensors.length)}] = {
${weightRows.join('\n') || '  {"", 0u, 0u, 0},'}
};
// The weights file this model was compiled with: its header length and total size.
const unsigned long long kHeaderBytes = ${layout.dataStart - 8}ull;
const unsigned long long kFileBytes = ${layout.totalBytes}ull;

thread_local char g_error[1024];

void set_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
}

}  // namespace

struct lathe_model {
  unsigned char* buf[${nb}];
  cudaStream_t stream;
};

namespace {

[[maybe_unused]] lathe_status launched(lathe_model* m, const char* what) {
  (void)m;
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    set_error("launch of kernel %s failed: %s", what, cudaGetErrorString(e));
    return LATHE_ERR_CUDA;
  }
  return LATHE_OK;
}

lathe_status check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return LATHE_OK;
  set_error("%s: %s", what, cudaGetErrorString(e));
  return LATHE_ERR_CUDA;
}

}  // namespace

extern "C" {

const char* lathe_last_error(void) { return g_error; }
int lathe_model_num_inputs(void) { return kInputCount; }
int lathe_model_num_outputs(void) { return kOutputCount; }
size_t lathe_model_input_bytes(int i) { return i >= 0 && i < kInputCount ? kInputBytes[i] : 0; }
size_t lathe_model_output_bytes(int i) { return i >= 0 && i < kOutputCount ? kOutputBytes[i] : 0; }
const char* lathe_model_input_name(int i) { return i >= 0 && i < kInputCount ? kInputName[i] : nullptr; }
const char* lathe_model_output_name(int i) { return i >= 0 && i < kOutputCount ? kOutputName[i] : nullptr; }

void lathe_model_destroy(lathe_model* m) {
  if (!m) return;
  for (int i = 0; i < kBufferCount; i++) if (m->buf[i]) cudaFree(m->buf[i]);
  if (m->stream) cudaStreamDestroy(m->stream);
  delete m;
}

lathe_status lathe_model_create(const char* weights_path, lathe_model** out) {
  if (!out) { set_error("lathe_model_create: out is null"); return LATHE_ERR_ARG; }
  *out = nullptr;
  std::vector<unsigned char> data;
  if (kWeightCount > 0) {
    if (!weights_path) { set_error("lathe_model_create: weights_path is null"); return LATHE_ERR_ARG; }
    FILE* f = std::fopen(weights_path, "rb");
    if (!f) { set_error("%s: cannot open the weights file", weights_path); return LATHE_ERR_IO; }
    unsigned char head[8];
    unsigned long long header = 0;
    bool ok = std::fread(head, 1, 8, f) == 8;
    for (int i = 7; i >= 0; i--) header = (header << 8) | head[i];
    if (ok && std::fseek(f, 0, SEEK_END) == 0) {
      long size = std::ftell(f);
      ok = size >= 0 && (unsigned long long)size == kFileBytes && header == kHeaderBytes;
      if (!ok) {
        std::fclose(f);
        set_error("%s: %ld bytes with a %llu-byte header; this model was compiled with a weights file of %llu bytes and a %llu-byte header", weights_path, size, header, kFileBytes, kHeaderBytes);
        return LATHE_ERR_FORMAT;
      }
    }
    data.resize(kFileBytes - 8 - kHeaderBytes);
    ok = ok && std::fseek(f, (long)(8 + kHeaderBytes), SEEK_SET) == 0 && std::fread(data.data(), 1, data.size(), f) == data.size();
    std::fclose(f);
    if (!ok) { set_error("%s: cannot read the weights", weights_path); return LATHE_ERR_IO; }
  }
  lathe_model* m = new lathe_model();
  for (int i = 0; i < kBufferCount; i++) {
    if (check(cudaMalloc(reinterpret_cast<void**>(&m->buf[i]), kBufferBytes[i]), "cudaMalloc") != LATHE_OK) { lathe_model_destroy(m); return LATHE_ERR_CUDA; }
  }
  if (check(cudaStreamCreate(&m->stream), "cudaStreamCreate") != LATHE_OK) { lathe_model_destroy(m); return LATHE_ERR_CUDA; }
  for (int i = 0; i < kWeightCount; i++) {
    const WeightSlot& w = kWeights[i];
    if (w.end > w.begin && check(cudaMemcpy(m->buf[w.buffer], data.data() + w.begin, w.end - w.begin, cudaMemcpyHostToDevice), w.name) != LATHE_OK) {
      lathe_model_destroy(m);
      return LATHE_ERR_CUDA;
    }
  }
  *out = m;
  return LATHE_OK;
}

lathe_status lathe_model_run(lathe_model* m, const void* const* inputs, void* const* outputs, int on_device) {
  if (!m || (kInputCount > 0 && !inputs) || (kOutputCount > 0 && !outputs)) { set_error("lathe_model_run: a null model, inputs or outputs"); return LATHE_ERR_ARG; }
  const cudaMemcpyKind in_kind = on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
  const cudaMemcpyKind out_kind = on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost;
  for (int i = 0; i < kInputCount; i++) {
    if (kInputBytes[i] == 0) continue;
    if (!inputs[i]) { set_error("lathe_model_run: input %d (%s) is null", i, kInputName[i]); return LATHE_ERR_ARG; }
    if (check(cudaMemcpyAsync(m->buf[kInputBuffer[i]], inputs[i], kInputBytes[i], in_kind, m->stream), kInputName[i]) != LATHE_OK) return LATHE_ERR_CUDA;
  }
${launches.join('\n')}
  for (int i = 0; i < kOutputCount; i++) {
    if (kOutputBytes[i] == 0) continue;
    if (!outputs[i]) { set_error("lathe_model_run: output %d (%s) is null", i, kOutputName[i]); return LATHE_ERR_ARG; }
    if (check(cudaMemcpyAsync(outputs[i], m->buf[kOutputBuffer[i]], kOutputBytes[i], out_kind, m->stream), kOutputName[i]) != LATHE_OK) return LATHE_ERR_CUDA;
  }
  return check(cudaStreamSynchronize(m->stream), "running the model");
}

}  // extern "C"
`;
}

function bufferIndex(p: CudaProgram, value: string): number {
  return p.plan.assignment.get(rootOf(p, value))!;
}
