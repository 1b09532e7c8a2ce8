// The engine tests of grm's ggml device (exact_attention.h, decode_matmul.h): one prompt's 8 greedy
// samples (32 tokens, end of text ignored; their cells interleaved in the unified KV cache, as in a
// judgment) from an engine with the device off, then on, and how far the device's counters moved.
#pragma once

#include "engines/llama_engine.h"
#include "llama/llama_model.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace grm::test {

struct DeviceRuns {
    std::vector<std::string> texts[2];   // [0]: exact_attention off, [1]: on
    std::vector<long>        counted[2]; // each counter's change during that run
    std::string              describe_on;
};

// Off runs first: in a process where no engine has registered the device yet, it is llama.cpp's
// kernels throughout (the device is process-wide once registered).
inline DeviceRuns device_runs(const std::string & gguf, const std::vector<long (*)()> & counters) {
    DeviceRuns out;
    auto       model = LlamaModel::load(gguf);
    EXPECT_TRUE(model.ok()) << model.error().to_string();
    if (!model) return out;
    GenerationRequest r;
    r.prompts.assign(8, "Judge the responses to the query below. [Query] What is 47 + 38? [End of Query] [Response 1] 85");
    r.chat                 = false;
    r.sampling.temperature = 0.0f;
    r.sampling.max_tokens  = 32;
    r.sampling.ignore_eos  = true;
    for (int on = 0; on < 2; on++) {
        LlamaEngineParams p;
        p.threads         = 1;
        p.exact_attention = on == 1;  // registers the device
        p.draft_max       = 0;
        auto e            = LlamaEngine::create(*model, p);
        EXPECT_TRUE(e.ok()) << e.error().to_string();
        if (!e) return out;
        std::vector<long> before;
        for (auto c : counters) before.push_back(c());
        auto g = (*e)->generate_one(r);
        EXPECT_TRUE(g.ok()) << g.error().to_string();
        if (!g) return out;
        for (const auto & s : g.value()) out.texts[on].push_back(s.text);
        for (size_t i = 0; i < counters.size(); i++) out.counted[on].push_back(counters[i]() - before[i]);
        if (on) out.describe_on = (*e)->describe();
    }
    return out;
}

}  // namespace grm::test
