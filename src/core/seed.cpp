// The stream-seed derivation (core/seed.h).
#include "core/seed.h"

namespace grm {

uint64_t stream_seed(uint64_t seed, Stream purpose, uint64_t input, uint64_t index) {
    uint64_t h = splitmix64(splitmix64(seed) ^ splitmix64((uint64_t) purpose));
    h          = splitmix64(h ^ input);
    return splitmix64(h ^ index);
}

uint64_t stream_seed(uint64_t seed, Stream purpose, std::string_view input_id, uint64_t index) {
    return stream_seed(seed, purpose, fnv1a(input_id), index);
}

}  // namespace grm
