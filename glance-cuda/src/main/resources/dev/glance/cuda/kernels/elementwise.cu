// Row norms and element-wise ops over float32 activations, row-major [rows][cols].
#include "glance_common.cuh"

// Embedding gather: out[r][c] = table[ids[r]][c]; ids were range-checked on the host.
extern "C" __global__ void embed_bf16(const bf16_t* GL_RESTRICT table, const int* GL_RESTRICT ids,
                                      float* GL_RESTRICT out, int cols) {
  int r = blockIdx.x;
  const bf16_t* src = table + (long long)ids[r] * cols;
  float* dst = out + (long long)r * cols;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = bf2f(src[c]);
}

// RMSNorm of one row per block: y = x / sqrt(mean(x^2) + eps) * w. out may be x: every thread
// writes only the elements it read.
extern "C" __global__ void rms_norm(const float* x, const float* GL_RESTRICT w, float* out, int cols,
                                    float eps) {
  __shared__ float scratch[32];
  const float* row = x + (long long)blockIdx.x * cols;
  float ss = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float v = row[c];
    ss += v * v;
  }
  ss = block_sum(ss, scratch);
  float inv = rsqrtf(ss / (float)cols + eps);
  float* o = out + (long long)blockIdx.x * cols;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) o[c] = row[c] * inv * w[c];
}

// LayerNorm with weight and bias, two passes (mean, then centred variance) as the reference.
extern "C" __global__ void layer_norm(const float* x, const float* GL_RESTRICT w,
                                      const float* GL_RESTRICT b, float* out, int cols, float eps) {
  __shared__ float scratch[32];
  const float* row = x + (long long)blockIdx.x * cols;
  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) s += row[c];
  float mean = block_sum(s, scratch) / (float)cols;
  float var = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float d = row[c] - mean;
    var += d * d;
  }
  var = block_sum(var, scratch) / (float)cols;
  float inv = rsqrtf(var + eps);
  float* o = out + (long long)blockIdx.x * cols;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) o[c] = (row[c] - mean) * inv * w[c] + b[c];
}

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}

// out[r][c] += bias[c]: the bias of a GEMM whose epilogue could not add it.
extern "C" __global__ void add_bias_rows(float* out, const float* GL_RESTRICT bias, int rows, int cols) {
  long long n = (long long)rows * cols;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] += bias[i % cols];
  }
}

// SwiGLU over a fused [gate | up] row: out[r][i] = silu(gu[r][i]) * gu[r][half + i].
extern "C" __global__ void silu_glu(const float* GL_RESTRICT gu, float* GL_RESTRICT out, int rows, int half) {
  long long n = (long long)rows * half;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    long long r = i / half;
    int c = (int)(i - r * half);
    const float* row = gu + r * 2 * half;
    out[i] = silu(row[c]) * row[half + c];
  }
}

// out = silu(g) * u; out may alias g or u (each element is read before it is written).
extern "C" __global__ void silu_mul(const float* g, const float* u, float* out, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] = silu(g[i]) * u[i];
  }
}

// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), in place.
extern "C" __global__ void gelu_erf(float* x, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    float v = x[i];
    x[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
  }
}

// float32 -> bf16 (round to nearest even): a GEMM's activation operand.
extern "C" __global__ void f32_to_bf16(const float* GL_RESTRICT x, bf16_t* GL_RESTRICT out, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] = f2bf(x[i]);
  }
}
