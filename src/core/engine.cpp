// Names of finish reasons (as in JSON output and the OpenAI wire format); per-sample sampler seeds.
#include "core/engine.h"

#include "core/seed.h"

namespace grm {

const char * finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::stop:   return "stop";
        case FinishReason::length: return "length";
        case FinishReason::error:  return "error";
    }
    return "unknown";
}

uint64_t sample_seed(const GenerationRequest & request, int i) {
    if (i >= 0 && i < (int) request.seeds.size()) return request.seeds[(size_t) i];
    return stream_seed(request.sampling.seed, Stream::engine_sample, 0, (uint64_t) i);
}

}  // namespace grm
