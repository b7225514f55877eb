// CPU emulation shim for Glance's CUDA C kernels (tests only). Included before the kernel sources
// so that g++ compiles them unchanged: each CUDA thread runs as a fiber on the calling thread,
// __syncthreads/__syncwarp are barriers over the block's/warp's fibers, and warp shuffles go
// through a per-block buffer between two warp barriers. Blocks run one after another, so
// __shared__ variables can be function statics.
#pragma once
#define GLANCE_EMULATION 1
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#define GL_DEVICE static inline
#define GL_RESTRICT __restrict
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

struct emu_uint3 { unsigned x, y, z; };
struct uint4 { unsigned x, y, z, w; };
struct float4 { float x, y, z, w; };

namespace emu {
emu_uint3& thread_idx();
emu_uint3& block_idx();
emu_uint3& block_dim();
emu_uint3& grid_dim();
void syncthreads();
void syncwarp();
float shfl_xor_f(float v, int mask);
int shfl_xor_i(int v, int mask);
}  // namespace emu

#define threadIdx (emu::thread_idx())
#define blockIdx (emu::block_idx())
#define blockDim (emu::block_dim())
#define gridDim (emu::grid_dim())

static inline void __syncthreads() { emu::syncthreads(); }
static inline void __syncwarp(unsigned = 0xffffffffu) { emu::syncwarp(); }
static inline float __shfl_xor_sync(unsigned, float v, int m) { return emu::shfl_xor_f(v, m); }
static inline int __shfl_xor_sync(unsigned, int v, int m) { return emu::shfl_xor_i(v, m); }
static inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
using std::max;
using std::min;
