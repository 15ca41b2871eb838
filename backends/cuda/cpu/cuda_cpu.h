// cuda_cpu.h: compile CUDA kernels and their host code with g++ and run them on the CPU.
//
// Model: every block of a launch runs on one worker std::thread (a pool of
// LATHE_CUDA_CPU_WORKERS, default hardware_concurrency); the block's CUDA threads are cooperative
// fibers on that worker, switched by a small x86-64 routine (ucontext elsewhere). A fiber runs
// until it reaches a barrier (__syncthreads, a warp op) or returns; barriers release their fibers
// in the order LATHE_CUDA_CPU_ORDER picks (forward, reverse, random with LATHE_CUDA_CPU_SEED), so a
// missing barrier shows as a wrong result in some order. Deadlocks (barriers in divergent code,
// threads that exit while others wait) are reported as a launch failure, never a hang.
// `__shared__` is `static thread_local`: one block runs per worker at a time, so each running
// block has its own copy; static and dynamic shared memory are refilled with 0xFF bytes before
// every block, so a read of shared memory nobody wrote gives NaN.
//
// Include it through lathe_cuda_compat.h, which picks the real CUDA headers under nvcc.
// Limits and environment variables: docs/cuda-cpu.md.
#pragma once

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "cuda_cpu.h needs C++17"
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <math.h>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(LATHE_CUDA_CPU_UCONTEXT)
#define LATHE_CUDA_CPU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define LATHE_CUDA_CPU_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define LATHE_CUDA_CPU 1

// ---------------------------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static thread_local
// __restrict__ is a g++ keyword already. __noinline__ is not defined: libstdc++ spells
// __attribute__((__noinline__)) and a macro would break it.

// ---------------------------------------------------------------------------------------------
// Vector types
// ---------------------------------------------------------------------------------------------
#define LATHE_CUDA_CPU_VEC2(T, N, A)                                     \
  struct __attribute__((aligned(A), may_alias)) N##2 { T x, y; };       \
  inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }
#define LATHE_CUDA_CPU_VEC3(T, N)                                        \
  struct __attribute__((may_alias)) N##3 { T x, y, z; };                \
  inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }
#define LATHE_CUDA_CPU_VEC4(T, N, A)                                     \
  struct __attribute__((aligned(A), may_alias)) N##4 { T x, y, z, w; }; \
  inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }

LATHE_CUDA_CPU_VEC2(float, float, 8)
LATHE_CUDA_CPU_VEC3(float, float)
LATHE_CUDA_CPU_VEC4(float, float, 16)
LATHE_CUDA_CPU_VEC2(double, double, 16)
LATHE_CUDA_CPU_VEC3(double, double)
LATHE_CUDA_CPU_VEC4(double, double, 16)
LATHE_CUDA_CPU_VEC2(int, int, 8)
LATHE_CUDA_CPU_VEC3(int, int)
LATHE_CUDA_CPU_VEC4(int, int, 16)
LATHE_CUDA_CPU_VEC2(unsigned int, uint, 8)
LATHE_CUDA_CPU_VEC3(unsigned int, uint)
LATHE_CUDA_CPU_VEC4(unsigned int, uint, 16)
LATHE_CUDA_CPU_VEC2(short, short, 4)
LATHE_CUDA_CPU_VEC4(short, short, 8)
LATHE_CUDA_CPU_VEC2(unsigned short, ushort, 4)
LATHE_CUDA_CPU_VEC4(unsigned short, ushort, 8)
LATHE_CUDA_CPU_VEC2(signed char, char, 2)
LATHE_CUDA_CPU_VEC4(signed char, char, 4)
LATHE_CUDA_CPU_VEC2(unsigned char, uchar, 2)
LATHE_CUDA_CPU_VEC4(unsigned char, uchar, 4)
LATHE_CUDA_CPU_VEC2(long long, longlong, 16)
LATHE_CUDA_CPU_VEC2(unsigned long long, ulonglong, 16)
#undef LATHE_CUDA_CPU_VEC2
#undef LATHE_CUDA_CPU_VEC3
#undef LATHE_CUDA_CPU_VEC4

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// Built-in variables: per worker thread, rewritten by the scheduler before each fiber resumes.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---------------------------------------------------------------------------------------------
// Bit casts and math
// ---------------------------------------------------------------------------------------------
namespace lathe_cuda_cpu {
template <class To, class From>
inline To bit_cast(const From& v) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast size");
  To r;
  std::memcpy(&r, &v, sizeof(To));
  return r;
}
}  // namespace lathe_cuda_cpu

inline float __int_as_float(int v) { return lathe_cuda_cpu::bit_cast<float>(v); }
inline int __float_as_int(float v) { return lathe_cuda_cpu::bit_cast<int>(v); }
inline float __uint_as_float(unsigned int v) { return lathe_cuda_cpu::bit_cast<float>(v); }
inline unsigned int __float_as_uint(float v) { return lathe_cuda_cpu::bit_cast<unsigned int>(v); }
inline double __longlong_as_double(long long v) { return lathe_cuda_cpu::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return lathe_cuda_cpu::bit_cast<long long>(v); }

// The device's fast intrinsics are approximations; here they are the exact libm functions.
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline void __sincosf(float x, float* s, float* c) { *s = std::sin(x); *c = std::cos(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline double __dadd_rn(double x, double y) { return x + y; }
inline double __dmul_rn(double x, double y) { return x * y; }
inline double __fma_rn(double x, double y, double z) { return std::fma(x, y, z); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / std::cbrt(x); }
inline float normcdff(float x) { return 0.5f * std::erfc(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * std::erfc(-x * 0.70710678118654752); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
inline unsigned int __float2uint_rn(float x) { return static_cast<unsigned int>(std::nearbyint(x)); }
inline unsigned int __float2uint_rz(float x) { return static_cast<unsigned int>(x); }
inline long long __float2ll_rn(float x) { return static_cast<long long>(std::nearbyint(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned int x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline int __double2int_rn(double x) { return static_cast<int>(std::nearbyint(x)); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }

// CUDA's overloaded min/max (device and host).
#define LATHE_CUDA_CPU_MINMAX(A, B, R)                        \
  inline R min(A a, B b) { return (R)a < (R)b ? (R)a : (R)b; } \
  inline R max(A a, B b) { return (R)a > (R)b ? (R)a : (R)b; }
LATHE_CUDA_CPU_MINMAX(int, int, int)
LATHE_CUDA_CPU_MINMAX(unsigned int, unsigned int, unsigned int)
LATHE_CUDA_CPU_MINMAX(int, unsigned int, unsigned int)
LATHE_CUDA_CPU_MINMAX(unsigned int, int, unsigned int)
LATHE_CUDA_CPU_MINMAX(long long, long long, long long)
LATHE_CUDA_CPU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
LATHE_CUDA_CPU_MINMAX(long, long, long)
LATHE_CUDA_CPU_MINMAX(unsigned long, unsigned long, unsigned long)
#undef LATHE_CUDA_CPU_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double min(float a, double b) { return std::fmin((double)a, b); }
inline double max(float a, double b) { return std::fmax((double)a, b); }
inline double min(double a, float b) { return std::fmin(a, (double)b); }
inline double max(double a, float b) { return std::fmax(a, (double)b); }

// Integer intrinsics.
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned int>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  unsigned int r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned int __byte_perm(unsigned int x, unsigned int y, unsigned int s) {
  unsigned long long v = (static_cast<unsigned long long>(y) << 32) | x;
  unsigned int r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<unsigned int>((v >> (((s >> (4 * i)) & 7u) * 8)) & 0xffu) << (8 * i);
  return r;
}
inline unsigned int __funnelshift_l(unsigned int lo, unsigned int hi, unsigned int s) {
  unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned int>((v << (s & 31u)) >> 32);
}
inline unsigned int __funnelshift_r(unsigned int lo, unsigned int hi, unsigned int s) {
  unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned int>(v >> (s & 31u));
}
// __dp4a (sm_61+): c plus the four byte-wise products of a and b (signed bytes for the int form,
// unsigned for the unsigned one), summed with 32-bit wrap-around as the device's IDP4A does.
inline int __dp4a(int a, int b, int c) {
  unsigned int r = static_cast<unsigned int>(c);
  for (int i = 0; i < 4; ++i) {
    const int x = static_cast<signed char>(static_cast<unsigned int>(a) >> (8 * i));
    const int y = static_cast<signed char>(static_cast<unsigned int>(b) >> (8 * i));
    r += static_cast<unsigned int>(x * y);
  }
  return static_cast<int>(r);
}
inline unsigned int __dp4a(unsigned int a, unsigned int b, unsigned int c) {
  unsigned int r = c;
  for (int i = 0; i < 4; ++i) r += ((a >> (8 * i)) & 0xffu) * ((b >> (8 * i)) & 0xffu);
  return r;
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline long long __mul64hi(long long a, long long b) { return static_cast<long long>((static_cast<__int128>(a) * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline int __mul24(int a, int b) { return ((a << 8) >> 8) * ((b << 8) >> 8); }
inline unsigned int __umul24(unsigned int a, unsigned int b) { return (a & 0xffffffu) * (b & 0xffffffu); }

// Cache-hint loads and stores are plain accesses.
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *p; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *p = v; }

// ---------------------------------------------------------------------------------------------
// __half and __nv_bfloat16 (IEEE binary16 and bfloat16, round to nearest even; NaN -> 0x7fff as
// CUDA's conversions give)
// ---------------------------------------------------------------------------------------------
namespace lathe_cuda_cpu {
inline unsigned short float_to_half_bits(float f) {
  const unsigned int x = bit_cast<unsigned int>(f);
  const unsigned int sign = (x >> 16) & 0x8000u;
  const unsigned int ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return 0x7fffu;                                  // NaN
  if (ax >= 0x477ff000u) return static_cast<unsigned short>(sign | 0x7c00u);  // >= 65520: inf
  if (ax >= 0x38800000u) {                                               // normal half
    unsigned int r = ax - 0x38000000u;                                   // rebias 127 -> 15
    r += 0xfffu + ((r >> 13) & 1u);
    return static_cast<unsigned short>(sign | (r >> 13));
  }
  // Subnormal half (or zero): the value in units of 2^-24, rounded to nearest even. Scaling by a
  // power of two is exact; 1024 becomes the smallest normal, which has the same bits.
  const float units = std::nearbyint(bit_cast<float>(ax) * 16777216.0f);
  return static_cast<unsigned short>(sign | static_cast<unsigned int>(units));
}
inline float half_bits_to_float(unsigned short h) {
  const unsigned int sign = static_cast<unsigned int>(h & 0x8000u) << 16;
  const unsigned int e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    const float v = static_cast<float>(m) * 5.9604644775390625e-8f;  // m * 2^-24, exact
    return bit_cast<float>(bit_cast<unsigned int>(v) | sign);
  }
  if (e == 31) return bit_cast<float>(sign | 0x7f800000u | (m << 13));
  return bit_cast<float>(sign | ((e + 112u) << 23) | (m << 13));
}
inline unsigned short float_to_bf16_bits(float f) {
  const unsigned int x = bit_cast<unsigned int>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;  // NaN
  return static_cast<unsigned short>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
inline float bf16_bits_to_float(unsigned short b) { return bit_cast<float>(static_cast<unsigned int>(b) << 16); }
}  // namespace lathe_cuda_cpu

struct __half_raw { unsigned short x; };
struct __nv_bfloat16_raw { unsigned short x; };

struct __attribute__((aligned(2))) __half {
  unsigned short __x;
  __half() = default;
  constexpr __half(const __half_raw& r) : __x(r.x) {}
  __half(float f) : __x(lathe_cuda_cpu::float_to_half_bits(f)) {}
  __half(double f) : __x(lathe_cuda_cpu::float_to_half_bits(static_cast<float>(f))) {}
  __half(int v) : __x(lathe_cuda_cpu::float_to_half_bits(static_cast<float>(v))) {}
  __half(unsigned int v) : __x(lathe_cuda_cpu::float_to_half_bits(static_cast<float>(v))) {}
  __half(long long v) : __x(lathe_cuda_cpu::float_to_half_bits(static_cast<float>(v))) {}
  __half(unsigned long long v) : __x(lathe_cuda_cpu::float_to_half_bits(static_cast<float>(v))) {}
  operator float() const { return lathe_cuda_cpu::half_bits_to_float(__x); }
  operator __half_raw() const { return __half_raw{__x}; }
  __half& operator=(float f) { __x = lathe_cuda_cpu::float_to_half_bits(f); return *this; }
};
struct __attribute__((aligned(2))) __nv_bfloat16 {
  unsigned short __x;
  __nv_bfloat16() = default;
  constexpr __nv_bfloat16(const __nv_bfloat16_raw& r) : __x(r.x) {}
  __nv_bfloat16(float f) : __x(lathe_cuda_cpu::float_to_bf16_bits(f)) {}
  __nv_bfloat16(double f) : __x(lathe_cuda_cpu::float_to_bf16_bits(static_cast<float>(f))) {}
  __nv_bfloat16(int v) : __x(lathe_cuda_cpu::float_to_bf16_bits(static_cast<float>(v))) {}
  __nv_bfloat16(unsigned int v) : __x(lathe_cuda_cpu::float_to_bf16_bits(static_cast<float>(v))) {}
  __nv_bfloat16(long long v) : __x(lathe_cuda_cpu::float_to_bf16_bits(static_cast<float>(v))) {}
  __nv_bfloat16(unsigned long long v) : __x(lathe_cuda_cpu::float_to_bf16_bits(static_cast<float>(v))) {}
  operator float() const { return lathe_cuda_cpu::bf16_bits_to_float(__x); }
  operator __nv_bfloat16_raw() const { return __nv_bfloat16_raw{__x}; }
  __nv_bfloat16& operator=(float f) { __x = lathe_cuda_cpu::float_to_bf16_bits(f); return *this; }
};
typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;
struct __attribute__((aligned(4))) __half2 { __half x, y; };
struct __attribute__((aligned(4))) __nv_bfloat162 { __nv_bfloat16 x, y; };
typedef __half2 half2;
typedef __nv_bfloat162 nv_bfloat162;

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline float __half2float(__half h) { return static_cast<float>(h); }
inline __half __ushort_as_half(unsigned short b) { return __half(__half_raw{b}); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __short_as_half(short b) { return __ushort_as_half(static_cast<unsigned short>(b)); }
inline short __half_as_short(__half h) { return static_cast<short>(h.__x); }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return static_cast<float>(h); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { return __nv_bfloat16(__nv_bfloat16_raw{b}); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __half2 __halves2half2(__half a, __half b) { return __half2{a, b}; }
inline __half2 __floats2half2_rn(float a, float b) { return __half2{__half(a), __half(b)}; }
inline __half2 __float2half2_rn(float a) { return __half2{__half(a), __half(a)}; }
inline __half2 __float22half2_rn(float2 v) { return __half2{__half(v.x), __half(v.y)}; }
inline float2 __half22float2(__half2 v) { return float2{static_cast<float>(v.x), static_cast<float>(v.y)}; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat162{a, b}; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return __nv_bfloat162{__nv_bfloat16(a), __nv_bfloat16(b)}; }
inline __nv_bfloat162 __float2bfloat162_rn(float a) { return __nv_bfloat162{__nv_bfloat16(a), __nv_bfloat16(a)}; }
inline __nv_bfloat162 __float22bfloat162_rn(float2 v) { return __nv_bfloat162{__nv_bfloat16(v.x), __nv_bfloat16(v.y)}; }
inline float2 __bfloat1622float2(__nv_bfloat162 v) { return float2{static_cast<float>(v.x), static_cast<float>(v.y)}; }

// Arithmetic on both 16-bit types goes through float and rounds once: float holds the exact
// result of +, -, *, / of two 11-bit (or 8-bit) significands closely enough that the rounding to
// 16 bits is correct.
#define LATHE_CUDA_CPU_H16(H, H2, P)                                                                  \
  inline H operator+(const H& a, const H& b) { return H(static_cast<float>(a) + static_cast<float>(b)); } \
  inline H operator-(const H& a, const H& b) { return H(static_cast<float>(a) - static_cast<float>(b)); } \
  inline H operator*(const H& a, const H& b) { return H(static_cast<float>(a) * static_cast<float>(b)); } \
  inline H operator/(const H& a, const H& b) { return H(static_cast<float>(a) / static_cast<float>(b)); } \
  inline H operator-(const H& a) { H r = a; r.__x ^= 0x8000u; return r; }                            \
  inline H operator+(const H& a) { return a; }                                                          \
  inline H& operator+=(H& a, const H& b) { return a = a + b; }                                          \
  inline H& operator-=(H& a, const H& b) { return a = a - b; }                                          \
  inline H& operator*=(H& a, const H& b) { return a = a * b; }                                          \
  inline H& operator/=(H& a, const H& b) { return a = a / b; }                                          \
  inline bool operator==(const H& a, const H& b) { return static_cast<float>(a) == static_cast<float>(b); } \
  inline bool operator!=(const H& a, const H& b) { return static_cast<float>(a) != static_cast<float>(b); } \
  inline bool operator<(const H& a, const H& b) { return static_cast<float>(a) < static_cast<float>(b); }   \
  inline bool operator>(const H& a, const H& b) { return static_cast<float>(a) > static_cast<float>(b); }   \
  inline bool operator<=(const H& a, const H& b) { return static_cast<float>(a) <= static_cast<float>(b); } \
  inline bool operator>=(const H& a, const H& b) { return static_cast<float>(a) >= static_cast<float>(b); } \
  inline H __hadd(H a, H b) { return a + b; }                                                           \
  inline H __hsub(H a, H b) { return a - b; }                                                           \
  inline H __hmul(H a, H b) { return a * b; }                                                           \
  inline H __hdiv(H a, H b) { return a / b; }                                                           \
  inline H __hneg(H a) { return -a; }                                                                   \
  inline H __habs(H a) { H r = a; r.__x &= 0x7fffu; return r; }                                        \
  inline H __hfma(H a, H b, H c) {                                                                      \
    return H(static_cast<float>(std::fma(static_cast<double>(static_cast<float>(a)),                    \
                                         static_cast<double>(static_cast<float>(b)),                    \
                                         static_cast<double>(static_cast<float>(c)))));                 \
  }                                                                                                     \
  inline H __hmax(H a, H b) { return H(std::fmax(static_cast<float>(a), static_cast<float>(b))); }     \
  inline H __hmin(H a, H b) { return H(std::fmin(static_cast<float>(a), static_cast<float>(b))); }     \
  inline bool __heq(H a, H b) { return a == b; }                                                        \
  inline bool __hne(H a, H b) { return a != b; }                                                        \
  inline bool __hlt(H a, H b) { return a < b; }                                                         \
  inline bool __hle(H a, H b) { return a <= b; }                                                        \
  inline bool __hgt(H a, H b) { return a > b; }                                                         \
  inline bool __hge(H a, H b) { return a >= b; }                                                        \
  inline bool __hisnan(H a) { return std::isnan(static_cast<float>(a)); }                               \
  inline int __hisinf(H a) { float f = static_cast<float>(a); return std::isinf(f) ? (f < 0 ? -1 : 1) : 0; } \
  inline H P##exp(H a) { return H(std::exp(static_cast<float>(a))); }                                   \
  inline H P##log(H a) { return H(std::log(static_cast<float>(a))); }                                   \
  inline H P##sqrt(H a) { return H(std::sqrt(static_cast<float>(a))); }                                 \
  inline H P##rsqrt(H a) { return H(1.0f / std::sqrt(static_cast<float>(a))); }                        \
  inline H P##rcp(H a) { return H(1.0f / static_cast<float>(a)); }                                      \
  inline H2 __hadd2(H2 a, H2 b) { return H2{a.x + b.x, a.y + b.y}; }                                    \
  inline H2 __hsub2(H2 a, H2 b) { return H2{a.x - b.x, a.y - b.y}; }                                    \
  inline H2 __hmul2(H2 a, H2 b) { return H2{a.x * b.x, a.y * b.y}; }                                    \
  inline H2 __hfma2(H2 a, H2 b, H2 c) { return H2{__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)}; }      \
  inline H2 operator+(const H2& a, const H2& b) { return __hadd2(a, b); }                               \
  inline H2 operator-(const H2& a, const H2& b) { return __hsub2(a, b); }                               \
  inline H2 operator*(const H2& a, const H2& b) { return __hmul2(a, b); }                               \
  inline H __low2half(H2 v) { return v.x; }                                                             \
  inline H __high2half(H2 v) { return v.y; }                                                            \
  inline float __low2float(H2 v) { return static_cast<float>(v.x); }                                    \
  inline float __high2float(H2 v) { return static_cast<float>(v.y); }
LATHE_CUDA_CPU_H16(__half, __half2, h)
LATHE_CUDA_CPU_H16(__nv_bfloat16, __nv_bfloat162, h)
#undef LATHE_CUDA_CPU_H16

// ---------------------------------------------------------------------------------------------
// Atomics (GCC __atomic builtins on plain memory: correct across the worker threads)
// ---------------------------------------------------------------------------------------------
namespace lathe_cuda_cpu {
template <class T, class F>
inline T atomic_update(T* p, F f) {  // CAS loop; returns the old value
  using U = std::conditional_t<sizeof(T) == 8, unsigned long long, std::conditional_t<sizeof(T) == 4, unsigned int, unsigned short>>;
  U* up = reinterpret_cast<U*>(p);
  U old = __atomic_load_n(up, __ATOMIC_RELAXED);
  for (;;) {
    const T o = bit_cast<T>(old);
    const U n = bit_cast<U>(static_cast<T>(f(o)));
    if (__atomic_compare_exchange_n(up, &old, n, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return o;
  }
}
}  // namespace lathe_cuda_cpu

inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline float atomicAdd(float* p, float v) { return lathe_cuda_cpu::atomic_update(p, [v](float o) { return o + v; }); }
inline double atomicAdd(double* p, double v) { return lathe_cuda_cpu::atomic_update(p, [v](double o) { return o + v; }); }
inline __half atomicAdd(__half* p, __half v) { return lathe_cuda_cpu::atomic_update(p, [v](__half o) { return o + v; }); }
inline __nv_bfloat16 atomicAdd(__nv_bfloat16* p, __nv_bfloat16 v) {
  return lathe_cuda_cpu::atomic_update(p, [v](__nv_bfloat16 o) { return o + v; });
}
inline int atomicSub(int* p, int v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
inline unsigned int atomicSub(unsigned int* p, unsigned int v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
#define LATHE_CUDA_CPU_ATOMIC_MINMAX(T)                                                                   \
  inline T atomicMax(T* p, T v) { return lathe_cuda_cpu::atomic_update(p, [v](T o) { return o > v ? o : v; }); } \
  inline T atomicMin(T* p, T v) { return lathe_cuda_cpu::atomic_update(p, [v](T o) { return o < v ? o : v; }); }
LATHE_CUDA_CPU_ATOMIC_MINMAX(int)
LATHE_CUDA_CPU_ATOMIC_MINMAX(unsigned int)
LATHE_CUDA_CPU_ATOMIC_MINMAX(long long)
LATHE_CUDA_CPU_ATOMIC_MINMAX(unsigned long long)
#undef LATHE_CUDA_CPU_ATOMIC_MINMAX
#define LATHE_CUDA_CPU_ATOMIC_BITS(T)                                                            \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }           \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }           \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }         \
  inline T atomicCAS(T* p, T cmp, T v) {                                                         \
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);          \
    return cmp;                                                                                  \
  }
LATHE_CUDA_CPU_ATOMIC_BITS(int)
LATHE_CUDA_CPU_ATOMIC_BITS(unsigned int)
LATHE_CUDA_CPU_ATOMIC_BITS(unsigned long long)
#undef LATHE_CUDA_CPU_ATOMIC_BITS
inline unsigned short atomicCAS(unsigned short* p, unsigned short cmp, unsigned short v) {
  __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
inline float atomicExch(float* p, float v) {
  return __uint_as_float(__atomic_exchange_n(reinterpret_cast<unsigned int*>(p), __float_as_uint(v), __ATOMIC_SEQ_CST));
}
inline unsigned int atomicInc(unsigned int* p, unsigned int lim) {
  return lathe_cuda_cpu::atomic_update(p, [lim](unsigned int o) { return o >= lim ? 0u : o + 1u; });
}
inline unsigned int atomicDec(unsigned int* p, unsigned int lim) {
  return lathe_cuda_cpu::atomic_update(p, [lim](unsigned int o) { return (o == 0u || o > lim) ? lim : o - 1u; });
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __nanosleep(unsigned int) {}
inline long long clock64() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------
// Host API types
// ---------------------------------------------------------------------------------------------
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorAssert = 710,
  cudaErrorIllegalInstruction = 715,
  cudaErrorLaunchFailure = 719,
  cudaErrorUnknown = 999,
};
typedef enum cudaError cudaError_t;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};
struct CUstream_st { int id; };
struct CUevent_st { std::chrono::steady_clock::time_point t; bool recorded; };
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventDisableTiming 0x02

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major;
  int minor;
  int multiProcessorCount;
  size_t sharedMemPerBlockOptin;
  size_t sharedMemPerMultiprocessor;
  int maxThreadsPerMultiProcessor;
  int l2CacheSize;
};

// ---------------------------------------------------------------------------------------------
// Runtime: configuration, fibers, block scheduler, worker pool
// ---------------------------------------------------------------------------------------------
#ifdef LATHE_CUDA_CPU_ASM_SWITCH
// swap(save, to): push the callee-saved registers, store rsp in *save, load `to`, pop, return.
// A new fiber's stack holds zeros for the registers, rbx = its Fiber*, r12 = the entry function,
// and the trampoline as return address. COMDAT, so several translation units may include this.
extern "C" void lathe_cuda_cpu_swap(void** save, void* to);
extern "C" void lathe_cuda_cpu_trampoline();
__asm__(
    ".pushsection .text.lathe_cuda_cpu_swap,\"axG\",@progbits,lathe_cuda_cpu_swap,comdat\n"
    ".weak lathe_cuda_cpu_swap\n"
    ".hidden lathe_cuda_cpu_swap\n"
    ".type lathe_cuda_cpu_swap,@function\n"
    "lathe_cuda_cpu_swap:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size lathe_cuda_cpu_swap, .-lathe_cuda_cpu_swap\n"
    ".weak lathe_cuda_cpu_trampoline\n"
    ".hidden lathe_cuda_cpu_trampoline\n"
    ".type lathe_cuda_cpu_trampoline,@function\n"
    "lathe_cuda_cpu_trampoline:\n"
    "  movq %rbx, %rdi\n"
    "  callq *%r12\n"
    "  ud2\n"
    ".size lathe_cuda_cpu_trampoline, .-lathe_cuda_cpu_trampoline\n"
    ".popsection\n");
#endif

namespace lathe_cuda_cpu {
enum class Order { Forward, Reverse, Random };

struct Config {
  unsigned workers = 1;
  Order order = Order::Forward;
  unsigned long long seed = 1;
  size_t stack_bytes = 64 * 1024;
  bool fill_shared = true;
  bool abort_on_error = false;
};

namespace detail {
inline const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}
inline unsigned long long env_number(const char* name, unsigned long long dflt) {
  const char* v = env(name);
  if (!v) return dflt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 0);
  if (end == v || *end != '\0') {
    std::fprintf(stderr, "lathe-cuda-cpu: %s=%s is not a number\n", name, v);
    std::exit(2);
  }
  return n;
}
inline Config read_config() {
  Config c;
  const unsigned hw = std::thread::hardware_concurrency();
  c.workers = static_cast<unsigned>(env_number("LATHE_CUDA_CPU_WORKERS", hw ? hw : 1));
  if (c.workers == 0) c.workers = 1;
  if (c.workers > 256) c.workers = 256;
  if (const char* o = env("LATHE_CUDA_CPU_ORDER")) {
    if (!std::strcmp(o, "forward")) c.order = Order::Forward;
    else if (!std::strcmp(o, "reverse")) c.order = Order::Reverse;
    else if (!std::strcmp(o, "random")) c.order = Order::Random;
    else {
      std::fprintf(stderr, "lathe-cuda-cpu: LATHE_CUDA_CPU_ORDER=%s: expected forward, reverse or random\n", o);
      std::exit(2);
    }
  }
  c.seed = env_number("LATHE_CUDA_CPU_SEED", 1);
#if defined(LATHE_CUDA_CPU_ASAN)
  const unsigned long long stack_kb = 256;  // sanitizer reports run on the fiber's stack
#else
  const unsigned long long stack_kb = 64;
#endif
  c.stack_bytes = static_cast<size_t>(env_number("LATHE_CUDA_CPU_STACK_KB", stack_kb)) * 1024;
  if (c.stack_bytes < 16 * 1024) c.stack_bytes = 16 * 1024;
  c.fill_shared = env_number("LATHE_CUDA_CPU_FILL", 1) != 0;
  c.abort_on_error = env_number("LATHE_CUDA_CPU_ABORT", 0) != 0;
  return c;
}
inline Config& config_storage() {
  static Config c = read_config();
  return c;
}
}  // namespace detail

// The configuration read from the environment at first use; fields may be changed between
// launches (workers only before the first launch).
inline Config& config() { return detail::config_storage(); }
inline void set_order(Order o, unsigned long long seed) {
  config().order = o;
  config().seed = seed;
}

namespace detail {
enum class FState : unsigned char { Ready, AtBlockBarrier, AtWarpBarrier, Done, Failed };

struct Fiber {
  void* sp = nullptr;
  unsigned char* stack_lo = nullptr;
  size_t stack_size = 0;
#ifndef LATHE_CUDA_CPU_ASM_SWITCH
  ucontext_t uc;
#endif
  uint3 idx = {0, 0, 0};
  unsigned linear = 0, lane = 0, warp = 0;
  FState state = FState::Ready;
  unsigned wait_mask = 0;  // effective mask while at a warp barrier
  const char* wait_what = nullptr;
  const char* wait_file = nullptr;
  int wait_line = 0;
  void* asan_fake = nullptr;
};

struct WarpState {
  unsigned long long slot[32];
  unsigned existing = 0, done = 0, arrived = 0;
};

struct LaunchJob {
  const char* name = "";
  dim3 grid, block;
  size_t smem = 0;
  void (*thunk)(void*) = nullptr;
  void* ctx = nullptr;
  unsigned long long total = 0;
  unsigned long long launch_id = 0;
  Order order = Order::Forward;
  unsigned long long seed = 1;
  bool fill = true;
  std::atomic<unsigned long long> next{0};
  std::atomic<bool> failed{false};
  std::mutex err_mu;
  std::string error;
};

struct Worker;
inline thread_local Worker* tl_worker;
inline thread_local Fiber* tl_fiber;
inline thread_local unsigned char* tl_dynamic_smem;
inline thread_local unsigned char tl_probe;  // its address finds this module's TLS block

inline unsigned long long splitmix(unsigned long long& s) {
  unsigned long long z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

[[noreturn]] inline void fiber_main(Fiber* f);
#ifndef LATHE_CUDA_CPU_ASM_SWITCH
inline void fiber_main_uc(unsigned int hi, unsigned int lo) {
  fiber_main(reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo));
}
#endif

struct TlsRange {
  const unsigned char* probe;
  unsigned char* lo;
  size_t size;
};
inline int find_tls(struct dl_phdr_info* info, size_t size, void* data) {
  auto* t = static_cast<TlsRange*>(data);
  if (size < offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof(void*) || !info->dlpi_tls_data) return 0;
  auto* base = static_cast<unsigned char*>(info->dlpi_tls_data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_TLS) continue;
    if (t->probe >= base && t->probe < base + ph.p_memsz) {
      t->lo = base + ph.p_filesz;  // the zero-initialised part (.tbss): __shared__ variables live here
      t->size = ph.p_memsz - ph.p_filesz;
      return 1;
    }
  }
  return 0;
}

struct Worker {
  Config cfg;
  std::vector<Fiber> fibers;
  std::vector<void*> regions;  // (base, bytes) pairs of stack mappings
  std::vector<size_t> region_bytes;
  std::vector<WarpState> warps;
  std::vector<unsigned> queue;  // ring buffer of ready fiber ids
  size_t q_head = 0, q_count = 0;
  std::vector<unsigned> scratch;
  unsigned n = 0, n_done = 0;
  unsigned bar_arrived = 0, bar_pred = 0, bar_result = 0;
  const char* bar_file = nullptr;
  int bar_line = 0;
  bool failed = false;
  std::string error;
  unsigned long long rng = 0;
  Order order = Order::Forward;
  void* sched_sp = nullptr;
#ifndef LATHE_CUDA_CPU_ASM_SWITCH
  ucontext_t sched_uc;
#endif
  const void* sched_stack_lo = nullptr;
  size_t sched_stack_size = 0;
  void* sched_fake = nullptr;
  unsigned char* tbss_lo = nullptr;
  size_t tbss_size = 0;
  unsigned char* dyn = nullptr;
  size_t dyn_size = 0;
  LaunchJob* job = nullptr;

  explicit Worker(const Config& c) : cfg(c) {
    TlsRange t{&tl_probe, nullptr, 0};
    dl_iterate_phdr(find_tls, &t);
    tbss_lo = t.lo;
    tbss_size = t.size;
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void ensure_fibers(unsigned count) {
    if (fibers.size() >= count) return;
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t stack = (cfg.stack_bytes + page - 1) / page * page;
    const size_t old = fibers.size();
    const size_t add = count - old;
    const size_t bytes = add * (stack + page);
    void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "lathe-cuda-cpu: cannot map %zu bytes of fiber stacks\n", bytes);
      std::abort();
    }
    regions.push_back(base);
    region_bytes.push_back(bytes);
    fibers.resize(count);
    for (size_t i = 0; i < add; ++i) {
      unsigned char* lo = static_cast<unsigned char*>(base) + i * (stack + page);
      mprotect(lo, page, PROT_NONE);  // guard page below each stack: an overflow faults
      fibers[old + i].stack_lo = lo + page;
      fibers[old + i].stack_size = stack;
    }
  }

  void ensure_dynamic(size_t bytes) {
    if (dyn && dyn_size == bytes) return;
    if (dyn) ::operator delete(dyn, std::align_val_t(64));
    // Exactly the launch's size, so AddressSanitizer sees an overflow of dynamic shared memory.
    dyn = static_cast<unsigned char*>(::operator new(bytes ? bytes : 1, std::align_val_t(64)));
    dyn_size = bytes;
  }

  void init_fiber(Fiber& f) {
#ifdef LATHE_CUDA_CPU_ASAN
    __asan_unpoison_memory_region(f.stack_lo, f.stack_size);
#endif
    f.asan_fake = nullptr;
#ifdef LATHE_CUDA_CPU_ASM_SWITCH
    // Stagger the stack tops across cache sets: at one offset in every page, the fibers' saved
    // registers would all compete for the same few L1 sets.
    uintptr_t top = reinterpret_cast<uintptr_t>(f.stack_lo + f.stack_size - (f.linear % 64) * 64) & ~static_cast<uintptr_t>(15);
    void** sp = reinterpret_cast<void**>(top - 72);  // after the 6 pops and ret, rsp = top - 16
    sp[0] = nullptr;                                 // r15
    sp[1] = nullptr;                                 // r14
    sp[2] = nullptr;                                 // r13
    sp[3] = reinterpret_cast<void*>(&fiber_main);    // r12: entry
    sp[4] = &f;                                      // rbx: argument
    sp[5] = nullptr;                                 // rbp
    sp[6] = reinterpret_cast<void*>(&lathe_cuda_cpu_trampoline);
    sp[7] = nullptr;
    sp[8] = nullptr;
    f.sp = sp;
#else
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = f.stack_lo;
    f.uc.uc_stack.ss_size = f.stack_size;
    f.uc.uc_link = nullptr;
    const uintptr_t p = reinterpret_cast<uintptr_t>(&f);
    makecontext(&f.uc, reinterpret_cast<void (*)()>(&fiber_main_uc), 2, static_cast<unsigned int>(p >> 32),
                static_cast<unsigned int>(p & 0xffffffffu));
#endif
  }

  // Scheduler side: run fiber f until it yields.
  void resume(Fiber& f) {
    tl_fiber = &f;
    threadIdx = f.idx;
#ifdef LATHE_CUDA_CPU_ASAN
    __sanitizer_start_switch_fiber(&sched_fake, f.stack_lo, f.stack_size);
#endif
    __asm__ __volatile__("" ::: "memory");
#ifdef LATHE_CUDA_CPU_ASM_SWITCH
    lathe_cuda_cpu_swap(&sched_sp, f.sp);
#else
    swapcontext(&sched_uc, &f.uc);
#endif
    __asm__ __volatile__("" ::: "memory");
#ifdef LATHE_CUDA_CPU_ASAN
    __sanitizer_finish_switch_fiber(sched_fake, nullptr, nullptr);
#endif
  }

  // Fiber side: back to the scheduler. `final`: the fiber will never be resumed.
  void yield(Fiber& f, bool final) {
#ifdef LATHE_CUDA_CPU_ASAN
    __sanitizer_start_switch_fiber(final ? nullptr : &f.asan_fake, sched_stack_lo, sched_stack_size);
#else
    (void)final;
#endif
    __asm__ __volatile__("" ::: "memory");
#ifdef LATHE_CUDA_CPU_ASM_SWITCH
    lathe_cuda_cpu_swap(&f.sp, sched_sp);
#else
    swapcontext(&f.uc, &sched_uc);
#endif
    __asm__ __volatile__("" ::: "memory");
#ifdef LATHE_CUDA_CPU_ASAN
    __sanitizer_finish_switch_fiber(f.asan_fake, nullptr, nullptr);
#endif
  }

  void push_ready(unsigned id) {
    fibers[id].state = FState::Ready;
    queue[(q_head + q_count) % n] = id;
    ++q_count;
  }
  // Make `ids` (ascending) ready in the configured order.
  void release(std::vector<unsigned>& ids) {
    if (order == Order::Reverse) std::reverse(ids.begin(), ids.end());
    else if (order == Order::Random)
      for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[splitmix(rng) % i]);
    for (unsigned id : ids) push_ready(id);
  }

  std::string where(const Fiber& f) const {
    char b[96];
    std::snprintf(b, sizeof b, "threadIdx (%u,%u,%u)", f.idx.x, f.idx.y, f.idx.z);
    return b;
  }

  // Fiber side: record a failure of this block and leave for good. (A C string: the fiber's frames
  // are abandoned, so no temporary on them may own memory.)
  [[noreturn]] void fail(Fiber& f, const char* msg) {
    if (!failed) {
      failed = true;
      error = msg;
    }
    f.state = FState::Failed;
    yield(f, true);
    std::abort();  // never resumed
  }

  std::string describe_waits() const {
    unsigned at_bar = 0, at_warp = 0;
    const Fiber* wf = nullptr;
    for (unsigned i = 0; i < n; ++i) {
      if (fibers[i].state == FState::AtBlockBarrier) ++at_bar;
      if (fibers[i].state == FState::AtWarpBarrier) {
        if (!wf) wf = &fibers[i];
        ++at_warp;
      }
    }
    std::string s;
    char b[320];
    if (at_bar) {
      std::snprintf(b, sizeof b, "%u thread(s) wait at __syncthreads (%s:%d)", at_bar, bar_file ? bar_file : "?", bar_line);
      s += b;
    }
    if (at_warp) {
      std::snprintf(b, sizeof b, "%s%u thread(s) wait in warp operations (e.g. %s of warp %u in %s at %s:%d with mask 0x%08x)",
                    s.empty() ? "" : ", ", at_warp, where(*wf).c_str(), wf->warp, wf->wait_what, wf->wait_file, wf->wait_line,
                    wf->wait_mask);
      s += b;
    }
    std::snprintf(b, sizeof b, "%s%u thread(s) have exited", s.empty() ? "" : ", ", n_done);
    s += b;
    return s;
  }

  void run_block(LaunchJob& j, unsigned long long b) {
    const unsigned gx = j.grid.x, gy = j.grid.y;
    const uint3 bi = {static_cast<unsigned>(b % gx), static_cast<unsigned>((b / gx) % gy), static_cast<unsigned>(b / (static_cast<unsigned long long>(gx) * gy))};
    if (j.fill && tbss_lo) std::memset(tbss_lo, 0xff, tbss_size);  // fresh __shared__ memory
    if (j.fill) std::memset(dyn, 0xff, dyn_size);
    // Thread-locals are set after the fill, which covers them too.
    tl_worker = this;
    tl_dynamic_smem = dyn;
    blockIdx = bi;
    blockDim = j.block;
    gridDim = j.grid;
    n = j.block.x * j.block.y * j.block.z;
    ensure_fibers(n);
    const unsigned nw = (n + 31) / 32;
    warps.resize(nw);
    for (unsigned w = 0; w < nw; ++w) {
      const unsigned lanes = std::min(32u, n - w * 32);
      warps[w].existing = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
      warps[w].done = warps[w].arrived = 0;
    }
    for (unsigned i = 0; i < n; ++i) {
      Fiber& f = fibers[i];
      f.linear = i;
      f.idx = uint3{i % j.block.x, (i / j.block.x) % j.block.y, i / (j.block.x * j.block.y)};
      f.lane = i % 32;
      f.warp = i / 32;
      f.wait_mask = 0;
      init_fiber(f);
    }
    n_done = bar_arrived = bar_pred = bar_result = 0;
    bar_file = nullptr;
    bar_line = 0;
    failed = false;
    error.clear();
    order = j.order;
    rng = j.seed ^ (j.launch_id * 0x2545f4914f6cdd1dull) ^ (b * 0x9e3779b97f4a7c15ull);
    queue.assign(n, 0);
    q_head = q_count = 0;
    scratch.resize(n);
    for (unsigned i = 0; i < n; ++i) scratch[i] = i;
    release(scratch);
    while (q_count && !failed) {
      const unsigned id = queue[q_head];
      q_head = (q_head + 1) % n;
      --q_count;
      resume(fibers[id]);
    }
    if (!failed && n_done != n) {
      failed = true;
      error = "deadlock: " + describe_waits() + "; a barrier in divergent code?";
    }
    if (failed) {
      char head[512];
      std::snprintf(head, sizeof head, "kernel '%s' (grid (%u,%u,%u), block (%u,%u,%u)), block (%u,%u,%u): ", j.name, j.grid.x,
                    j.grid.y, j.grid.z, j.block.x, j.block.y, j.block.z, bi.x, bi.y, bi.z);
      std::lock_guard<std::mutex> lk(j.err_mu);
      if (!j.failed.load()) {
        j.error = head + error;
        j.failed.store(true);
      }
    }
  }

  void run_job(LaunchJob& j) {
    job = &j;
    ensure_dynamic(j.smem);
    for (;;) {
      if (j.failed.load(std::memory_order_relaxed)) break;
      const unsigned long long b = j.next.fetch_add(1);
      if (b >= j.total) break;
      run_block(j, b);
    }
    job = nullptr;
  }
};

[[noreturn]] inline void fiber_main(Fiber* f) {
  Worker* w = tl_worker;
#ifdef LATHE_CUDA_CPU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &w->sched_stack_lo, &w->sched_stack_size);
#endif
  w->job->thunk(w->job->ctx);
  f->state = FState::Done;
  ++w->n_done;
  WarpState& ws = w->warps[f->warp];
  const unsigned me = 1u << f->lane;
  ws.done |= me;
  if (w->bar_arrived) {
    char b[256];
    std::snprintf(b, sizeof b, "deadlock: %s exited while %u thread(s) wait at __syncthreads (%s:%d); a barrier in divergent code?",
                  w->where(*f).c_str(), w->bar_arrived, w->bar_file, w->bar_line);
    w->fail(*f, b);
  }
  for (unsigned l = 0; l < 32; ++l) {
    const unsigned id = f->warp * 32 + l;
    if (!(ws.arrived & (1u << l)) || !(w->fibers[id].wait_mask & me)) continue;
    const Fiber& o = w->fibers[id];
    char b[320];
    std::snprintf(b, sizeof b, "deadlock: %s (lane %u) exited while %s waits for it in %s (%s:%d) with mask 0x%08x",
                  w->where(*f).c_str(), f->lane, w->where(o).c_str(), o.wait_what, o.wait_file, o.wait_line, o.wait_mask);
    w->fail(*f, b);
  }
  w->yield(*f, true);
  std::abort();  // never resumed
}

inline Worker& current_worker() {
  Worker* w = tl_worker;
  if (!w || !tl_fiber) {
    std::fprintf(stderr, "lathe-cuda-cpu: a device function was called outside a kernel launch\n");
    std::abort();
  }
  return *w;
}

// __syncthreads and its counting forms. Every thread of the block must reach the same call.
inline unsigned syncthreads(const char* file, int line, int pred) {
  Worker& w = current_worker();
  Fiber& f = *tl_fiber;
  if (w.bar_arrived == 0) {
    w.bar_file = file;
    w.bar_line = line;
  } else if (w.bar_line != line || (w.bar_file != file && std::strcmp(w.bar_file, file) != 0)) {
    char b[512];
    std::snprintf(b, sizeof b,
                  "divergent __syncthreads: %s reached %s:%d while %u thread(s) wait at %s:%d (a barrier in divergent code?)",
                  w.where(f).c_str(), file, line, w.bar_arrived, w.bar_file, w.bar_line);
    w.fail(f, b);
  }
  f.state = FState::AtBlockBarrier;
  ++w.bar_arrived;
  w.bar_pred += pred != 0;
  if (w.bar_arrived == w.n) {
    w.bar_result = w.bar_pred;
    w.bar_arrived = w.bar_pred = 0;
    w.scratch.resize(w.n);
    for (unsigned i = 0; i < w.n; ++i) w.scratch[i] = i;
    w.release(w.scratch);
  }
  w.yield(f, false);
  return w.bar_result;
}

// One warp barrier among the lanes of `mask` (restricted to the lanes that exist).
inline void warp_barrier(Worker& w, Fiber& f, unsigned mask, const char* what, const char* file, int line) {
  WarpState& ws = w.warps[f.warp];
  const unsigned me = 1u << f.lane;
  char b[400];
  if (!(mask & me)) {
    std::snprintf(b, sizeof b, "%s at %s:%d: %s (lane %u) is not in its mask 0x%08x", what, file, line, w.where(f).c_str(), f.lane, mask);
    w.fail(f, b);
  }
  const unsigned eff = mask & ws.existing;
  if (eff & ws.done) {
    std::snprintf(b, sizeof b, "deadlock: %s at %s:%d by %s with mask 0x%08x, but lane(s) 0x%08x of warp %u have exited", what, file,
                  line, w.where(f).c_str(), mask, eff & ws.done, f.warp);
    w.fail(f, b);
  }
  if (eff == me) return;  // alone: nothing to wait for
  for (unsigned l = 0; l < 32; ++l) {
    if (!(ws.arrived & (1u << l))) continue;
    const Fiber& o = w.fibers[f.warp * 32 + l];
    if (((eff >> l) & 1u) || (o.wait_mask & me)) {
      if (o.wait_mask != eff) {
        std::snprintf(b, sizeof b, "%s at %s:%d by %s with mask 0x%08x while %s waits in %s at %s:%d with mask 0x%08x", what, file, line,
                      w.where(f).c_str(), eff, w.where(o).c_str(), o.wait_what, o.wait_file, o.wait_line, o.wait_mask);
        w.fail(f, b);
      }
    }
  }
  f.state = FState::AtWarpBarrier;
  f.wait_mask = eff;
  f.wait_what = what;
  f.wait_file = file;
  f.wait_line = line;
  ws.arrived |= me;
  if ((ws.arrived & eff) == eff) {
    ws.arrived &= ~eff;
    w.scratch.clear();
    for (unsigned l = 0; l < 32; ++l)
      if (eff & (1u << l)) w.scratch.push_back(f.warp * 32 + l);
    w.release(w.scratch);
  }
  w.yield(f, false);
  f.wait_mask = 0;
}

enum class ShflKind { Idx, Up, Down, Xor };

template <class T>
inline T shfl(unsigned mask, T v, int arg, int width, ShflKind kind, const char* what, const char* file, int line) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp shuffle of a type over 8 bytes");
  Worker& w = current_worker();
  Fiber& f = *tl_fiber;
  WarpState& ws = w.warps[f.warp];
  const int lane = static_cast<int>(f.lane);
  if (width <= 0 || width > 32 || (width & (width - 1))) {
    char b[200];
    std::snprintf(b, sizeof b, "%s at %s:%d: width %d is not a power of two up to 32", what, file, line, width);
    w.fail(f, b);
  }
  const int base = lane & ~(width - 1);
  int src = lane;
  switch (kind) {
    case ShflKind::Idx: src = base + (arg & (width - 1)); break;
    case ShflKind::Up: src = (lane - base) >= arg ? lane - arg : lane; break;
    case ShflKind::Down: src = (lane - base) + arg < width ? lane + arg : lane; break;
    case ShflKind::Xor: {
      const int s = lane ^ arg;
      src = s < base + width ? s : lane;
      break;
    }
  }
  std::memcpy(&ws.slot[lane], &v, sizeof(T));
  warp_barrier(w, f, mask, what, file, line);
  T r;
  const unsigned eff = mask & ws.existing;
  if (src >= 0 && src < 32 && (eff >> src) & 1u) {
    std::memcpy(&r, &ws.slot[src], sizeof(T));
  } else {
    std::memset(&r, 0xff, sizeof(T));  // a lane outside the mask: undefined on the GPU, NaN here
  }
  warp_barrier(w, f, mask, what, file, line);
  return r;
}

enum class VoteKind { Ballot, Any, All };
inline unsigned vote(unsigned mask, int pred, VoteKind kind, const char* what, const char* file, int line) {
  Worker& w = current_worker();
  Fiber& f = *tl_fiber;
  WarpState& ws = w.warps[f.warp];
  ws.slot[f.lane] = pred != 0;
  warp_barrier(w, f, mask, what, file, line);
  const unsigned eff = mask & ws.existing;
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if (((eff >> l) & 1u) && ws.slot[l]) ballot |= 1u << l;
  warp_barrier(w, f, mask, what, file, line);
  switch (kind) {
    case VoteKind::Ballot: return ballot;
    case VoteKind::Any: return ballot != 0;
    case VoteKind::All: return ballot == eff;
  }
  return 0;
}

inline unsigned activemask() {
  Worker& w = current_worker();
  const WarpState& ws = w.warps[tl_fiber->warp];
  return ws.existing & ~ws.done;
}

[[noreturn]] inline void trap(const char* file, int line) {
  Worker& w = current_worker();
  char b[256];
  std::snprintf(b, sizeof b, "__trap() at %s:%d by %s", file, line, w.where(*tl_fiber).c_str());
  w.fail(*tl_fiber, b);
}

// ---- worker pool ----
struct Pool {
  std::mutex mu;
  std::condition_variable cv_work, cv_done;
  LaunchJob* job = nullptr;
  unsigned long long generation = 0;
  unsigned active = 0;
  std::mutex launch_mu;
  std::vector<std::thread> threads;
  unsigned long long launches = 0;

  void worker_loop(unsigned idx) {
    (void)idx;
    Worker w(config());
    unsigned long long seen = 0;
    for (;;) {
      LaunchJob* j;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv_work.wait(lk, [&] { return generation != seen; });
        seen = generation;
        j = job;
      }
      w.run_job(*j);
      {
        std::lock_guard<std::mutex> lk(mu);
        if (--active == 0) cv_done.notify_all();
      }
    }
  }
};

inline Pool& pool() {
  // Never destroyed: the workers wait forever and exit with the process.
  static Pool* p = [] {
    Pool* q = new Pool;
    const unsigned n = config().workers;
    for (unsigned i = 0; i < n; ++i) q->threads.emplace_back([q, i] { q->worker_loop(i); });
    return q;
  }();
  return *p;
}

// ---- host-side state: errors, allocations, per-kernel attributes ----
struct HostState {
  std::mutex mu;
  cudaError_t last = cudaSuccess;
  cudaError_t sticky = cudaSuccess;
  std::string message;
  std::map<uintptr_t, size_t> allocs;
  std::map<const void*, int> max_dynamic_smem;
};
inline HostState& host() {
  static HostState* h = new HostState;  // never destroyed (usable from static destructors)
  return *h;
}
inline cudaError_t set_error(cudaError_t e, const std::string& msg, bool sticky) {
  HostState& h = host();
  std::lock_guard<std::mutex> lk(h.mu);
  h.last = e;
  if (sticky) h.sticky = e;
  h.message = msg;
  return e;
}
inline cudaError_t sticky_error() {
  HostState& h = host();
  std::lock_guard<std::mutex> lk(h.mu);
  return h.sticky;
}
inline void report(const std::string& msg) {
  std::fprintf(stderr, "lathe-cuda-cpu: %s\n", msg.c_str());
  std::fflush(stderr);
  if (config().abort_on_error) std::abort();
}
// Whether [p, p+n) lies inside one cudaMalloc allocation.
inline bool device_range(const void* p, size_t n) {
  HostState& h = host();
  std::lock_guard<std::mutex> lk(h.mu);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = h.allocs.upper_bound(a);
  if (it == h.allocs.begin()) return false;
  --it;
  return a >= it->first && a - it->first <= it->second && n <= it->second - (a - it->first);
}

inline void launch(const char* name, const void* func, dim3 grid, dim3 block, size_t smem, void (*thunk)(void*), void* ctx) {
  if (cudaError_t e = sticky_error()) {
    set_error(e, "launch after an earlier kernel failure", true);
    return;
  }
  const unsigned long long threads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  char b[400];
  if (threads == 0 || threads > 1024 || block.x > 1024 || block.y > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 ||
      grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    std::snprintf(b, sizeof b, "launch of kernel '%s' with grid (%u,%u,%u), block (%u,%u,%u): invalid configuration", name, grid.x,
                  grid.y, grid.z, block.x, block.y, block.z);
    report(b);
    set_error(cudaErrorInvalidConfiguration, b, false);
    return;
  }
  size_t smem_max = 48 * 1024;
  {
    HostState& h = host();
    std::lock_guard<std::mutex> lk(h.mu);
    auto it = h.max_dynamic_smem.find(func);
    if (it != h.max_dynamic_smem.end() && static_cast<size_t>(it->second) > smem_max) smem_max = static_cast<size_t>(it->second);
  }
  if (smem > smem_max) {
    std::snprintf(b, sizeof b,
                  "launch of kernel '%s': %zu bytes of dynamic shared memory exceed %zu (raise it with "
                  "cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes))",
                  name, smem, smem_max);
    report(b);
    set_error(cudaErrorInvalidValue, b, false);
    return;
  }
  Pool& p = pool();
  std::lock_guard<std::mutex> serial(p.launch_mu);
  LaunchJob j;
  j.name = name;
  j.grid = grid;
  j.block = block;
  j.smem = smem;
  j.thunk = thunk;
  j.ctx = ctx;
  j.total = static_cast<unsigned long long>(grid.x) * grid.y * grid.z;
  j.launch_id = p.launches++;
  j.order = config().order;
  j.seed = config().seed;
  j.fill = config().fill_shared;
  {
    std::unique_lock<std::mutex> lk(p.mu);
    p.job = &j;
    p.active = static_cast<unsigned>(p.threads.size());
    ++p.generation;
    p.cv_work.notify_all();
    p.cv_done.wait(lk, [&] { return p.active == 0; });
    p.job = nullptr;
  }
  if (j.failed.load()) {
    report(j.error);
    set_error(cudaErrorLaunchFailure, j.error, true);
  }
}

template <class... P>
struct Launcher {
  const char* name;
  void (*kernel)(P...);
  dim3 grid, block;
  size_t smem;
  template <class... A>
  void operator()(A&&... a) const {
    static_assert(sizeof...(A) == sizeof...(P), "CUDA_LAUNCH: the number of arguments does not match the kernel's parameters");
    struct Ctx {
      void (*k)(P...);
      std::tuple<std::decay_t<P>...> args;
    } ctx{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(a)...)};
    // Each CUDA thread gets its own copies of the parameters, as on the device.
    auto thunk = [](void* c) {
      Ctx* x = static_cast<Ctx*>(c);
      std::apply(x->k, x->args);
    };
    launch(name, reinterpret_cast<const void*>(kernel), grid, block, smem, thunk, &ctx);
  }
};
}  // namespace detail

template <class... P>
inline detail::Launcher<P...> launcher(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream) {
  (void)stream;  // launches run to completion in order: every stream is the default stream
  return detail::Launcher<P...>{name, kernel, grid, block, smem};
}

// The detailed message of the last error (launch failures name the kernel, block and cause).
inline std::string last_error_message() {
  detail::HostState& h = detail::host();
  std::lock_guard<std::mutex> lk(h.mu);
  return h.message;
}
inline unsigned char* dynamic_shared_ptr() {
  detail::current_worker();
  return detail::tl_dynamic_smem;
}
}  // namespace lathe_cuda_cpu

// ---------------------------------------------------------------------------------------------
// Device functions
// ---------------------------------------------------------------------------------------------
#define __syncthreads() ((void)::lathe_cuda_cpu::detail::syncthreads(__FILE__, __LINE__, 0))
#define __syncthreads_count(pred) (static_cast<int>(::lathe_cuda_cpu::detail::syncthreads(__FILE__, __LINE__, (pred))))
#define __syncthreads_and(pred) \
  (static_cast<int>(::lathe_cuda_cpu::detail::syncthreads(__FILE__, __LINE__, (pred)) == blockDim.x * blockDim.y * blockDim.z))
#define __syncthreads_or(pred) (static_cast<int>(::lathe_cuda_cpu::detail::syncthreads(__FILE__, __LINE__, (pred)) != 0))
#define __trap() ::lathe_cuda_cpu::detail::trap(__FILE__, __LINE__)
#define CUDA_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::lathe_cuda_cpu::dynamic_shared_ptr())
#define CUDA_LAUNCH(kernel, grid, block, smemBytes, stream, ...) \
  ::lathe_cuda_cpu::launcher(#kernel, kernel, (grid), (block), (smemBytes), (stream))(__VA_ARGS__)

// Warp operations, with the call site for error messages.
#define LATHE_CUDA_CPU_SHFL(name, kind, dflt_width)                                                                  \
  namespace lathe_cuda_cpu {                                                                                          \
  namespace detail {                                                                                                  \
  template <class T>                                                                                                  \
  inline T name##_at(const char* file, int line, unsigned mask, T v, int arg, int width = dflt_width) {             \
    return shfl(mask, v, arg, width, ShflKind::kind, #name, file, line);                                              \
  }                                                                                                                   \
  }                                                                                                                   \
  }
LATHE_CUDA_CPU_SHFL(__shfl_sync, Idx, 32)
LATHE_CUDA_CPU_SHFL(__shfl_up_sync, Up, 32)
LATHE_CUDA_CPU_SHFL(__shfl_down_sync, Down, 32)
LATHE_CUDA_CPU_SHFL(__shfl_xor_sync, Xor, 32)
#undef LATHE_CUDA_CPU_SHFL
#define __shfl_sync(...) ::lathe_cuda_cpu::detail::__shfl_sync_at(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::lathe_cuda_cpu::detail::__shfl_up_sync_at(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::lathe_cuda_cpu::detail::__shfl_down_sync_at(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::lathe_cuda_cpu::detail::__shfl_xor_sync_at(__FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(mask, pred) \
  ::lathe_cuda_cpu::detail::vote((mask), (pred), ::lathe_cuda_cpu::detail::VoteKind::Ballot, "__ballot_sync", __FILE__, __LINE__)
#define __any_sync(mask, pred) \
  static_cast<int>(::lathe_cuda_cpu::detail::vote((mask), (pred), ::lathe_cuda_cpu::detail::VoteKind::Any, "__any_sync", __FILE__, __LINE__))
#define __all_sync(mask, pred) \
  static_cast<int>(::lathe_cuda_cpu::detail::vote((mask), (pred), ::lathe_cuda_cpu::detail::VoteKind::All, "__all_sync", __FILE__, __LINE__))
#define __syncwarp(...) ::lathe_cuda_cpu::detail::syncwarp_at(__FILE__, __LINE__, ##__VA_ARGS__)
namespace lathe_cuda_cpu {
namespace detail {
inline void syncwarp_at(const char* file, int line, unsigned mask = 0xffffffffu) {
  Worker& w = current_worker();
  warp_barrier(w, *tl_fiber, mask, "__syncwarp", file, line);
}
}  // namespace detail
}  // namespace lathe_cuda_cpu
inline unsigned __activemask() { return ::lathe_cuda_cpu::detail::activemask(); }
inline unsigned __lanemask_lt() { return (1u << (::lathe_cuda_cpu::detail::tl_fiber->lane)) - 1u; }

// ---------------------------------------------------------------------------------------------
// Host API
// ---------------------------------------------------------------------------------------------
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorAssert: return "cudaErrorAssert";
    case cudaErrorIllegalInstruction: return "cudaErrorIllegalInstruction";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorIllegalInstruction: return "an illegal instruction was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure (details: lathe-cuda-cpu message on stderr)";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unknown error";
}
inline cudaError_t cudaGetLastError() {
  auto& h = lathe_cuda_cpu::detail::host();
  std::lock_guard<std::mutex> lk(h.mu);
  const cudaError_t e = h.last;
  h.last = h.sticky;
  return e;
}
inline cudaError_t cudaPeekAtLastError() {
  auto& h = lathe_cuda_cpu::detail::host();
  std::lock_guard<std::mutex> lk(h.mu);
  return h.last;
}
inline cudaError_t cudaDeviceSynchronize() { return lathe_cuda_cpu::detail::sticky_error(); }
inline cudaError_t cudaDeviceReset() { return cudaSuccess; }
inline cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "lathe-cuda-cpu (%u worker threads)", lathe_cuda_cpu::config().workers);
  p->totalGlobalMem = static_cast<size_t>(16) << 30;
  p->sharedMemPerBlock = 48 * 1024;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024;
  p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff;
  p->maxGridSize[1] = 65535;
  p->maxGridSize[2] = 65535;
  p->major = 8;
  p->minor = 0;
  p->multiProcessorCount = static_cast<int>(lathe_cuda_cpu::config().workers);
  p->sharedMemPerBlockOptin = 227 * 1024;
  p->sharedMemPerMultiprocessor = 228 * 1024;
  p->maxThreadsPerMultiProcessor = 2048;
  p->l2CacheSize = 40 << 20;
  return cudaSuccess;
}

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  using namespace lathe_cuda_cpu::detail;
  if (!p) return set_error(cudaErrorInvalidValue, "cudaMalloc: null result pointer", false);
  if (cudaError_t e = sticky_error()) return e;
  if (bytes == 0) {
    *p = nullptr;
    return cudaSuccess;
  }
  // Exactly `bytes` (AddressSanitizer then sees any overflow), 256-aligned like the device's.
  void* m = ::operator new(bytes, std::align_val_t(256), std::nothrow);
  if (!m) return set_error(cudaErrorMemoryAllocation, "cudaMalloc: out of memory", false);
  std::memset(m, 0xff, bytes);  // unwritten floats read NaN
  {
    auto& h = host();
    std::lock_guard<std::mutex> lk(h.mu);
    h.allocs[reinterpret_cast<uintptr_t>(m)] = bytes;
  }
  *p = m;
  return cudaSuccess;
}
template <class T>
inline cudaError_t cudaMalloc(T** p, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
inline cudaError_t cudaFree(void* p) {
  using namespace lathe_cuda_cpu::detail;
  if (!p) return cudaSuccess;
  {
    auto& h = host();
    std::lock_guard<std::mutex> lk(h.mu);
    auto it = h.allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == h.allocs.end()) {
      h.last = cudaErrorInvalidValue;
      return cudaErrorInvalidValue;
    }
    h.allocs.erase(it);
  }
  ::operator delete(p, std::align_val_t(256));
  return cudaSuccess;
}
inline cudaError_t cudaMallocHost(void** p, size_t bytes) {
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
template <class T>
inline cudaError_t cudaMallocHost(T** p, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(p), bytes);
}
inline cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  using namespace lathe_cuda_cpu::detail;
  if (cudaError_t e = sticky_error()) return e;
  if (n == 0) return cudaSuccess;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind > cudaMemcpyDefault) return set_error(cudaErrorInvalidMemcpyDirection, "cudaMemcpy: invalid kind", false);
  if ((dst_dev && !device_range(dst, n)) || (src_dev && !device_range(src, n))) {
    char b[200];
    std::snprintf(b, sizeof b, "cudaMemcpy of %zu bytes (kind %d): the %s range is not inside one cudaMalloc allocation", n,
                  static_cast<int>(kind), (dst_dev && !device_range(dst, n)) ? "destination" : "source");
    report(b);
    return set_error(cudaErrorInvalidValue, b, false);
  }
  std::memmove(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t stream = nullptr) {
  (void)stream;
  return cudaMemcpy(dst, src, n, kind);
}
inline cudaError_t cudaMemset(void* p, int value, size_t n) {
  using namespace lathe_cuda_cpu::detail;
  if (cudaError_t e = sticky_error()) return e;
  if (n == 0) return cudaSuccess;
  if (!device_range(p, n)) {
    char b[160];
    std::snprintf(b, sizeof b, "cudaMemset of %zu bytes: the range is not inside one cudaMalloc allocation", n);
    report(b);
    return set_error(cudaErrorInvalidValue, b, false);
  }
  std::memset(p, value, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream = nullptr) {
  (void)stream;
  return cudaMemset(p, value, n);
}
template <class T>
inline cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, size_t n, size_t offset = 0,
                                      cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
  (void)kind;
  if (offset > sizeof(T) || n > sizeof(T) - offset) return cudaErrorInvalidValue;
  std::memcpy(reinterpret_cast<unsigned char*>(const_cast<T*>(&symbol)) + offset, src, n);
  return cudaSuccess;
}
template <class T>
inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                        cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  (void)kind;
  if (offset > sizeof(T) || n > sizeof(T) - offset) return cudaErrorInvalidValue;
  std::memcpy(dst, reinterpret_cast<const unsigned char*>(&symbol) + offset, n);
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = new CUstream_st{1};
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  (void)flags;
  return cudaStreamCreate(s);
}
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  (void)s;
  return lathe_cuda_cpu::detail::sticky_error();
}
inline cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st{std::chrono::steady_clock::now(), false};
  return cudaSuccess;
}
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  (void)flags;
  return cudaEventCreate(e);
}
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr) {
  (void)s;
  e->t = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e->recorded ? cudaSuccess : cudaErrorInvalidResourceHandle; }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!a->recorded || !b->recorded) return cudaErrorInvalidResourceHandle;
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}
template <class K>
inline cudaError_t cudaFuncSetAttribute(K* kernel, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > 227 * 1024) return cudaErrorInvalidValue;
    auto& h = lathe_cuda_cpu::detail::host();
    std::lock_guard<std::mutex> lk(h.mu);
    h.max_dynamic_smem[reinterpret_cast<const void*>(kernel)] = value;
  }
  return cudaSuccess;
}
