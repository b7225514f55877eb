// Rotary position embeddings, in place, and the tables they read.
#include "glance_common.cuh"

// Text M-RoPE rotation: adjacent pairs (2j, 2j+1), j < pairs, of each head in columns
// [colOffset, colOffset + heads*headDim) of row r; dims past 2*pairs pass through (partial
// rotary). cos/sin are [rows][pairs]. One block per row.
extern "C" __global__ void rotary_interleaved(float* x, int stride, int colOffset, int heads, int headDim,
                                              const float* GL_RESTRICT cos, const float* GL_RESTRICT sin,
                                              int pairs) {
  int r = blockIdx.x;
  float* row = x + (long long)r * stride + colOffset;
  const float* c = cos + (long long)r * pairs;
  const float* s = sin + (long long)r * pairs;
  for (int i = threadIdx.x; i < heads * pairs; i += blockDim.x) {
    int h = i / pairs;
    int j = i - h * pairs;
    float* p = row + h * headDim + 2 * j;
    float a = p[0];
    float b = p[1];
    p[0] = a * c[j] - b * s[j];
    p[1] = b * c[j] + a * s[j];
  }
}

// Vision rotation: rotate-half over each whole head (pairs i and i + headDim/2); cos/sin are
// [rows][headDim/2]. One block per row.
extern "C" __global__ void rotary_half(float* x, int stride, int colOffset, int heads, int headDim,
                                       const float* GL_RESTRICT cos, const float* GL_RESTRICT sin) {
  int r = blockIdx.x;
  int half = headDim / 2;
  float* row = x + (long long)r * stride + colOffset;
  const float* c = cos + (long long)r * half;
  const float* s = sin + (long long)r * half;
  for (int i = threadIdx.x; i < heads * half; i += blockDim.x) {
    int h = i / half;
    int j = i - h * half;
    float* p = row + h * headDim;
    float a = p[j];
    float b = p[j + half];
    p[j] = a * c[j] - b * s[j];
    p[j + half] = b * c[j] + a * s[j];
  }
}

// M-RoPE tables for tokens [from, from + n) of a (3 x L) position array (rows t, h, w): pair j
// takes its position from axis axisOf[j] (mrope_section, counted in pairs). The angle is a
// float32 product, as the reference computes it.
extern "C" __global__ void mrope_tables(const int* GL_RESTRICT positions, int L, int from, int n,
                                        const float* GL_RESTRICT invFreq, const int* GL_RESTRICT axisOf,
                                        int pairs, float* GL_RESTRICT cos, float* GL_RESTRICT sin) {
  long long total = (long long)n * pairs;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    int t = (int)(i / pairs);
    int j = (int)(i - (long long)t * pairs);
    float angle = (float)positions[(long long)axisOf[j] * L + from + t] * invFreq[j];
    cos[i] = cosf(angle);
    sin[i] = sinf(angle);
  }
}

// Vision 2-D rotary tables: for q = headDim/4 frequencies, columns [0, q) follow the patch's
// row and [q, 2q) its column. cos/sin are [n][2q].
extern "C" __global__ void vision_rope_tables(const int* GL_RESTRICT ph, const int* GL_RESTRICT pw, int n,
                                              const float* GL_RESTRICT invFreq, int q,
                                              float* GL_RESTRICT cos, float* GL_RESTRICT sin) {
  long long total = (long long)n * q;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    int r = (int)(i / q);
    int j = (int)(i - (long long)r * q);
    float ah = (float)ph[r] * invFreq[j];
    float aw = (float)pw[r] * invFreq[j];
    long long base = (long long)r * 2 * q;
    cos[base + j] = cosf(ah);
    sin[base + j] = sinf(ah);
    cos[base + q + j] = cosf(aw);
    sin[base + q + j] = sinf(aw);
  }
}

GL_DEVICE double cubic_near(double x, double a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
GL_DEVICE double cubic_far(double x, double a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

// The vision position table [side*side][dim] resampled to each patch's grid like torch's
// grid_sample: bicubic (Keys a = -0.75), align_corners=False, border padding (clamped taps).
// Weights in double and a float accumulator, tap order as the CPU twin. One block per patch.
extern "C" __global__ void pos_embed_bicubic(const float* GL_RESTRICT table, int side, int dim,
                                             const int* GL_RESTRICT ph, const int* GL_RESTRICT pw,
                                             const int* GL_RESTRICT gh, const int* GL_RESTRICT gw,
                                             float* GL_RESTRICT out) {
  const double A = -0.75;
  int r = blockIdx.x;
  float gx = ((((float)pw[r] + 0.5f) / (float)gw[r]) * 2.0f) - 1.0f;
  float gy = ((((float)ph[r] + 0.5f) / (float)gh[r]) * 2.0f) - 1.0f;
  double ix = (((double)gx + 1.0) * side - 1) / 2;
  double iy = (((double)gy + 1.0) * side - 1) / 2;
  int x0 = (int)floor(ix);
  int y0 = (int)floor(iy);
  double tx = ix - x0;
  double ty = iy - y0;
  double wx[4] = {cubic_far(tx + 1, A), cubic_near(tx, A), cubic_near(1 - tx, A), cubic_far(2 - tx, A)};
  double wy[4] = {cubic_far(ty + 1, A), cubic_near(ty, A), cubic_near(1 - ty, A), cubic_far(2 - ty, A)};
  float* o = out + (long long)r * dim;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float acc = 0.0f;
    for (int i = 0; i < 4; i++) {
      int yy = min(max(y0 - 1 + i, 0), side - 1);
      for (int j = 0; j < 4; j++) {
        int xx = min(max(x0 - 1 + j, 0), side - 1);
        double wgt = wy[i] * wx[j];
        acc += (float)(wgt * table[((long long)yy * side + xx) * dim + c]);
      }
    }
    o[c] = acc;
  }
}
