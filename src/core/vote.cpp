// Seeded position shuffling, the correctness rule (Eq. 10) and argmax helpers.
#include "core/vote.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace grm {

std::vector<int> shuffle_order(int n, uint64_t seed, bool shuffle) {
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    if (!shuffle) return order;
    // Fisher-Yates with mt19937_64: std::shuffle's algorithm is implementation-defined, this is not.
    // The fixed affine map of the seed is kept from before core/seed.h: the world's RFT data and
    // quote drill call this with their own seeds, and their files must stay bit-identical.
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (rng() % (uint64_t) (i + 1));
        std::swap(order[i], order[j]);
    }
    return order;
}

std::vector<int> unshuffle_scores(const std::vector<int> & shown, const std::vector<int> & order) {
    std::vector<int> out(shown.size());
    for (size_t p = 0; p < shown.size(); p++) out[order[p]] = shown[p];
    return out;
}

bool is_correct(const std::vector<int> & scores, const Sample & s, bool binary) {
    if ((int) scores.size() != s.n() || scores.empty()) return false;
    if (s.n() == 1) {
        if (binary) return s.label && scores[0] == *s.label;
        return !s.ratings.empty() && scores[0] == s.ratings[0];
    }
    if (!s.best) return false;
    for (int i = 0; i < s.n(); i++) {
        if (i != *s.best && scores[i] >= scores[*s.best]) return false;
    }
    return true;
}

std::optional<int> strict_argmax(const std::vector<double> & r) {
    if (r.empty()) return std::nullopt;
    int best = 0;
    for (int i = 1; i < (int) r.size(); i++) {
        if (r[i] > r[best]) best = i;
    }
    for (int i = 0; i < (int) r.size(); i++) {
        if (i != best && r[i] == r[best]) return std::nullopt;
    }
    return best;
}

int random_tiebreak_argmax(const std::vector<double> & r, uint64_t seed) {
    double           top = *std::max_element(r.begin(), r.end());
    std::vector<int> tied;
    for (int i = 0; i < (int) r.size(); i++) {
        if (r[i] == top) tied.push_back(i);
    }
    std::mt19937_64 rng(seed);  // seed: a stream seed (Stream::tie_break)
    return tied[rng() % tied.size()];
}

}  // namespace grm
