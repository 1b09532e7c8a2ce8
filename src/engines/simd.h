// The vectors grm's CPU kernels (exact_attention.cpp, decode_matmul.cpp) compute in: 16 floats,
// AVX-512 registers on this machine (the files are built -march=native), pairs or quads of narrower
// registers elsewhere; GCC/Clang vector extensions, so the kernels carry no intrinsics of their own.
#pragma once

#include <ggml.h>

#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

namespace grm::simd {

constexpr int kW = 16;  // floats per vector

typedef float   vf __attribute__((vector_size(kW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kW * sizeof(int32_t))));

inline int  whole_vectors(int n) { return (n + kW - 1) / kW * kW; }  // n rounded up to whole vectors
inline vf   vload(const float * p) { vf v; std::memcpy(&v, p, sizeof v); return v; }
inline void vstore(float * p, vf v) { std::memcpy(p, &v, sizeof v); }
inline float hsum(vf v) {
    float s = 0;
    for (int l = 0; l < kW; l++) s += v[l];
    return s;
}

// out[i] = the sum of v[i]'s lanes, for 16 vectors: a shuffle tree of 15 adds where 16 separate
// horizontal sums take 60
inline void hsum16(const vf * v, float * out) {
#if defined(__AVX512F__)
    // (the masked shuffle_f32x4: GCC 12 warns on the unmasked one's unused operand)
#define GRM_SHUF4(x, y, imm) _mm512_mask_shuffle_f32x4(_mm512_setzero_ps(), 0xFFFF, x, y, imm)
    __m512 a[16], u[8], w[4], z[2];
    std::memcpy(a, v, sizeof a);
    for (int i = 0; i < 8; i++) u[i] = _mm512_add_ps(GRM_SHUF4(a[2 * i], a[2 * i + 1], 0x44), GRM_SHUF4(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 4; i++) w[i] = _mm512_add_ps(GRM_SHUF4(u[2 * i], u[2 * i + 1], 0x88), GRM_SHUF4(u[2 * i], u[2 * i + 1], 0xDD));
#undef GRM_SHUF4
    for (int i = 0; i < 2; i++) z[i] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0x44), _mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0xEE));
    alignas(64) float s[16];
    _mm512_store_ps(s, _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD)));
    static constexpr int kLane[16] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 };  // lane i holds v[kLane[i]]'s sum
    for (int i = 0; i < 16; i++) out[kLane[i]] = s[i];
#else
    for (int i = 0; i < 16; i++) out[i] = hsum(v[i]);
#endif
}

// n F16 values to F32
inline void to_f32(const ggml_fp16_t * x, float * y, int n) {
    int i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mask_cvtph_ps(_mm512_setzero_ps(), 0xFFFF, _mm256_loadu_si256((const __m256i *) (x + i))));
#endif
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))));
#endif
    if (i < n) ggml_fp16_to_fp32_row(x + i, y + i, n - i);
}

// one vector from kW consecutive weights of any of the types the kernels read
inline vf vload(const ggml_fp16_t * p) {
#if defined(__AVX512F__)
    vf v;
    const __m512 r = _mm512_mask_cvtph_ps(_mm512_setzero_ps(), 0xFFFF, _mm256_loadu_si256((const __m256i *) p));  // the unmasked form warns in GCC 12
    std::memcpy(&v, &r, sizeof v);
    return v;
#else
    float t[kW];
    to_f32(p, t, kW);
    return vload(t);
#endif
}
inline vf vload(const ggml_bf16_t * p) {  // BF16 is the top half of an F32
    uint16_t h[kW];
    std::memcpy(h, p, sizeof h);
    vi u;
    for (int l = 0; l < kW; l++) u[l] = (int32_t) h[l] << 16;
    vf v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

inline float to_float(float x) { return x; }
inline float to_float(ggml_fp16_t x) { return ggml_fp16_to_fp32(x); }
inline float to_float(ggml_bf16_t x) { return ggml_bf16_to_fp32(x); }

}  // namespace grm::simd
