// A few GRPO steps on a tiny random model: one step raises the log-probability of the rollouts
// rewarded +1 against those rewarded -1 (advantages recomputed here), deterministic by seed,
// bit-identical across save/resume; plus the log plot.
#include "common/fixtures.h"
#include "model/generate.h"
#include "rl/grpo.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <iterator>
#include <thread>

namespace grm::rl {
namespace {

struct World {
    LlamaConfig                       cfg;
    std::shared_ptr<LlamaModel> tok;
    std::vector<Sample>               inputs;
};

World make_world() {
    World w;
    w.cfg         = test::default_tiny_config();
    w.cfg.n_vocab = int(byte_level_vocab().pieces.size());
    auto tok      = LlamaModel::load(test::tiny_model(w.cfg), /*vocab_only=*/true);
    EXPECT_TRUE(bool(tok));
    w.tok = *tok;
    for (int i = 0; i < 3; ++i) {
        Sample s;
        s.id           = "in" + std::to_string(i);
        s.conversation = {{"user", "2+" + std::to_string(i)}};
        s.responses    = {std::to_string(2 + i), std::to_string(3 + i)};
        s.ratings      = {9, 2};
        s.best         = 0;
        w.inputs.push_back(s);
    }
    return w;
}

// A reward a random model earns about half the time, so groups carry signal.
scaling::RuleReward parity_reward(const Sample &, const Rollout & r) {
    scaling::RuleReward out;
    out.correct = !r.completion.empty() && r.completion[0] % 2 == 0;
    out.reward  = out.correct ? 1.0 : -1.0;
    return out;
}

GrpoOptions tiny_options() {
    GrpoOptions o;
    o.group           = 4;
    o.inputs_per_step = 2;
    o.steps           = 3;
    o.lr              = 1e-2;
    o.sampling.max_tokens = 4;
    o.micro_batch     = 3;  // not a divisor of 8 rollouts: uneven chunks
    o.loss.beta       = 0.1;
    o.seed            = 11;
    o.prompt.multi    = "Q: {query}\n{responses}\nScores:";
    return o;
}

std::unique_ptr<GrpoTrainer> make_trainer(const World & w, const GrpoOptions & o) {
    model::Transformer policy(w.cfg), ref(w.cfg);
    policy->init_weights(5);
    ref->init_weights(5);
    return std::make_unique<GrpoTrainer>(policy, ref, w.tok, w.inputs, o, parity_reward);
}

bool same_parameters(model::Transformer & a, model::Transformer & b) {
    auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto & p : pa)
        if (!torch::equal(p.value(), pb[p.key()])) return false;
    return true;
}

TEST(Grpo, OptionsRoundTripThroughCheckpointJson) {
    const auto o    = tiny_options();
    const auto j    = grpo_options_to_json(o);
    auto       back = grpo_options_from_json(j);
    ASSERT_TRUE(bool(back));
    EXPECT_EQ(back->prompt.multi, o.prompt.multi);  // a resumed run samples with the same prompt
    EXPECT_EQ(grpo_options_to_json(*back), j);
    auto bad     = j;
    bad["group"] = 1;  // no group advantage without a group
    EXPECT_FALSE(bool(grpo_options_from_json(bad)));
}

TEST(Grpo, StepRaisesRewardedRolloutsAndLowersPenalisedOnes) {
    const World w = make_world();
    auto        o = tiny_options();
    o.steps       = 1;
    o.lr          = 1e-3;  // small enough for the first-order view below
    o.loss.beta   = 0.0;   // the policy gradient alone
    o.clip        = 0.0;
    // The reward stage sees every rollout of the step: record them (prompt and completion tokens).
    std::vector<Rollout> seen;
    RewardFn record = [&seen](const Sample & s, const Rollout & r) {
        scaling::RuleReward out = parity_reward(s, r);
        seen.push_back(r);
        seen.back().reward = out;
        return out;
    };
    model::Transformer policy(w.cfg), ref(w.cfg), before(w.cfg);
    for (auto * m : { &policy, &ref, &before }) (*m)->init_weights(5);
    GrpoTrainer t(policy, ref, w.tok, w.inputs, o, record);
    auto        st = t.step();
    ASSERT_TRUE(bool(st)) << st.error().to_string();
    ASSERT_EQ(seen.size(), size_t(o.group * o.inputs_per_step));

    // Advantages recomputed here: reward minus its group's mean, over the group's sd (0 if uniform).
    std::vector<double> adv(seen.size(), 0.0);
    for (size_t g = 0; g < seen.size(); g += size_t(o.group)) {
        double mean = 0, var = 0;
        for (int i = 0; i < o.group; ++i) mean += seen[g + i].reward.reward / o.group;
        for (int i = 0; i < o.group; ++i) var += std::pow(seen[g + i].reward.reward - mean, 2) / o.group;
        for (int i = 0; i < o.group; ++i) adv[g + i] = var > 0 ? (seen[g + i].reward.reward - mean) / std::sqrt(var) : 0.0;
    }
    // Per rollout: mean per-token log-prob of its completion after the step minus before.
    std::vector<std::vector<int32_t>> prompts, completions;
    for (const Rollout & r : seen) {
        prompts.push_back(r.prompt);
        completions.push_back(r.completion);
    }
    torch::NoGradGuard ng;
    auto               lp0 = model::sequence_logprobs(*before, prompts, completions);
    auto               lp1 = model::sequence_logprobs(*t.policy(), prompts, completions);
    ASSERT_TRUE(lp0 && lp1);
    const auto len   = lp0->mask.sum(1);
    const auto delta = ((lp1->logprobs - lp0->logprobs).sum(1) / len).to(torch::kDouble);
    double     surrogate = 0, up = 0, down = 0;
    int        n_up = 0, n_down = 0;
    for (size_t i = 0; i < seen.size(); ++i) {
        const double d = delta[int64_t(i)].item<double>();
        surrogate += adv[i] * d;
        if (adv[i] > 0) up += d, ++n_up;
        if (adv[i] < 0) down += d, ++n_down;
    }
    ASSERT_GT(n_up, 0);  // the seed gives groups with mixed rewards
    ASSERT_GT(n_down, 0);
    // The step ascends the objective sum_i A_i * mean_t log p: it rises, and the rollouts rewarded
    // +1 gain log-probability relative to those rewarded -1.
    EXPECT_GT(surrogate, 0.0);
    EXPECT_GT(up / n_up, down / n_down);
    EXPECT_GT(up / n_up, 0.0);
    EXPECT_LT(down / n_down, 0.0);
}

TEST(Grpo, ResumesBitIdentically) {
    const World w = make_world();
    const auto  o = tiny_options();
    auto        straight = make_trainer(w, o);
    std::vector<GrpoStepStats> a;
    for (int i = 0; i < 3; ++i) {
        auto st = straight->step();
        ASSERT_TRUE(bool(st)) << st.error().to_string();
        a.push_back(*st);
    }
    // The rewards differed within some group, so the policy moved.
    model::Transformer init(w.cfg);
    init->init_weights(5);
    EXPECT_FALSE(same_parameters(straight->policy(), init));
    EXPECT_LT(a[0].zero_adv_groups, 1.0);
    EXPECT_GE(a[0].kl, 0.0);

    const std::string dir = test::temp_dir() + "/grpo-ckpt";
    auto              first = make_trainer(w, o);
    ASSERT_TRUE(bool(first->step()));
    ASSERT_TRUE(bool(first->step()));
    ASSERT_TRUE(bool(first->save(dir)));
    auto resumed = make_trainer(w, o);
    auto st      = resumed->restore(dir);
    ASSERT_TRUE(bool(st)) << st.error().to_string();
    EXPECT_EQ(resumed->steps_done(), 2);
    auto last = resumed->step();
    ASSERT_TRUE(bool(last));
    EXPECT_EQ(last->loss, a[2].loss);
    EXPECT_EQ(last->mean_reward, a[2].mean_reward);
    EXPECT_EQ(last->kl, a[2].kl);
    EXPECT_TRUE(same_parameters(resumed->policy(), straight->policy()));
}

TEST(Grpo, SeedDecidesRollouts) {
    const World   w = make_world();
    RolloutParams p;
    p.group          = 4;
    p.sampling.max_tokens = 4;
    p.prompt.multi   = "Q: {query}\n{responses}\nScores:";
    model::Transformer m(w.cfg);
    m->init_weights(5);
    p.sampling.seed = 1;
    auto r1   = rollout(*m, *w.tok, w.inputs, {0, 2}, p, parity_reward);
    auto r1b  = rollout(*m, *w.tok, w.inputs, {0, 2}, p, parity_reward);
    p.sampling.seed = 2;
    auto r2   = rollout(*m, *w.tok, w.inputs, {0, 2}, p, parity_reward);
    ASSERT_TRUE(r1 && r1b && r2);
    ASSERT_EQ(r1->size(), 8u);
    bool differ = false;
    for (size_t i = 0; i < r1->size(); ++i) {
        EXPECT_EQ((*r1)[i].completion, (*r1b)[i].completion);
        EXPECT_EQ((*r1)[i].order, (*r1b)[i].order);
        EXPECT_EQ((*r1)[i].input, i < 4 ? 0 : 2);
        differ = differ || (*r1)[i].completion != (*r2)[i].completion;
    }
    EXPECT_TRUE(differ);
    // GRPO's prompt wrapping is what the llama.cpp engine renders with the model's chat template.
    auto rendered = w.tok->apply_chat_template("P");
    ASSERT_TRUE(bool(rendered));
    EXPECT_EQ(chatml_user_prompt("P"), *rendered);
    EXPECT_EQ(chatml_user_prompt("P"), "<|im_start|>user\nP<|im_end|>\n<|im_start|>assistant\n");
    // A random model never earns the rule reward: nothing is filtered out.
    auto kept = filter_always_right(*m, *w.tok, w.inputs, p, 2);
    ASSERT_TRUE(bool(kept));
    EXPECT_EQ(*kept, (std::vector<int>{0, 1, 2}));
}

// GRPO with LoRA: no reference model (the policy's base, adapters off, is the reference). The
// first step equals full fine-tuning's (fresh adapters leave the policy unchanged, so the same
// rollouts, loss and KL); after the steps only the adapters moved, and a resumed run continues exactly.
TEST(Grpo, LoraPolicyIsItsOwnReference) {
    const World w = make_world();
    const auto  o = tiny_options();
    model::LoraParams lora;
    lora.rank = 2;
    auto make = [&] {
        model::Transformer policy(w.cfg);
        policy->init_weights(5);
        policy->add_lora(lora, 8);
        return std::make_unique<GrpoTrainer>(policy, model::Transformer(nullptr), w.tok, w.inputs, o, parity_reward);
    };
    auto full = make_trainer(w, o);
    auto t    = make();
    auto f0   = full->step();
    auto l0   = t->step();
    ASSERT_TRUE(bool(f0) && bool(l0));
    EXPECT_EQ(l0->loss, f0->loss);
    EXPECT_EQ(l0->mean_reward, f0->mean_reward);
    EXPECT_EQ(l0->kl, f0->kl);
    auto l1 = t->step();
    ASSERT_TRUE(bool(l1)) << l1.error().to_string();
    EXPECT_GT(l1->kl, 0.0);  // the adapters moved the policy away from its base

    model::Transformer init(w.cfg);
    init->init_weights(5);
    auto params = t->policy()->named_parameters();
    for (const auto & p : init->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), params[p.key()])) << p.key();

    const std::string dir = test::temp_dir() + "/grpo-lora-ckpt";
    ASSERT_TRUE(bool(t->save(dir)));
    auto last = t->step();
    auto r    = make();
    auto st   = r->restore(dir);
    ASSERT_TRUE(bool(st)) << st.error().to_string();
    auto again = r->step();
    ASSERT_TRUE(bool(last) && bool(again));
    EXPECT_EQ(again->loss, last->loss);
    EXPECT_EQ(again->kl, last->kl);
    EXPECT_FALSE(bool(make_trainer(w, o)->restore(dir)));  // a full fine-tuning run refuses it
}

TEST(Grpo, RunLogsAndPlots) {
    const World    w = make_world();
    auto           o = tiny_options();
    o.steps          = 2;
    auto           t = make_trainer(w, o);
    GrpoRunOptions run;
    run.out_dir    = test::temp_dir() + "/grpo-run";
    run.save_every = 1;
    run.progress   = false;
    auto st        = run_grpo(*t, run);
    ASSERT_TRUE(bool(st)) << st.error().to_string();
    std::ifstream log(run.out_dir + "/log.jsonl");
    int           lines = 0;
    for (std::string l; std::getline(log, l);) {
        auto j = nlohmann::json::parse(l);
        for (const char * k : {"mean_reward", "accuracy", "kl", "length", "unscorable_rate"}) EXPECT_TRUE(j.contains(k)) << k;
        ++lines;
    }
    EXPECT_EQ(lines, 2);
    std::ifstream svg(run.out_dir + "/plot.svg");
    std::string   text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("<polyline"), std::string::npos);
    EXPECT_NE(text.find("unscorable_rate"), std::string::npos);
    EXPECT_TRUE(bool(model::resolve_checkpoint(run.out_dir)));
}

// Data parallel (two ranks, threads of this process over Gloo on loopback): with greedy rollouts
// a rollout does not depend on which rank samples it (its prompt's shuffle derives from the input
// and its index in the group), so two ranks, each rolling out its share of the step's inputs,
// compute the gradient one process computes, up to float summation order, and stay in lockstep
// with each other exactly. The weights after the step are compared where the gradient is not
// tiny: GRPO's group-normalised advantages cancel in many elements, leaving gradients of ~1e-9
// whose rounding noise AdamW's g / sqrt(v) turns into steps of up to lr either way.
TEST(Grpo, TwoRanksTakeTheStepOneProcessTakes) {
    const World w = make_world();
    auto        o = tiny_options();
    o.sampling.temperature = 0.0f;
    o.inputs_per_step      = 3;  // shares of 2 and 1 inputs
    o.steps                = 1;
    // Greedy rollouts of one group share their first token: a reward by the shown order (which
    // the shuffle varies within a group) gives the groups signal instead.
    auto make = [&] {
        model::Transformer policy(w.cfg), ref(w.cfg);
        policy->init_weights(5);
        ref->init_weights(5);
        RewardFn by_order = [](const Sample &, const Rollout & r) {
            scaling::RuleReward out;
            out.correct = r.order[0] == 0;
            out.reward  = out.correct ? 1.0 : -1.0;
            return out;
        };
        return std::make_unique<GrpoTrainer>(policy, ref, w.tok, w.inputs, o, by_order);
    };
    auto                       one = make();
    std::vector<GrpoStepStats> want, got;
    for (int i = 0; i < o.steps; ++i) {
        auto st = one->step();
        ASSERT_TRUE(bool(st)) << st.error().to_string();
        want.push_back(*st);
    }
    model::DistParams p;
    p.world       = 2;
    p.master_port = test::free_port();
    p.timeout_s   = 60;
    std::vector<std::unique_ptr<GrpoTrainer>> ranks(2);
    std::vector<std::string>                  errors(2);
    std::vector<std::thread>                  threads;
    for (int r = 0; r < 2; ++r)
        threads.emplace_back([&, r] {
            auto q = p;
            q.rank = r;
            auto d = model::Dist::connect(q);
            if (!d) return void(errors[size_t(r)] = d.error().to_string());
            ranks[size_t(r)] = make();
            if (auto st = ranks[size_t(r)]->set_dist(*d); !st) return void(errors[size_t(r)] = st.error().to_string());
            for (int i = 0; i < o.steps; ++i) {
                auto st = ranks[size_t(r)]->step();
                if (!st) return void(errors[size_t(r)] = st.error().to_string());
                if (r == 0) got.push_back(*st);
            }
        });
    for (auto & t : threads) t.join();
    ASSERT_EQ(errors[0], "");
    ASSERT_EQ(errors[1], "");
    EXPECT_TRUE(same_parameters(ranks[0]->policy(), ranks[1]->policy()));
    // The step's gradient (left in .grad after the step): float summation order only.
    double g_max = 0, g_diff = 0, w_diff = 0;
    auto   pa = one->policy()->named_parameters(), pb = ranks[0]->policy()->named_parameters();
    for (const auto & q : pa) g_max = std::max(g_max, q.value().grad().abs().max().item<double>());
    for (const auto & q : pa) {
        const auto & g1 = q.value().grad();
        g_diff = std::max(g_diff, (g1 - pb[q.key()].grad()).abs().max().item<double>());
        // AdamW's first step is lr * g / (|g| + eps): ~lr * sign(g), insensitive to rounding where
        // |g| >> eps = 1e-8 (at |g| >= 1e-2 of the max, ~4e-6, a 2e-8 change moves it ~1e-7).
        auto sure = g1.abs() > 1e-2 * g_max;
        w_diff = std::max(w_diff, ((q.value() - pb[q.key()]).abs() * sure).max().item<double>());
    }
    std::printf("grpo, 2 ranks vs 1 process: max |grad diff| %.3g of max |grad| %.3g; max |weight diff| %.3g "
                "where |grad| > 1e-2 of the max\n", g_diff, g_max, w_diff);
    EXPECT_GT(g_max, 0.0);  // the rewards carried signal: a real step was compared
    // Each rank pads its rows to its own longest sequence, so the attention GEMMs differ in shape
    // and the elements, sums of advantage-weighted terms that mostly cancel, round differently:
    // measured 1.8e-8 to 3.7e-8 (0.5e-4 to 1.02e-4 of the max). A rank's share lost or counted twice
    // moves the gradient by the order of the max itself.
    EXPECT_LT(g_diff, 5e-4 * g_max);
    EXPECT_LT(w_diff, 1e-6);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].mean_reward, want[i].mean_reward);  // the same rollouts, summed over ranks
        EXPECT_EQ(got[i].accuracy, want[i].accuracy);
        EXPECT_NEAR(got[i].loss, want[i].loss, 1e-5);
        EXPECT_NEAR(got[i].grad_norm, want[i].grad_norm, 1e-4 * std::max(1.0, want[i].grad_norm));
    }
}

}  // namespace
}  // namespace grm::rl
