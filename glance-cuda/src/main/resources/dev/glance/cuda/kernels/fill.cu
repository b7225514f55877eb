// Deterministic pseudo-random fills for benchmarks (weights made on the device, not uploaded).
#include "glance_common.cuh"

GL_DEVICE unsigned long long splitmix64(unsigned long long z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// out[i] = bf16 of a uniform value in [-scale, scale), a pure function of (seed, i).
extern "C" __global__ void fill_uniform_bf16(bf16_t* GL_RESTRICT out, long long n, unsigned long long seed,
                                             float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    unsigned long long z = splitmix64(seed * 0x632be59bd9b4e019ull + (unsigned long long)i);
    float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    out[i] = f2bf((2.0f * u - 1.0f) * scale);
  }
}
