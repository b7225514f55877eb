// Matrix-vector products for decode: bf16 weights [outF][in] times a few float32 rows, fp32
// accumulation, the activations kept in float32 (no rounding of x, unlike the GEMM path).
#include "glance_common.cuh"

#define GEMV_MAX_ROWS 8

// One warp per output feature, 8 warps per block. out[t][o] = sum_k W[o][k] x[t][k] (+ bias[o])
// for t < n <= GEMV_MAX_ROWS. Weights stream once through 16-byte loads when rows are 16-byte
// aligned (in % 8 == 0); x rows are small and stay in L1/L2.
extern "C" __global__ void gemv_bf16(const bf16_t* GL_RESTRICT w, const float* GL_RESTRICT x,
                                     const float* GL_RESTRICT bias, float* GL_RESTRICT out, int n, int in,
                                     int outF) {
  int lane = threadIdx.x & 31;
  int o = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  if (o >= outF) return;
  const bf16_t* wr = w + (long long)o * in;
  float acc[GEMV_MAX_ROWS];
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; t++) acc[t] = 0.0f;
  int k0 = 0;
  if ((in & 7) == 0) {
    const uint4* w8 = (const uint4*)wr;
    int chunks = in >> 3;
#pragma unroll 4
    for (int c = lane; c < chunks; c += 32) {
      uint4 pk = w8[c];
      float wf[8];
      wf[0] = __uint_as_float(pk.x << 16);
      wf[1] = __uint_as_float(pk.x & 0xffff0000u);
      wf[2] = __uint_as_float(pk.y << 16);
      wf[3] = __uint_as_float(pk.y & 0xffff0000u);
      wf[4] = __uint_as_float(pk.z << 16);
      wf[5] = __uint_as_float(pk.z & 0xffff0000u);
      wf[6] = __uint_as_float(pk.w << 16);
      wf[7] = __uint_as_float(pk.w & 0xffff0000u);
#pragma unroll
      for (int t = 0; t < GEMV_MAX_ROWS; t++) {
        if (t < n) {
          const float4* xr = (const float4*)(x + (long long)t * in + (c << 3));
          float4 a = xr[0];
          float4 b = xr[1];
          acc[t] += wf[0] * a.x + wf[1] * a.y + wf[2] * a.z + wf[3] * a.w + wf[4] * b.x + wf[5] * b.y +
                    wf[6] * b.z + wf[7] * b.w;
        }
      }
    }
    k0 = in;
  }
  for (int kk = k0 + lane; kk < in; kk += 32) {
    float wf = bf2f(wr[kk]);
#pragma unroll
    for (int t = 0; t < GEMV_MAX_ROWS; t++) {
      if (t < n) acc[t] += wf * x[(long long)t * in + kk];
    }
  }
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; t++) {
    if (t < n) {
      float sum = warp_sum(acc[t]);
      if (lane == 0) out[(long long)t * outF + o] = bias != 0 ? sum + bias[o] : sum;
    }
  }
}
