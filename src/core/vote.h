// Position shuffling, the correctness rule (Eq. 10) and voting (Eq. 14).
#pragma once

#include "core/sample.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace grm {

// Seeded permutation: order[p] = original index shown at position p. Identity when shuffle=false.
// seed: a stream seed (core/seed.h, Stream::shuffle in the judge pipeline).
std::vector<int> shuffle_order(int n, uint64_t seed, bool shuffle = true);
// Maps scores given in shown order back to original response order.
std::vector<int> unshuffle_scores(const std::vector<int> & shown_scores, const std::vector<int> & order);

// Eq. 10. n >= 2: the best response's score is strictly higher than every other (ties wrong).
// n == 1: the score equals the ground-truth rating; binary (a 0/1 judgment, JudgeParams::binary_single):
// the score equals the 0/1 label. Scores in original order.
bool is_correct(const std::vector<int> & scores, const Sample & s, bool binary = false);

// Index of the strictly highest reward, or nullopt on a tie at the top / no rewards.
std::optional<int> strict_argmax(const std::vector<double> & rewards);
// Highest reward with ties broken uniformly at random by `seed`, a stream seed (Stream::tie_break)
// (the paper's evaluation protocol).
int random_tiebreak_argmax(const std::vector<double> & rewards, uint64_t seed);

}  // namespace grm
