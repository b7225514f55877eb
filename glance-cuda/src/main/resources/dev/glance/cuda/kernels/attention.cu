// Attention of float32 queries over float32 keys and values, one query row and head per block.
// The same kernel serves the vision tower (bidirectional within each image: per-row key ranges),
// text prefill (causal) and decode (one row; the key range split over blocks, then combined).
#include "glance_common.cuh"

#define ATTN_WARPS 4
#define ATTN_MAX_HEAD_DIM 256
#define ATTN_DIMS_PER_LANE (ATTN_MAX_HEAD_DIM / 32)

// Block (row r = blockIdx.x, head h = blockIdx.y, split s = blockIdx.z), ATTN_WARPS warps.
// Query: q[r*qStride + h*headDim]. Key j of KV head g = h / group: k[j*kvStride + g*headDim],
// likewise v. Keys of row r: [rowLo[r], rowHi[r]) when rowLo is given, else
// [0, causalBase + r + 1). Split s takes keys [lo + s*splitLen, lo + (s+1)*splitLen) of that
// range. With splits == 1 the normalised result goes to out[r*outStride + h*headDim]; otherwise
// (max, sum, unnormalised accumulator) go to partial[((r*heads + h)*splits + s)*(headDim + 2)].
// Each warp takes 32 keys at a time, one per lane: scores, an online-softmax update, then the
// lanes accumulate their own output dims (lane + 32*i) over the chunk's probabilities.
extern "C" __global__ void attention(const float* GL_RESTRICT q, int qStride, const float* GL_RESTRICT k,
                                     const float* GL_RESTRICT v, int kvStride, float* GL_RESTRICT out,
                                     int outStride, const int* GL_RESTRICT rowLo, const int* GL_RESTRICT rowHi,
                                     int causalBase, int heads, int group, int headDim, float scale,
                                     float* GL_RESTRICT partial, int splits, int splitLen) {
  __shared__ float qs[ATTN_MAX_HEAD_DIM];
  __shared__ float probs[ATTN_WARPS][32];
  __shared__ float wacc[ATTN_WARPS][ATTN_MAX_HEAD_DIM];
  __shared__ float wm[ATTN_WARPS];
  __shared__ float wl[ATTN_WARPS];

  int r = blockIdx.x;
  int h = blockIdx.y;
  int s = blockIdx.z;
  int lane = threadIdx.x & 31;
  int warp = threadIdx.x >> 5;
  int g = h / group;

  int lo;
  int hi;
  if (rowLo != 0) {
    lo = rowLo[r];
    hi = rowHi[r];
  } else {
    lo = 0;
    hi = causalBase + r + 1;
  }
  int begin = lo + s * splitLen;
  int end = min(hi, begin + splitLen);

  const float* qrow = q + (long long)r * qStride + h * headDim;
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) qs[d] = qrow[d] * scale;
  __syncthreads();

  const float* kbase = k + g * headDim;
  const float* vbase = v + g * headDim;
  float m = GL_NEG_INF;
  float l = 0.0f;
  float acc[ATTN_DIMS_PER_LANE];
#pragma unroll
  for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) acc[i] = 0.0f;

  for (int base = begin + warp * 32; base < end; base += ATTN_WARPS * 32) {
    int j = base + lane;
    float score = GL_NEG_INF;
    if (j < end) {
      const float* kr = kbase + (long long)j * kvStride;
      float dot = 0.0f;
      for (int d = 0; d < headDim; d++) dot += qs[d] * kr[d];
      score = dot;
    }
    float mNew = fmaxf(m, warp_max(score));
    float corr = expf(m - mNew);
    float p = j < end ? expf(score - mNew) : 0.0f;
    l = l * corr + warp_sum(p);
    probs[warp][lane] = p;
    __syncwarp();
    int count = min(32, end - base);
#pragma unroll
    for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
      int d = lane + 32 * i;
      if (d < headDim) {
        float a = acc[i] * corr;
        for (int jj = 0; jj < count; jj++) a += probs[warp][jj] * vbase[(long long)(base + jj) * kvStride + d];
        acc[i] = a;
      }
    }
    __syncwarp();
    m = mNew;
  }

  if (lane == 0) {
    wm[warp] = m;
    wl[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
    int d = lane + 32 * i;
    if (d < headDim) wacc[warp][d] = acc[i];
  }
  __syncthreads();

  float mAll = GL_NEG_INF;
  for (int w = 0; w < ATTN_WARPS; w++) mAll = fmaxf(mAll, wm[w]);
  float lAll = 0.0f;
  float f[ATTN_WARPS];
  for (int w = 0; w < ATTN_WARPS; w++) {
    f[w] = wm[w] == GL_NEG_INF ? 0.0f : expf(wm[w] - mAll);
    lAll += wl[w] * f[w];
  }
  if (splits == 1) {
    float* o = out + (long long)r * outStride + h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
      float a = 0.0f;
      for (int w = 0; w < ATTN_WARPS; w++) a += wacc[w][d] * f[w];
      o[d] = a / lAll;
    }
  } else {
    float* p = partial + (((long long)r * heads + h) * splits + s) * (headDim + 2);
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
      float a = 0.0f;
      for (int w = 0; w < ATTN_WARPS; w++) a += wacc[w][d] * f[w];
      p[2 + d] = a;
    }
    if (threadIdx.x == 0) {
      p[0] = mAll;
      p[1] = lAll;
    }
  }
}

// Merges the splits of attention(): block (row, head); splits that saw no key have sum 0.
extern "C" __global__ void attention_combine(const float* GL_RESTRICT partial, float* GL_RESTRICT out,
                                             int outStride, int heads, int headDim, int splits) {
  int r = blockIdx.x;
  int h = blockIdx.y;
  const float* p = partial + ((long long)r * heads + h) * splits * (headDim + 2);
  float mAll = GL_NEG_INF;
  for (int s = 0; s < splits; s++) mAll = fmaxf(mAll, p[s * (headDim + 2)]);
  float lAll = 0.0f;
  for (int s = 0; s < splits; s++) {
    float ms = p[s * (headDim + 2)];
    if (ms != GL_NEG_INF) lAll += p[s * (headDim + 2) + 1] * expf(ms - mAll);
  }
  float* o = out + (long long)r * outStride + h * headDim;
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
    float a = 0.0f;
    for (int s = 0; s < splits; s++) {
      float ms = p[s * (headDim + 2)];
      if (ms != GL_NEG_INF) a += p[s * (headDim + 2) + 2 + d] * expf(ms - mAll);
    }
    o[d] = a / lAll;
  }
}
