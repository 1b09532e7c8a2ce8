// best_of_n: rank N candidate responses with a GRM, the way a best-of-N sampler would.
//
//   build/examples/best_of_n [model.gguf | http://host:port] [k]
//
// One sample (a query and its N responses) is judged k times with shuffled positions; the k
// judgments are summed by voting and the strict argmax is the pick. No model argument: the
// embedded default GRM.
#include "core/judge.h"
#include "engines/make_engine.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char ** argv) {
    grm::EngineOptions eo;
    eo.model         = argc > 1 ? argv[1] : grm::default_model_path();
    eo.llama.threads = 1;
    auto engine = grm::make_engine(eo);  // a GGUF path runs llama.cpp in-process, a URL an OpenAI-compatible server
    if (!engine) {
        std::fprintf(stderr, "best_of_n: %s\n", engine.error().to_string().c_str());
        return 2;
    }

    grm::Sample s;
    s.id           = "best-of-n-example";
    s.conversation = { { "user", "What is 47 + 38?" } };
    s.responses    = { "47 + 38 = 84.", "47 + 38 = 85.", "75" };

    grm::JudgeParams p;  // defaults: the default prompt template, shuffled positions, T = 0.5
    p.k    = argc > 2 ? std::atoi(argv[2]) : 4;
    p.seed = 1;
    auto results = grm::judge_batch(**engine, { s }, p);
    if (!results[0]) {
        std::fprintf(stderr, "best_of_n: %s\n", results[0].error().to_string().c_str());
        return 1;
    }
    const grm::Judgment & j = *results[0];
    std::printf("%d of %d judgments scorable\n", j.n_valid, p.k);
    for (const auto & [reason, count] : j.unscorable) std::printf("  unscorable (%s): %d\n", reason.c_str(), count);
    if (j.n_valid == 0) {
        std::printf("no pick: nothing scorable (never a made-up score)\n");
        return 0;
    }
    for (int i = 0; i < s.n(); i++) std::printf("response %d: reward %.0f  \"%s\"\n", i, j.rewards[i], s.responses[i].c_str());
    if (j.best) std::printf("pick: response %d\n", *j.best);
    else std::printf("pick: none (tie at the top)\n");
    return 0;
}
