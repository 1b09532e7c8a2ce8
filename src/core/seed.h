// Seeds: the one hash (splitmix64 finalizer, FNV-1a for bytes) and the one derivation every random
// stream in grm goes through, so two streams share draws only when (seed, purpose, input, index) agree.
#pragma once

#include <cstdint>
#include <string_view>

namespace grm {

// splitmix64's finalizer: a bijection on 64-bit values that spreads every input bit over the output.
constexpr uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// FNV-1a (64 bit): fixed and platform-independent, so ids, the held-out lexicon and checkpoint data
// fingerprints hash the same in every build. fnv1a_word folds one value in as a single "byte".
// The offset is the standard basis 14695981039346656037 without its last digit, as grm's first
// hashes wrote it: the world's held-out lexicon and the data fingerprints in checkpoints are
// defined by this value, so it stays (any nonzero basis hashes as well).
constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime  = 1099511628211ull;  // 2^40 + 2^8 + 0xb3
constexpr uint64_t fnv1a_word(uint64_t h, uint64_t w) { return (h ^ w) * kFnvPrime; }
constexpr uint64_t fnv1a(std::string_view s, uint64_t h = kFnvOffset) {
    for (char c : s) h = fnv1a_word(h, (unsigned char) c);
    return h;
}

// What a stream is for: the same (seed, input, index) gives unrelated streams for different purposes.
// The values are part of every run's identity (results, checkpoints): append, never renumber.
enum class Stream : uint64_t {
    engine_sample  = 1,   // the sampler of one generation (sample `index` of input `input`)
    shuffle        = 2,   // the response order shown in one sampled prompt
    tie_break      = 3,   // the random pick among tied top rewards (random-tie-break accuracy)
    adaptive_chunk = 4,   // chunk `index` of adaptive voting
    rl_order       = 5,   // GRPO: the input order of epoch `index`
    rl_rollout     = 6,   // GRPO: the rollouts of step `index` (shuffles and the torch sampler)
    rl_filter      = 7,   // GRPO: the reference samples that filter always-right inputs
    meta_data      = 8,   // meta RM data: the teacher's slips in its sample `index` of input `input`
    train_order    = 9,   // trainers (LM, meta RM, BT RM): the example order of epoch `index`
    meta_rollout   = 10,  // meta RM data: the policy's samples of the inputs from `input` on
    meta_balance   = 11,  // meta RM data: which examples label balancing keeps
    rft_mix        = 12,  // RFT data: which general instruction rows are mixed in
    lora_init      = 13,  // LoRA: the A matrices of a run's adapters (trainers' --lora-rank)
};

// The seed of one stream: sample `index` of input `input` (an id hashed by fnv1a, or a number) for
// `purpose`, under the run's `seed`. Chained splitmix64: for a fixed (seed, purpose, input) distinct
// indices always give distinct stream seeds; anything else collides with probability ~2^-64.
uint64_t stream_seed(uint64_t seed, Stream purpose, uint64_t input = 0, uint64_t index = 0);
uint64_t stream_seed(uint64_t seed, Stream purpose, std::string_view input_id, uint64_t index);

}  // namespace grm
