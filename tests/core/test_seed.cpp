// The one seed derivation (core/seed.h): hand-computed values, and distinct streams where the old
// `seed + i` scheme shared them (seed 2's samples were seed 1's, shifted by one).
#include "core/seed.h"

#include <gtest/gtest.h>

#include <set>

using namespace grm;

TEST(Seed, HashesMatchReferenceValues) {
    // splitmix64's first outputs for states 0 and 1 (the published reference generator)
    EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafull);
    EXPECT_EQ(splitmix64(1), 0x910a2dec89025cc1ull);
    // FNV-1a with grm's basis (the held-out lexicon and checkpoint fingerprints depend on it)
    EXPECT_EQ(fnv1a(""), 1469598103934665603ull);
    EXPECT_EQ(fnv1a("a"), 0x44bd8ad473cd9906ull);
    EXPECT_EQ(fnv1a("grm"), 0xf07269511597f295ull);
    EXPECT_EQ(fnv1a_word(fnv1a_word(kFnvOffset, 'g'), 'r'), fnv1a("gr"));
}

TEST(Seed, StreamSeedsArePinned) {
    // computed by hand from the definition (chained splitmix64); a change here changes every run
    EXPECT_EQ(stream_seed(1, Stream::engine_sample, "a", 0), 0xdacad101684dc8ccull);
    EXPECT_EQ(stream_seed(1, Stream::engine_sample, "a", 1), 0x47633cb4f52ddda7ull);
    EXPECT_EQ(stream_seed(2, Stream::engine_sample, "a", 0), 0x7052c34614277285ull);
    EXPECT_EQ(stream_seed(0, Stream::shuffle), 0x4a2f44bca8213cc0ull);
    EXPECT_EQ(stream_seed(1, Stream::engine_sample, "a", 1), stream_seed(1, Stream::engine_sample, fnv1a("a"), 1));
}

TEST(Seed, HundredSeedsTimesEightSamplesAreDistinct) {
    std::set<uint64_t> seeds, folded;
    for (uint64_t seed = 0; seed < 100; seed++) {
        for (uint64_t i = 0; i < 8; i++) {
            const uint64_t s = stream_seed(seed, Stream::engine_sample, "input-7", i);
            seeds.insert(s);
            folded.insert((uint32_t) (s ^ (s >> 32)));  // what llama.cpp's 32-bit sampler seed gets
        }
    }
    EXPECT_EQ(seeds.size(), 800u);
    EXPECT_EQ(folded.size(), 800u);
}

TEST(Seed, NeighbouringSeedsShareNoStream) {
    // the old scheme: seed 2's sample i was seed 1's sample i + 1
    std::set<uint64_t> one;
    for (uint64_t i = 0; i < 64; i++) one.insert(stream_seed(1, Stream::engine_sample, "x", i));
    for (uint64_t i = 0; i < 64; i++) EXPECT_EQ(one.count(stream_seed(2, Stream::engine_sample, "x", i)), 0u) << i;
}

TEST(Seed, PurposeAndInputSeparateStreams) {
    std::set<uint64_t> all;
    const Stream       purposes[] = { Stream::engine_sample, Stream::shuffle,     Stream::tie_break,
                                      Stream::adaptive_chunk, Stream::rl_order,   Stream::rl_rollout,
                                      Stream::rl_filter,      Stream::meta_data,  Stream::train_order,
                                      Stream::meta_rollout,   Stream::meta_balance, Stream::rft_mix,
                                      Stream::lora_init };
    for (Stream p : purposes)
        for (const char * id : { "", "a", "b", "ab" })
            for (uint64_t i = 0; i < 4; i++) all.insert(stream_seed(5, p, id, i));
    EXPECT_EQ(all.size(), 13u * 4u * 4u);
}
