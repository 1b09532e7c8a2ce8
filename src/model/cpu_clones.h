// GRM_CLONES: the fused CPU kernels' per-row loops are plain C++ for the compiler to vectorise; on
// x86-64 GCC also builds an AVX2 copy of each, picked at load time (the binary runs on any x86-64).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define GRM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GRM_CLONES
#endif
