// A small seeded generator (splitmix64) whose draws are identical on every platform and standard
// library, so a seed names the same judge-world file everywhere.
#pragma once

#include "core/seed.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace grm::world {

// The hashes are core/seed.h's (the same values the world was generated with).
inline uint64_t mix64(uint64_t x) { return splitmix64(x); }

// Derives an independent stream seed from a parent seed and a tag (split, index, purpose). The
// world keeps this formula rather than core's stream_seed: every judge-world file is defined by it.
inline uint64_t derive_seed(uint64_t seed, uint64_t tag) { return mix64(mix64(seed) ^ mix64(tag + 0x632be59bd9b4e019ull)); }

inline uint64_t hash_str(const std::string & s) { return fnv1a(s); }

class Rng {
  public:
    explicit Rng(uint64_t seed) : s_(seed) {}

    uint64_t next() { return mix64(s_++ * 0x9e3779b97f4a7c15ull + 1); }
    // Uniform in [0, n); n > 0. The modulo bias is below 1e-9 for the ranges used here.
    int       below(int n) { return (int) (next() % (uint64_t) n); }
    long long range(long long lo, long long hi) { return lo + (long long) (next() % (uint64_t) (hi - lo + 1)); }
    double    uniform() { return (double) (next() >> 11) * (1.0 / 9007199254740992.0); }
    bool      chance(double p) { return uniform() < p; }

    template <class T> const T & pick(const std::vector<T> & v) { return v[(size_t) below((int) v.size())]; }
    template <class T> void shuffle(std::vector<T> & v) {
        for (int i = (int) v.size() - 1; i > 0; i--) std::swap(v[(size_t) i], v[(size_t) below(i + 1)]);
    }
    // Index drawn with the given non-negative weights.
    int weighted(const std::vector<double> & w) {
        double total = 0;
        for (double x : w) total += x;
        double r = uniform() * total;
        for (size_t i = 0; i < w.size(); i++) {
            if (r < w[i]) return (int) i;
            r -= w[i];
        }
        return (int) w.size() - 1;
    }

  private:
    uint64_t s_;
};

}  // namespace grm::world
