// Token selection on the device, so that only token ids cross to the host.
#include "glance_common.cuh"

// Greedy pick per row: the largest logit, the lowest index among equals (as a host argmax that
// keeps the first maximum). NaNs never win. One block of 1024 threads per row.
extern "C" __global__ void argmax_rows(const float* GL_RESTRICT logits, int cols, int* GL_RESTRICT ids) {
  __shared__ float bestV[32];
  __shared__ int bestI[32];
  const float* row = logits + (long long)blockIdx.x * cols;
  float v = GL_NEG_INF;
  int idx = 0x7fffffff;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float x = row[c];
    if (x > v || (idx == 0x7fffffff && x == x)) {
      v = x;
      idx = c;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(0xffffffffu, v, o);
    int oi = __shfl_xor_sync(0xffffffffu, idx, o);
    if (ov > v || (ov == v && oi < idx)) {
      v = ov;
      idx = oi;
    }
  }
  int lane = threadIdx.x & 31;
  int warp = threadIdx.x >> 5;
  if (lane == 0) {
    bestV[warp] = v;
    bestI[warp] = idx;
  }
  __syncthreads();
  if (warp == 0) {
    int warps = blockDim.x >> 5;
    v = lane < warps ? bestV[lane] : GL_NEG_INF;
    idx = lane < warps ? bestI[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) {
      float ov = __shfl_xor_sync(0xffffffffu, v, o);
      int oi = __shfl_xor_sync(0xffffffffu, idx, o);
      if (ov > v || (ov == v && oi < idx)) {
        v = ov;
        idx = oi;
      }
    }
    if (lane == 0) ids[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;
  }
}
