// lathe_cuda_compat.h: the one header generated CUDA source includes.
//
// With nvcc (__CUDACC__) it pulls in the real CUDA runtime and half/bfloat16 headers; with any
// other C++17 compiler it includes cuda_cpu.h, which runs the same kernels on the CPU (each block
// on a worker thread, each CUDA thread a fiber). Two macros hide the only syntax g++ cannot take:
//
//   CUDA_DYNAMIC_SHARED(T, name);   // inside a kernel: T* name points at the dynamic shared memory
//   CUDA_LAUNCH(kernel, grid, block, smemBytes, stream, args...);   // kernel<<<...>>>(args...)
//
// See docs/cuda-cpu.md.
#pragma once

#ifdef __CUDACC__
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#define LATHE_CUDA_GPU 1
// One byte array for every kernel of a translation unit (different element types under one name
// would clash), viewed as T*.
#define CUDA_DYNAMIC_SHARED(T, name)                                        \
  extern __shared__ __align__(16) unsigned char lathe_dynamic_smem_[];     \
  T* name = reinterpret_cast<T*>(lathe_dynamic_smem_)
#define CUDA_LAUNCH(kernel, grid, block, smemBytes, stream, ...) \
  kernel<<<(grid), (block), (smemBytes), (stream)>>>(__VA_ARGS__)
#else
#include "cuda_cpu.h"
#endif
