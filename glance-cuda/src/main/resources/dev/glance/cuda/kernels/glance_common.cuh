// Shared helpers for Glance's kernels. Compiled by NVRTC at run time (the header is passed to
// nvrtcCreateProgram by name), by nvcc in the build's compile check, and by g++ with a thin
// emulation shim in the CPU tests. No CUDA headers are included, so NVRTC needs no include path:
// bf16 is handled as raw 16-bit patterns.
#pragma once

#ifndef GLANCE_EMULATION
#define GL_DEVICE __device__ __forceinline__
#define GL_RESTRICT __restrict__
#endif

typedef unsigned short bf16_t;

// -infinity without math.h (NVRTC has no INFINITY macro).
#define GL_NEG_INF __uint_as_float(0xff800000u)

// bf16 -> f32 is exact: the bf16 bits are the top half of the f32.
GL_DEVICE float bf2f(bf16_t v) { return __uint_as_float(((unsigned)v) << 16); }

// f32 -> bf16 with round-to-nearest-even, NaNs kept quiet (the same as torch's conversion).
GL_DEVICE bf16_t f2bf(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    return (bf16_t)((u >> 16) | 0x40u);
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  return (bf16_t)(u >> 16);
}

GL_DEVICE float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

GL_DEVICE float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// total. scratch holds 32 floats of shared memory; the leading barrier makes reuse safe.
GL_DEVICE float block_sum(float v, float* scratch) {
  int lane = threadIdx.x & 31;
  int warp = threadIdx.x >> 5;
  int warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(t);
}

GL_DEVICE float silu(float g) { return g / (1.0f + expf(-g)); }
