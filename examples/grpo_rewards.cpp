// grpo_rewards: pointwise rewards for a GRPO group, the way an RL trainer calls a GRM.
//
//   build/examples/grpo_rewards [model.gguf | http://host:port] [k]
//
// G rollouts of one prompt are judged each on its own (single-response samples), all in one
// engine call so that the shared prompt is prefilled once. The reward of a rollout is its mean
// voted score on the 1..10 scale; an unscorable judgment gets no reward and is masked, as a
// trainer should (grm never turns a parse failure into a score).
#include "core/judge.h"
#include "engines/make_engine.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    grm::EngineOptions eo;
    eo.model         = argc > 1 ? argv[1] : grm::default_model_path();
    eo.llama.threads = 1;
    auto engine = grm::make_engine(eo);
    if (!engine) {
        std::fprintf(stderr, "grpo_rewards: %s\n", engine.error().to_string().c_str());
        return 2;
    }

    const std::string              prompt   = "What is 12 * 11?";
    const std::vector<std::string> rollouts = { "12 * 11 = 132.", "12 * 11 = 122.", "132", "It is 121." };
    std::vector<grm::Sample>       group;
    for (size_t i = 0; i < rollouts.size(); i++) {
        grm::Sample s;
        s.id           = "rollout-" + std::to_string(i);  // part of the shuffle/sampling seed
        s.conversation = { { "user", prompt } };
        s.responses    = { rollouts[i] };
        group.push_back(std::move(s));
    }
    grm::JudgeParams p;
    p.k    = argc > 2 ? std::atoi(argv[2]) : 2;
    p.seed = 7;
    auto results = grm::judge_batch(**engine, group, p);  // one Result per rollout
    for (size_t i = 0; i < group.size(); i++) {
        if (!results[i]) {
            std::printf("rollout %zu: error %s\n", i, results[i].error().to_string().c_str());
        } else if (results[i]->n_voted == 0) {
            std::printf("rollout %zu: masked (no scorable judgment)\n", i);
        } else {
            std::printf("rollout %zu: reward %.2f  \"%s\"\n", i, results[i]->rewards[0] / results[i]->n_voted, rollouts[i].c_str());
        }
    }
    return 0;
}
