// The CPU harness for CUDA kernels (backends/cuda/cpu): hand-written kernels compiled with g++
// against cuda_cpu.h, run in forward, reverse and random fiber order and checked against a JS
// reference; a missing barrier and barrier deadlocks must be exposed; one AddressSanitizer +
// UBSan build runs a kernel and catches an out-of-bounds read. Run alone with
// `node --import tsx test/run.ts cuda/harness`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCpu, runCpu, type FiberOrder, type RunResult } from '../../backends/cuda/cpu/build.ts';

const ORDERS: FiberOrder[] = ['forward', 'reverse', 'random'];

const SOURCE = String.raw`
#include "lathe_cuda_compat.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define CHECK(x)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "CUDA error %s at line %d: %s\n", cudaGetErrorName(e_), __LINE__,      \
                   cudaGetErrorString(e_));                                                        \
      std::exit(3);                                                                                \
    }                                                                                              \
  } while (0)

static std::string g_dir;
template <class T> static std::vector<T> load(const char* name) {
  std::string p = g_dir + "/" + name + ".bin";
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) { std::fprintf(stderr, "cannot open %s\n", p.c_str()); std::exit(2); }
  std::fseek(f, 0, SEEK_END);
  long bytes = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  std::vector<T> v(static_cast<size_t>(bytes) / sizeof(T));
  if (std::fread(v.data(), sizeof(T), v.size(), f) != v.size()) std::exit(2);
  std::fclose(f);
  return v;
}
template <class T> static void save(const char* name, const std::vector<T>& v) {
  std::string p = g_dir + "/" + name + ".bin";
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f || std::fwrite(v.data(), sizeof(T), v.size(), f) != v.size()) std::exit(2);
  std::fclose(f);
}
template <class T> static T* to_device(const std::vector<T>& h) {
  T* d = nullptr;
  CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
  CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}
template <class T> static std::vector<T> from_device(const T* d, size_t n) {
  std::vector<T> h(n);
  CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}
template <class T> static T* device_zeros(size_t n) {
  T* d = nullptr;
  CHECK(cudaMalloc(&d, n * sizeof(T)));
  CHECK(cudaMemset(d, 0, n * sizeof(T)));
  return d;
}

// ---- tiled matmul: C[M,N] = A[M,K] B[K,N] ----
#define TILE 16
extern "C" __global__ void __launch_bounds__(256) k_matmul(const float* __restrict__ a, const float* __restrict__ b,
                                                           float* __restrict__ c, unsigned M, unsigned K, unsigned N) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  const unsigned tx = threadIdx.x, ty = threadIdx.y;
  const unsigned row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (unsigned k0 = 0; k0 < K; k0 += TILE) {
    As[ty][tx] = (row < M && k0 + tx < K) ? a[row * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? b[(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (unsigned k = 0; k < TILE; ++k) acc = __fmaf_rn(As[ty][k], Bs[k][tx], acc);
    __syncthreads();
  }
  if (row < M && col < N) c[row * N + col] = acc;
}

// ---- row softmax: one block of 128 per row, warp shuffles + a shared partial per warp ----
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return __shfl_sync(0xffffffffu, v, 0);
}
extern "C" __global__ void __launch_bounds__(128) k_softmax(const float* __restrict__ x, float* __restrict__ y, unsigned cols) {
  __shared__ float part[32];
  __shared__ float stat;
  const float* row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* out = y + static_cast<size_t>(blockIdx.x) * cols;
  const unsigned t = threadIdx.x, lane = t & 31, warp = t >> 5, nwarps = blockDim.x / 32;
  float m = -INFINITY;
  for (unsigned c = t; c < cols; c += blockDim.x) m = fmaxf(m, row[c]);
  m = warp_max(m);
  if (lane == 0) part[warp] = m;
  __syncthreads();
  if (warp == 0) {
    float v = warp_max(lane < nwarps ? part[lane] : -INFINITY);
    if (lane == 0) stat = v;
  }
  __syncthreads();
  m = stat;
  float s = 0.0f;
  for (unsigned c = t; c < cols; c += blockDim.x) s += __expf(row[c] - m);
  s = warp_sum(s);
  if (lane == 0) part[warp] = s;
  __syncthreads();
  if (warp == 0) {
    float v = warp_sum(lane < nwarps ? part[lane] : 0.0f);
    if (lane == 0) stat = v;
  }
  __syncthreads();
  const float inv = __fdividef(1.0f, stat);
  for (unsigned c = t; c < cols; c += blockDim.x) out[c] = __expf(row[c] - m) * inv;
}

// ---- tree reduction in dynamic shared memory; __syncthreads_count counts positives ----
extern "C" __global__ void __launch_bounds__(256) k_reduce(const float* __restrict__ x, float* __restrict__ partial,
                                                           int* __restrict__ positives, unsigned n) {
  CUDA_DYNAMIC_SHARED(float, s);
  const unsigned t = threadIdx.x;
  const unsigned i = blockIdx.x * blockDim.x * 2 + t;
  float v = 0.0f;
  if (i < n) v += x[i];
  if (i + blockDim.x < n) v += x[i + blockDim.x];
  s[t] = v;
  const int pos = __syncthreads_count(v > 0.0f);
  for (unsigned h = blockDim.x / 2; h > 0; h >>= 1) {
    if (t < h) s[t] += s[t + h];
    __syncthreads();
  }
  if (t == 0) {
    partial[blockIdx.x] = s[0];
    positives[blockIdx.x] = pos;
  }
}

// ---- histogram with shared and global atomics, plus ballot ----
extern "C" __global__ void __launch_bounds__(256) k_hist(const int* __restrict__ v, unsigned* __restrict__ bins,
                                                         float* __restrict__ total, unsigned long long* __restrict__ big,
                                                         int* __restrict__ maxv, unsigned* __restrict__ over, unsigned n) {
  __shared__ unsigned local[64];
  for (unsigned b = threadIdx.x; b < 64; b += blockDim.x) local[b] = 0;
  __syncthreads();
  // n is a multiple of the grid's thread count, so whole warps stay in the loop together.
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int x = v[i];
    atomicAdd(&local[x & 63], 1u);
    atomicAdd(total, static_cast<float>(x & 63));
    atomicAdd(big, static_cast<unsigned long long>(x));
    atomicMax(maxv, x);
    const unsigned ballot = __ballot_sync(0xffffffffu, x >= 500);
    if ((threadIdx.x & 31) == 0) atomicAdd(over, static_cast<unsigned>(__popc(ballot)));
  }
  __syncthreads();
  for (unsigned b = threadIdx.x; b < 64; b += blockDim.x)
    if (local[b]) atomicAdd(&bins[b], local[b]);
}

// ---- __half / bfloat16 conversions ----
extern "C" __global__ void __launch_bounds__(256) k_convert(const float* __restrict__ x, unsigned short* __restrict__ h,
                                                            unsigned short* __restrict__ bf, unsigned n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    h[i] = __half_as_ushort(__float2half_rn(x[i]));
    bf[i] = __bfloat16_as_ushort(__float2bfloat16(x[i]));
  }
}
extern "C" __global__ void __launch_bounds__(256) k_roundtrip(unsigned short* __restrict__ hr, unsigned short* __restrict__ br,
                                                              float* __restrict__ hf, float* __restrict__ bff) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const float f = __half2float(__ushort_as_half(static_cast<unsigned short>(i)));
  hf[i] = f;
  hr[i] = __half_as_ushort(__float2half(f));
  const float g = __bfloat162float(__ushort_as_bfloat16(static_cast<unsigned short>(i)));
  bff[i] = g;
  br[i] = __bfloat16_as_ushort(__float2bfloat16_rn(g));
}

// ---- a missing barrier: thread t reads s[t-1], written by another thread ----
extern "C" __global__ void __launch_bounds__(256) k_shift_nosync(const float* __restrict__ x, float* __restrict__ y, unsigned n) {
  __shared__ float s[256];
  const unsigned t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  s[t] = i < n ? x[i] : 0.0f;
  // A __syncthreads() belongs here.
  if (i < n) y[i] = s[t] + (t > 0 ? s[t - 1] : 0.0f);
}

// ---- deadlocks ----
extern "C" __global__ void __launch_bounds__(128) k_barrier_in_branch(float* __restrict__ y) {
  if (threadIdx.x < 64) __syncthreads();
  y[threadIdx.x] = 1.0f;
}
extern "C" __global__ void __launch_bounds__(128) k_barrier_two_sites(float* __restrict__ y) {
  if (threadIdx.x < 64) {
    y[threadIdx.x] = 1.0f;
    __syncthreads();
  } else {
    __syncthreads();
    y[threadIdx.x] = 2.0f;
  }
}
extern "C" __global__ void __launch_bounds__(64) k_shfl_in_branch(float* __restrict__ y) {
  float v = static_cast<float>(threadIdx.x);
  if ((threadIdx.x & 31) < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  y[threadIdx.x] = v;
}

// ---- out of bounds: global read past the end (ASan), shared index past the end (UBSan) ----
extern "C" __global__ void __launch_bounds__(64) k_read_past_end(const float* __restrict__ x, float* __restrict__ y, unsigned n) {
  const unsigned i = threadIdx.x;
  if (i <= n) y[i] = x[i];  // should be i < n
}
extern "C" __global__ void __launch_bounds__(64) k_shared_past_end(float* __restrict__ y) {
  __shared__ float s[32];
  s[threadIdx.x] = 1.0f;  // blockDim 33
  __syncthreads();
  y[threadIdx.x] = s[threadIdx.x];
}

extern "C" __global__ void __launch_bounds__(64) k_fill(float* __restrict__ y, unsigned n) {
  CUDA_DYNAMIC_SHARED(float, s);
  if (threadIdx.x < n) s[threadIdx.x] = 1.0f;
  y[threadIdx.x] = s[0];
}

static void report_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  std::printf("%s: %s\n", what, cudaGetErrorName(e));
  if (e != cudaSuccess) {
    // A kernel failure is sticky, as on the device.
    std::printf("after: %s\n", cudaGetErrorName(cudaDeviceSynchronize()));
    std::exit(4);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: prog case dir [args]\n"); return 2; }
  const std::string c = argv[1];
  g_dir = argv[2];
  if (c == "matmul") {
    const unsigned M = std::atoi(argv[3]), K = std::atoi(argv[4]), N = std::atoi(argv[5]);
    float* a = to_device(load<float>("a"));
    float* b = to_device(load<float>("b"));
    float* d = nullptr;
    CHECK(cudaMalloc(&d, M * N * sizeof(float)));
    CUDA_LAUNCH(k_matmul, dim3((N + TILE - 1) / TILE, (M + TILE - 1) / TILE), dim3(TILE, TILE), 0, 0, a, b, d, M, K, N);
    report_launch("matmul");
    save("c", from_device(d, M * N));
  } else if (c == "softmax") {
    const unsigned rows = std::atoi(argv[3]), cols = std::atoi(argv[4]);
    float* x = to_device(load<float>("x"));
    float* y = nullptr;
    CHECK(cudaMalloc(&y, rows * cols * sizeof(float)));
    cudaStream_t st;
    CHECK(cudaStreamCreate(&st));
    CUDA_LAUNCH(k_softmax, rows, 128, 0, st, x, y, cols);
    report_launch("softmax");
    CHECK(cudaStreamSynchronize(st));
    CHECK(cudaStreamDestroy(st));
    save("y", from_device(y, rows * cols));
  } else if (c == "reduce") {
    const std::vector<float> hx = load<float>("x");
    const unsigned n = hx.size(), threads = 256, blocks = (n + 2 * threads - 1) / (2 * threads);
    float* x = to_device(hx);
    float* partial = nullptr;
    int* pos = nullptr;
    CHECK(cudaMalloc(&partial, blocks * sizeof(float)));
    CHECK(cudaMalloc(&pos, blocks * sizeof(int)));
    CUDA_LAUNCH(k_reduce, blocks, threads, threads * sizeof(float), 0, x, partial, pos, n);
    report_launch("reduce");
    save("partial", from_device(partial, blocks));
    save("positives", from_device(pos, blocks));
  } else if (c == "hist") {
    const std::vector<int> hv = load<int>("v");
    int* v = to_device(hv);
    unsigned* bins = device_zeros<unsigned>(64);
    float* total = device_zeros<float>(1);
    unsigned long long* big = device_zeros<unsigned long long>(1);
    int* maxv = device_zeros<int>(1);
    unsigned* over = device_zeros<unsigned>(1);
    CUDA_LAUNCH(k_hist, 8, 256, 0, 0, v, bins, total, big, maxv, over, static_cast<unsigned>(hv.size()));
    report_launch("hist");
    save("bins", from_device(bins, 64));
    save("total", from_device(total, 1));
    save("big", from_device(big, 1));
    save("max", from_device(maxv, 1));
    save("over", from_device(over, 1));
  } else if (c == "convert") {
    const std::vector<float> hx = load<float>("x");
    const unsigned n = hx.size();
    float* x = to_device(hx);
    unsigned short *h = nullptr, *bf = nullptr, *hr = nullptr, *br = nullptr;
    float *hf = nullptr, *bff = nullptr;
    CHECK(cudaMalloc(&h, n * 2));
    CHECK(cudaMalloc(&bf, n * 2));
    CHECK(cudaMalloc(&hr, 65536 * 2));
    CHECK(cudaMalloc(&br, 65536 * 2));
    CHECK(cudaMalloc(&hf, 65536 * 4));
    CHECK(cudaMalloc(&bff, 65536 * 4));
    CUDA_LAUNCH(k_convert, (n + 255) / 256, 256, 0, 0, x, h, bf, n);
    CUDA_LAUNCH(k_roundtrip, 256, 256, 0, 0, hr, br, hf, bff);
    report_launch("convert");
    save("h", from_device(h, n));
    save("bf", from_device(bf, n));
    save("hr", from_device(hr, 65536));
    save("br", from_device(br, 65536));
    save("hf", from_device(hf, 65536));
    save("bff", from_device(bff, 65536));
  } else if (c == "shift_nosync") {
    const std::vector<float> hx = load<float>("x");
    const unsigned n = hx.size();
    float* x = to_device(hx);
    float* y = nullptr;
    CHECK(cudaMalloc(&y, n * sizeof(float)));
    CUDA_LAUNCH(k_shift_nosync, (n + 255) / 256, 256, 0, 0, x, y, n);
    report_launch("shift_nosync");
    save("y", from_device(y, n));
  } else if (c == "barrier_in_branch" || c == "barrier_two_sites" || c == "shfl_in_branch") {
    float* y = device_zeros<float>(128);
    if (c == "barrier_in_branch") CUDA_LAUNCH(k_barrier_in_branch, 2, 128, 0, 0, y);
    else if (c == "barrier_two_sites") CUDA_LAUNCH(k_barrier_two_sites, 2, 128, 0, 0, y);
    else CUDA_LAUNCH(k_shfl_in_branch, 2, 64, 0, 0, y);
    report_launch(c.c_str());
  } else if (c == "read_past_end") {
    const unsigned n = 40;
    float* x = to_device(std::vector<float>(n, 1.0f));
    float* y = device_zeros<float>(64);
    CUDA_LAUNCH(k_read_past_end, 1, 64, 0, 0, x, y, n);
    report_launch("read_past_end");
  } else if (c == "shared_past_end") {
    float* y = device_zeros<float>(33);
    CUDA_LAUNCH(k_shared_past_end, 1, 33, 0, 0, y);
    report_launch("shared_past_end");
  } else if (c == "config") {
    // Invalid launches fail (not sticky); unwritten dynamic shared memory reads NaN; a launch over
    // 48 KiB of dynamic shared memory needs cudaFuncSetAttribute.
    float* y = device_zeros<float>(64);
    CUDA_LAUNCH(k_fill, 1, 2048, 0, 0, y, 0u);
    std::printf("block 2048: %s\n", cudaGetErrorName(cudaGetLastError()));
    CUDA_LAUNCH(k_fill, 1, 64, 64 * 1024, 0, y, 0u);
    std::printf("smem 64K: %s\n", cudaGetErrorName(cudaGetLastError()));
    CHECK(cudaFuncSetAttribute(k_fill, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
    CUDA_LAUNCH(k_fill, 1, 64, 64 * 1024, 0, y, 0u);
    std::printf("smem 64K with attribute: %s\n", cudaGetErrorName(cudaGetLastError()));
    std::vector<float> h = from_device(y, 64);
    std::printf("unwritten: %s\n", std::isnan(h[0]) ? "nan" : "number");
    CUDA_LAUNCH(k_fill, 1, 64, 256, 0, y, 64u);
    h = from_device(y, 64);
    std::printf("written: %g\n", h[63]);
    float* d = nullptr;
    CHECK(cudaMalloc(&d, 16));
    std::printf("memcpy past allocation: %s\n", cudaGetErrorName(cudaMemcpy(d, h.data(), 20, cudaMemcpyHostToDevice)));
    CHECK(cudaFree(d));
  } else {
    std::fprintf(stderr, "unknown case %s\n", c.c_str());
    return 2;
  }
  CHECK(cudaDeviceSynchronize());
  return 0;
}
`;

// ---- helpers ----
let dirs: string[] = [];
function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lathe-cuda-cpu-'));
  dirs.push(d);
  return d;
}
const write = (dir: string, name: string, data: ArrayBufferView) =>
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
function read<T>(dir: string, name: string, ctor: { new (b: ArrayBuffer): T }): T {
  const b = readFileSync(join(dir, `${name}.bin`));
  return new ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const randomF32 = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

function ok(r: RunResult, what: string) {
  assert.ok(!r.timedOut, `${what}: timed out`);
  assert.is(r.status, 0, `${what}: exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
}
function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (1 + Math.abs(want[i])))) assert.unreachable(`${what}: [${i}] = ${got[i]}, want ${want[i]}`);
  }
}

let exe = '';
let asanExe = '';
const build = () => (exe ||= compileCpu(SOURCE));
const buildAsan = () => (asanExe ||= compileCpu(SOURCE, { sanitize: true }));

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

test('tiled f32 matmul (37x45 by 45x29, tile 16) matches in every fiber order', () => {
  const [M, K, N] = [37, 45, 29];
  const a = randomF32(M * K), b = randomF32(K * N);
  const want = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += a[i * K + k] * b[k * N + j];
  for (const order of ORDERS) {
    const dir = workDir();
    write(dir, 'a', a);
    write(dir, 'b', b);
    ok(runCpu(build(), ['matmul', dir, String(M), String(K), String(N)], { order, seed: 7 }), `matmul ${order}`);
    close(read(dir, 'c', Float32Array), want, 1e-5, `matmul ${order}`);
  }
});

test('warp-shuffle row softmax (blockDim 128, shared partials) matches in every fiber order', () => {
  const [rows, cols] = [10, 300];
  const x = randomF32(rows * cols, 8);
  const want = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    for (let c = 0; c < cols; c++) want[r * cols + c] = Math.exp(row[c] - m) / s;
  }
  for (const order of ORDERS) {
    const dir = workDir();
    write(dir, 'x', x);
    ok(runCpu(build(), ['softmax', dir, String(rows), String(cols)], { order, seed: 3 }), `softmax ${order}`);
    close(read(dir, 'y', Float32Array), want, 1e-5, `softmax ${order}`);
  }
});

test('dynamic-shared-memory tree reduction and __syncthreads_count match in every fiber order', () => {
  const n = 5000;
  const x = randomF32(n);
  const blocks = Math.ceil(n / 512);
  const want = new Float64Array(blocks), wantPos = new Int32Array(blocks);
  for (let b = 0; b < blocks; b++)
    for (let t = 0; t < 256; t++) {
      let v = 0;
      for (const i of [b * 512 + t, b * 512 + t + 256]) if (i < n) v += x[i];
      want[b] += v;
      if (Math.fround(v) > 0) wantPos[b]++;
    }
  for (const order of ORDERS) {
    const dir = workDir();
    write(dir, 'x', x);
    ok(runCpu(build(), ['reduce', dir], { order, seed: 11 }), `reduce ${order}`);
    close(read(dir, 'partial', Float32Array), want, 1e-5, `reduce ${order}`);
    assert.equal(Array.from(read(dir, 'positives', Int32Array)), Array.from(wantPos), `positives ${order}`);
  }
});

test('atomicAdd histogram (shared and global atomics, 4 workers) and ballot are exact', () => {
  const n = 8 * 256 * 5;
  const v = Int32Array.from({ length: n }, () => Math.floor(rand() * 1000));
  const bins = new Uint32Array(64);
  let total = 0, big = 0, max = 0, over = 0;
  for (const x of v) {
    bins[x & 63]++;
    total += x & 63;
    big += x;
    max = Math.max(max, x);
    if (x >= 500) over++;
  }
  for (const order of ORDERS) {
    const dir = workDir();
    write(dir, 'v', v);
    ok(runCpu(build(), ['hist', dir], { order, seed: 5, workers: 4 }), `hist ${order}`);
    assert.equal(Array.from(read(dir, 'bins', Uint32Array)), Array.from(bins), `bins ${order}`);
    assert.is(read(dir, 'total', Float32Array)[0], total, `total ${order}`);
    assert.is(read(dir, 'big', BigUint64Array)[0], BigInt(big), `big ${order}`);
    assert.is(read(dir, 'max', Int32Array)[0], max, `max ${order}`);
    assert.is(read(dir, 'over', Uint32Array)[0], over, `ballot ${order}`);
  }
});

// Reference conversions by value (not by bit tricks): the nearest representable value, ties to even.
function halfValue(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 31, m = bits & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1024 + m) * 2 ** (e - 25);
}
function roundEven(u: number): number {
  const f = Math.floor(u), d = u - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}
function toHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7fff;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundEven(a * 2 ** 24); // 1024 is the smallest normal's bits
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundEven(a / 2 ** (e - 10));
  if (m === 2048) (m = 1024), e++;
  return sign | ((e + 15) << 10) | (m - 1024);
}
function toBf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fff;
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const sign = u & 0x80000000 ? 0x8000 : 0;
  const lo = (u >>> 16) & 0x7fff;
  const val = (bits: number) => (bits >= 0x7f80 ? 2 ** 128 : new Float32Array(new Uint32Array([bits << 16]).buffer)[0]);
  const a = Math.abs(x), dl = a - val(lo), dh = val(lo + 1) - a;
  if (lo >= 0x7f80) return sign | lo; // inf
  return sign | (dh < dl || (dh === dl && lo % 2 === 1) ? lo + 1 : lo);
}

test('__half and __nv_bfloat16 conversions round to nearest even with exact bit layouts', () => {
  const edge = [0, -0, 1, -1, 65504, 65519.99, 65520, 65536, 1e-8, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -14, 2 ** -14 - 2 ** -25,
    1 + 2 ** -11, 1 + 3 * 2 ** -11, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1e-40, -2.5e-7];
  const bits = Uint32Array.from({ length: 4000 }, () => Math.floor(rand() * 2 ** 32));
  const x = new Float32Array(edge.length + bits.length);
  x.set(edge);
  x.set(new Float32Array(bits.buffer), edge.length);
  const dir = workDir();
  write(dir, 'x', x);
  ok(runCpu(build(), ['convert', dir], { order: 'random' }), 'convert');
  const h = read(dir, 'h', Uint16Array), bf = read(dir, 'bf', Uint16Array);
  for (let i = 0; i < x.length; i++) {
    if (h[i] !== toHalfBits(x[i])) assert.unreachable(`half(${x[i]}) = 0x${h[i].toString(16)}, want 0x${toHalfBits(x[i]).toString(16)}`);
    if (bf[i] !== toBf16Bits(x[i])) assert.unreachable(`bf16(${x[i]}) = 0x${bf[i].toString(16)}, want 0x${toBf16Bits(x[i]).toString(16)}`);
  }
  const hr = read(dir, 'hr', Uint16Array), br = read(dir, 'br', Uint16Array), hf = read(dir, 'hf', Float32Array);
  const bff = read(dir, 'bff', Float32Array);
  for (let b = 0; b < 65536; b++) {
    const hv = halfValue(b);
    if (!(Object.is(hf[b], hv) || (Number.isNaN(hv) && Number.isNaN(hf[b])))) assert.unreachable(`half 0x${b.toString(16)} -> ${hf[b]}, want ${hv}`);
    const isNanH = (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;
    assert.is(hr[b], isNanH ? 0x7fff : b, `half round trip 0x${b.toString(16)}`);
    const isNanB = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
    assert.is(br[b], isNanB ? 0x7fff : b, `bf16 round trip 0x${b.toString(16)}`);
    if (!isNanB) assert.is(new Uint32Array(new Float32Array([bff[b]]).buffer)[0], b << 16 >>> 0, `bf16 0x${b.toString(16)} to float`);
  }
});

test('a missing __syncthreads is right in forward order and exposed in reverse and random order', () => {
  const n = 1000;
  const x = randomF32(n);
  const want = Float64Array.from(x, (v, i) => v + (i % 256 > 0 ? x[i - 1] : 0));
  const results: Record<string, boolean> = {};
  for (const order of ORDERS) {
    const dir = workDir();
    write(dir, 'x', x);
    ok(runCpu(build(), ['shift_nosync', dir], { order, seed: 1 }), `shift ${order}`);
    const y = read(dir, 'y', Float32Array);
    results[order] = Array.from(y).every((v, i) => Math.abs(v - want[i]) <= 1e-6);
  }
  assert.equal(results, { forward: true, reverse: false, random: false });
});

test('a barrier in divergent code is reported, not a hang', () => {
  const cases: [string, RegExp][] = [
    ['barrier_in_branch', /deadlock: .*__syncthreads/],
    ['barrier_two_sites', /divergent __syncthreads: threadIdx \(\d+,0,0\) reached .*:\d+ while \d+ thread\(s\) wait at .*:\d+/],
    ['shfl_in_branch', /deadlock: .*__shfl_xor_sync/],
  ];
  for (const [name, message] of cases)
    for (const order of ORDERS) {
      const r = runCpu(build(), [name, workDir()], { order, timeoutMs: 30_000 });
      assert.ok(!r.timedOut, `${name} ${order}: hung`);
      assert.is(r.status, 4, `${name} ${order}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, message, `${name} ${order}`);
      assert.match(r.stderr, new RegExp(`lathe-cuda-cpu: kernel 'k_${name}' \\(grid \\(2,1,1\\), block \\(\\d+,1,1\\)\\), block \\([01],0,0\\): `));
      assert.match(r.stdout, new RegExp(`${name}: cudaErrorLaunchFailure\\nafter: cudaErrorLaunchFailure`));
    }
});

test('launch checks: invalid configuration, dynamic shared limit, NaN-filled shared memory, copy bounds', () => {
  const r = runCpu(build(), ['config', workDir()]);
  ok(r, 'config');
  assert.equal(r.stdout.split('\n'), [
    'block 2048: cudaErrorInvalidConfiguration',
    'smem 64K: cudaErrorInvalidValue',
    'smem 64K with attribute: cudaSuccess',
    'unwritten: nan',
    'written: 1',
    'memcpy past allocation: cudaErrorInvalidValue',
    '',
  ]);
  assert.match(r.stderr, /launch of kernel 'k_fill' with grid \(1,1,1\), block \(2048,1,1\): invalid configuration/);
});

test('AddressSanitizer + UBSan build: matmul passes, global and shared out-of-bounds are caught', () => {
  const [M, K, N] = [37, 45, 29];
  const a = randomF32(M * K), b = randomF32(K * N);
  const want = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += a[i * K + k] * b[k * N + j];
  const dir = workDir();
  write(dir, 'a', a);
  write(dir, 'b', b);
  ok(runCpu(buildAsan(), ['matmul', dir, String(M), String(K), String(N)], { order: 'random', workers: 2 }), 'asan matmul');
  close(read(dir, 'c', Float32Array), want, 1e-5, 'asan matmul');
  const g = runCpu(buildAsan(), ['read_past_end', workDir()]);
  assert.is.not(g.status, 0);
  assert.match(g.stderr, /AddressSanitizer: heap-buffer-overflow/);
  assert.match(g.stderr, /k_read_past_end/);
  const s = runCpu(buildAsan(), ['shared_past_end', workDir()]);
  assert.is.not(s.status, 0);
  assert.match(s.stderr, /index 32 out of bounds for type 'float \[32\]'/);
});

test('compileCpu: cached by content, compile errors carry the first g++ error lines', () => {
  const t0 = performance.now();
  assert.is(compileCpu(SOURCE), build());
  assert.ok(performance.now() - t0 < 2000, 'cache hit');
  try {
    compileCpu('#include "lathe_cuda_compat.h"\nextern "C" __global__ void k(float* y) { y[threadIdx.x] = undefined_name; }\nint main() {}\n');
    assert.unreachable('compiled');
  } catch (e) {
    assert.instance(e, Error);
    assert.match((e as Error).message, /error: 'undefined_name' was not declared in this scope/);
  }
});

test.run();
