// llama.cpp engine on real GGUF files written by grm: seeds, shared-prefix batching, limits.
#include "common/fixtures.h"
#include "core/judge.h"
#include "core/prompt.h"
#include "core/sample.h"
#include "engines/llama_engine.h"
#include "llama/llama_model.h"
#include "engines/make_engine.h"
#include "gguf/gguf_lora.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <chrono>
#include <thread>

using namespace grm;

namespace {

std::unique_ptr<LlamaEngine> make(LlamaEngineParams p = {}) {
    auto m = LlamaModel::load(test::tiny_model());
    EXPECT_TRUE(m.ok()) << m.error().to_string();
    p.threads = 1;  // a spinning second thread stalls on a busy 2-core machine
    auto e    = LlamaEngine::create(*m, p);
    EXPECT_TRUE(e.ok()) << e.error().to_string();
    return std::move(*e);
}

GenerationRequest request(std::vector<std::string> prompts, float temp, uint64_t seed, int max_tokens = 24) {
    GenerationRequest r;
    r.prompts              = std::move(prompts);
    r.sampling.temperature = temp;
    r.sampling.seed        = seed;
    r.sampling.max_tokens  = max_tokens;
    return r;
}

std::vector<std::string> texts(const GenerationResult & r) {
    std::vector<std::string> out;
    for (const auto & g : r.value()) out.push_back(g.text);
    return out;
}

const std::string k_prefix = "Judge the responses to the query below. [Query] What is 47 + 38? [End of Query] ";

}  // namespace

TEST(LlamaEngine, SameSeedSameSamplesDifferentSeedDiffers) {
    std::vector<std::string> prompts(4, k_prefix + "[Response 1] 85");
    auto a = make()->generate_one(request(prompts, 1.0f, 1));
    auto b = make()->generate_one(request(prompts, 1.0f, 1));
    auto c = make()->generate_one(request(prompts, 1.0f, 2));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(texts(a), texts(b));
    EXPECT_NE(texts(a), texts(c));
    // sample i's sampler seed is derived from (seed, i): the four samples of one request differ
    EXPECT_NE(texts(a)[0], texts(a)[1]);
    for (const auto & g : a.value()) EXPECT_TRUE(is_valid_utf8(g.text));
}

// judge_batch gives sample i of an input the sampler seed stream_seed(seed, engine_sample, id, i):
// at temperature 1, 100 seeds x k = 8 give 800 different texts, and seeds 1 and 2 share none (with
// `seed + i`, seed 2's samples 0..6 were seed 1's samples 1..7, word for word).
TEST(LlamaEngine, JudgeSeedsGiveDistinctSamples) {
    LlamaConfig c = test::default_tiny_config();
    c.n_ctx       = 2048;  // the judge prompt
    auto m        = LlamaModel::load(test::tiny_model(c));
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    LlamaEngineParams p;
    p.threads = 1;
    auto e    = LlamaEngine::create(*m, p);
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    Sample s;
    s.id           = "q1";
    s.conversation = { { "user", "What is 47 + 38?" } };
    s.responses    = { "85", "75" };
    JudgeParams jp;
    jp.k                    = 8;
    jp.shuffle              = false;  // every sample sees the same prompt: only the seeds differ
    jp.sampling.temperature = 1.0f;
    jp.sampling.max_tokens  = 5;
    jp.sampling.ignore_eos  = true;  // a random model's early end-of-generation would tie texts
    std::set<std::string>    all;
    std::vector<std::string> one, two;
    for (uint64_t seed = 0; seed < 100; seed++) {
        jp.seed = seed;
        auto r  = judge_batch(**e, { s }, jp);
        ASSERT_TRUE(r[0].ok()) << r[0].error().to_string();
        ASSERT_EQ(r[0]->samples.size(), 8u);
        for (const auto & t : r[0]->samples) {
            all.insert(t.generation.text);
            if (seed == 1) one.push_back(t.generation.text);
            if (seed == 2) two.push_back(t.generation.text);
        }
    }
    EXPECT_EQ(all.size(), 800u);
    for (const auto & t : two) EXPECT_EQ(std::count(one.begin(), one.end(), t), 0) << "seed 2 repeats seed 1: " << t;
}

TEST(LlamaEngine, SeedsMustMatchPrompts) {
    auto r  = request({ "a", "b" }, 1.0f, 0, 4);
    r.seeds = { 1, 2, 3 };
    auto g  = make()->generate_one(r);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, Errc::invalid_argument);
    EXPECT_NE(g.error().message.find("3 seeds for 2 prompts"), std::string::npos) << g.error().message;
}

TEST(LlamaEngine, CancelledRequestFailsAloneBeforeItStarts) {
    auto flag  = std::make_shared<std::atomic<bool>>(true);
    auto keep  = request({ k_prefix + "[Response 1] 85" }, 0.0f, 0);
    auto drop  = keep;
    drop.cancel = flag;
    auto e     = make();
    auto both  = e->generate({ drop, keep });
    ASSERT_FALSE(both[0].ok());
    EXPECT_EQ(both[0].error().code, Errc::cancelled);
    ASSERT_TRUE(both[1].ok());
    EXPECT_EQ(texts(both[1]), texts(make()->generate_one(keep)));
    EXPECT_EQ(e->stats().prompt_tokens, both[1].value()[0].prompt_tokens);  // the cancelled one was never prefilled
}

TEST(LlamaEngine, CancelStopsDecodingMidway) {
    // 8 samples that would each run to the end of the tiny model's 256-token context (about 0.5 s
    // here); the flag is raised 20 ms in (about 60 tokens decoded), so decoding stops early.
    auto flag   = std::make_shared<std::atomic<bool>>(false);
    auto req    = request(std::vector<std::string>(8, k_prefix), 1.0f, 1, 1 << 20);
    req.sampling.ignore_eos = true;
    req.cancel  = flag;
    auto e      = make();
    std::thread raise([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        flag->store(true);
    });
    auto r = e->generate_one(req);
    raise.join();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::cancelled);
    EXPECT_LT(e->stats().decoded_tokens, 8L * (e->n_ctx_seq() - 64));
}

TEST(LlamaEngine, SharedPrefixBatchMatchesIndependentGreedy) {
    std::vector<std::string> prompts = { k_prefix + "[Response 1] 85 [Response 2] 75", k_prefix + "[Response 1] 75 [Response 2] 85",
                                         k_prefix + "[Response 1] 85", k_prefix + "[Response 1] 84 [Response 2] 85" };
    LlamaEngineParams p;
    p.f32_kv       = true;
    p.prefix_cache = false;
    auto batched   = make(p)->generate_one(request(prompts, 0.0f, 0));
    ASSERT_TRUE(batched.ok());
    for (size_t i = 0; i < prompts.size(); i++) {
        auto alone = make(p)->generate_one(request({ prompts[i] }, 0.0f, 0));
        ASSERT_TRUE(alone.ok());
        EXPECT_EQ(batched.value()[i].text, alone.value()[0].text) << "prompt " << i;
    }
}

TEST(LlamaEngine, PrefixIsPrefilledOnce) {
    auto                     e = make();
    std::vector<std::string> prompts(8, k_prefix + "[Response 1] 85");
    auto                     r = e->generate_one(request(prompts, 0.5f, 3, 4));
    ASSERT_TRUE(r.ok());
    const long len = r.value()[0].prompt_tokens;
    EXPECT_EQ(e->stats().prompt_tokens, 8 * len);
    EXPECT_EQ(e->stats().prefill_tokens, len + 7);  // the shared prompt once, then one token per sample
    // a later call with the same prompt reuses the cached prefix
    auto again = e->generate_one(request({ prompts[0] }, 0.5f, 3, 4));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(e->stats().prefill_tokens, len + 8);
}

TEST(LlamaEngine, PromptTooLongFailsOnlyItsRequest) {
    auto        e = make();
    std::string long_prompt(4000, 'x');
    auto        rs = e->generate(std::vector<GenerationRequest>{ request({ long_prompt }, 0.5f, 0), request({ k_prefix }, 0.5f, 0) });
    ASSERT_EQ(rs.size(), 2u);
    ASSERT_FALSE(rs[0].ok());
    EXPECT_EQ(rs[0].error().code, Errc::context_overflow);
    EXPECT_NE(rs[0].error().message.find("context holds 256"), std::string::npos) << rs[0].error().message;
    EXPECT_TRUE(rs[1].ok());
}

TEST(LlamaEngine, MaxTokensGivesLengthFinish) {
    auto r = make()->generate_one(request({ k_prefix, k_prefix }, 1.0f, 5, 7));
    ASSERT_TRUE(r.ok());
    for (const auto & g : r.value()) {
        if (g.finish == FinishReason::length) EXPECT_EQ(g.completion_tokens, 7);
        else EXPECT_LT(g.completion_tokens, 7);
    }
    EXPECT_EQ(r.value()[0].finish, FinishReason::length);
}

TEST(LlamaEngine, StopStringCutsTheText) {
    LlamaEngineParams p;
    p.prefix_cache = false;
    auto full      = make(p)->generate_one(request({ k_prefix }, 0.0f, 0, 40));
    ASSERT_TRUE(full.ok());
    const std::string text = full.value()[0].text;
    ASSERT_GE(text.size(), 12u) << text;
    std::string stop = text.substr(8, 3);
    size_t      cut  = text.find(stop);
    auto        req  = request({ k_prefix }, 0.0f, 0, 40);
    req.sampling.stop = { stop };
    auto stopped      = make(p)->generate_one(req);
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(stopped.value()[0].text, text.substr(0, cut));
    EXPECT_EQ(stopped.value()[0].finish, FinishReason::stop);
}

TEST(LlamaEngine, ManyRequestsInOneCallKeepTheirOrder) {
    // Six requests that differ in prompt length and token budget, in one call: result i must be
    // request i's (its prompt's token count, its budget, and the texts it gets when sent alone).
    auto m = LlamaModel::load(test::tiny_model());
    ASSERT_TRUE(m.ok());
    std::vector<GenerationRequest> reqs;
    std::vector<std::string>       prompts;
    for (int i = 0; i < 6; i++) {
        prompts.push_back(k_prefix + std::string(3 * i, 'x'));
        reqs.push_back(request({ prompts[i], prompts[i] }, 0.0f, 10 + i, 2 + i));  // greedy: texts are fixed
    }
    auto together = make()->generate(reqs);
    ASSERT_EQ(together.size(), 6u);
    for (int i = 0; i < 6; i++) {
        SCOPED_TRACE(i);
        ASSERT_TRUE(together[i].ok()) << together[i].error().to_string();
        ASSERT_EQ(together[i].value().size(), 2u);
        const int want_prompt = int((*m)->tokenize(*(*m)->apply_chat_template(prompts[i]), true).size());
        auto      alone       = make()->generate_one(reqs[i]);
        ASSERT_TRUE(alone.ok());
        for (const Generation & g : together[i].value()) {
            EXPECT_EQ(g.prompt_tokens, want_prompt);
            EXPECT_EQ(g.completion_tokens, 2 + i);
            EXPECT_EQ(g.finish, FinishReason::length);
        }
        EXPECT_EQ(texts(together[i]), texts(alone));
    }
}

TEST(LlamaModel, MissingFileIsNotFound) {
    auto m = LlamaModel::load("/nonexistent/model.gguf");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, Errc::not_found);
}

TEST(LlamaModel, ChatTemplateIsChatML) {
    auto m = LlamaModel::load(test::tiny_model());
    ASSERT_TRUE(m.ok());
    auto t = (*m)->apply_chat_template("hi");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    auto multi = (*m)->apply_chat_template("hi", { { "system", "Be brief." }, { "user", "a" }, { "assistant", "b" } });
    ASSERT_TRUE(multi.ok());
    EXPECT_EQ(*multi, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\na<|im_end|>\n"
                      "<|im_start|>assistant\nb<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(LlamaEngine, HistoryTurnsComeBeforeEverySamplesUserTurn) {
    auto m = LlamaModel::load(test::tiny_model());
    ASSERT_TRUE(m.ok());
    auto req    = request({ "hi", "hi" }, 0.0f, 0, 4);
    req.history = { { "user", "a" }, { "assistant", "b" } };
    auto r      = make()->generate_one(req);
    ASSERT_TRUE(r.ok());
    const auto want = (*m)->tokenize(*(*m)->apply_chat_template("hi", req.history), true);
    for (const auto & g : r.value()) EXPECT_EQ(g.prompt_tokens, int(want.size()));
    EXPECT_GT(want.size(), (*m)->tokenize(*(*m)->apply_chat_template("hi"), true).size());
}

TEST(LlamaEngine, CrossRequestSharingFollowsThePrefixCacheFlag) {
    // two requests (say two response sets for one GRPO prompt) whose prompts share a long prefix
    std::vector<GenerationRequest> reqs = { request({ k_prefix + "[Response 1] 85" }, 0.5f, 1, 2),
                                            request({ k_prefix + "[Response 1] 75" }, 0.5f, 1, 2) };
    const long len = make()->generate(reqs)[0].value()[0].prompt_tokens;
    LlamaEngineParams on, off;
    off.prefix_cache = false;
    auto shared      = make(on);
    auto separate    = make(off);
    ASSERT_TRUE(shared->generate(reqs)[1].ok());
    ASSERT_TRUE(separate->generate(reqs)[1].ok());
    EXPECT_EQ(separate->stats().prefill_tokens, 2 * len);
    // the second prompt differs from the first only in its last ~20 tokens (answer + chat suffix)
    EXPECT_LT(shared->stats().prefill_tokens, len + 20);
}

// The shipped defaults: the GPU-trained SPCT judge and its meta RM, both in models/, both with the
// tokenizer every committed model shares (2,000 pieces; ChatML markers as control tokens).
TEST(DefaultModel, PathsNameTheCommittedJudgeAndMetaRm) {
    ASSERT_EQ(std::getenv("GRM_MODEL"), nullptr);
    ASSERT_EQ(std::getenv("GRM_META"), nullptr);
    const std::string model = default_model_path(), meta = default_meta_path();
    EXPECT_EQ(model, std::string(GRM_SOURCE_DIR) + "/models/grm-gpu-spct.gguf");
    EXPECT_EQ(meta, std::string(GRM_SOURCE_DIR) + "/models/grm-gpu-meta.gguf");
    EXPECT_EQ(resolve_meta_path("default"), meta);
    EXPECT_EQ(resolve_meta_path("runs/m.gguf"), "runs/m.gguf");
    EXPECT_TRUE(std::ifstream(meta + ".head.json").good());
    for (const std::string & path : { model, meta }) {
        auto m = LlamaModel::load(path, /*vocab_only=*/true);
        ASSERT_TRUE(m) << path << ": " << m.error().message;
        EXPECT_EQ((*m)->n_vocab(), 2000) << path;
        EXPECT_GE((*m)->find_piece("<|im_end|>"), 0) << path;
        EXPECT_EQ((*m)->detokenize((*m)->tokenize("What is 47 + 38?", false)), "What is 47 + 38?") << path;
    }
}

// Drafting from the prompt changes how many decode steps a generation takes, never what it writes:
// every position is still drawn by the sequence's own sampler, in order, from the same logits, so
// greedy and sampled texts are equal token for token with and without it (and with them every
// token distribution over a seed set). The committed judge restates the responses it judges, so
// its drafts are often kept.
TEST(LlamaEngine, DraftingWritesTheSameTokensGreedyAndSampled) {
    auto model = LlamaModel::load(default_model_path());
    ASSERT_TRUE(model) << model.error().message;
    Sample s;
    s.conversation = { { "user", "What is 47 + 38?" } };
    s.responses    = { "85", "75 plus unrelated text" };
    auto prompt    = render_prompt(default_template(), s, { 0, 1 });
    auto engine    = [&](int draft_max) {
        LlamaEngineParams p;
        p.threads   = 1;
        p.draft_max = draft_max;
        p.draft_p_min = 0;  // draft at every match: the test is about what drafting writes
        auto e      = LlamaEngine::create(*model, p);
        EXPECT_TRUE(e.ok()) << e.error().to_string();
        return std::move(*e);
    };
    for (float temp : { 0.0f, 0.5f, 1.0f }) {
        auto off = engine(0), on = engine(8);
        for (uint64_t seed : { 1, 2, 3 }) {
            auto req = request(std::vector<std::string>(4, prompt), temp, seed, 160);
            auto a = off->generate_one(req), b = on->generate_one(req);
            ASSERT_TRUE(a.ok() && b.ok());
            EXPECT_EQ(texts(a), texts(b)) << "temperature " << temp << ", seed " << seed;
            for (size_t i = 0; i < a->size(); i++) {
                EXPECT_EQ((*a)[i].completion_tokens, (*b)[i].completion_tokens);
                EXPECT_EQ((*a)[i].finish, (*b)[i].finish);
            }
        }
        EXPECT_EQ(off->stats().drafted_tokens, 0);
        EXPECT_EQ(off->stats().decoded_tokens, on->stats().decoded_tokens);
        EXPECT_GT(on->stats().accepted_tokens, 200) << "temperature " << temp;  // 300-400 of about 4,000 drafted here
        EXPECT_LT(on->stats().decode_steps, off->stats().decode_steps) << "temperature " << temp;
    }
}

// Cached prompts wait in host memory, not in the KV cache, where every decode step would attend
// over them: after several requests the KV state at the end of a wave is no larger with the prefix
// cache than without it, and a repeated prefix is still not prefilled again.
TEST(LlamaEngine, CachedPromptsStayOutOfTheKvCache) {
    LlamaEngineParams on, off;
    on.measure_kv = off.measure_kv = true;
    off.prefix_cache               = false;
    auto cached = make(on), plain = make(off);
    for (int i = 0; i < 6; i++) {
        auto req = request({ k_prefix + "[Response 1] " + std::to_string(100 + i) }, 0.5f, 1, 4);
        ASSERT_TRUE(cached->generate_one(req).ok());
        ASSERT_TRUE(plain->generate_one(req).ok());
    }
    EXPECT_EQ(cached->stats().peak_state_bytes, plain->stats().peak_state_bytes);
    EXPECT_LT(cached->stats().prefill_tokens, plain->stats().prefill_tokens / 3);
}

// `--lora`: a strong random adapter on attn_q and ffn_up changes the greedy text, the same adapter at
// scale 0 leaves the base model's, and a file that is not an adapter fails create by name.
TEST(LlamaEngine, LoraAdapterAppliesWithItsScale) {
    auto base = read_gguf_llama(test::tiny_model());
    ASSERT_TRUE(base.ok()) << base.error().to_string();
    GgufLoraAdapter adapter;
    adapter.arch  = "llama";
    adapter.alpha = 4.0f;
    std::mt19937                     rng(3);
    std::normal_distribution<float>  normal(0.0f, 0.5f);
    for (const auto & t : base->tensors) {
        if (t.name.find("attn_q.weight") == std::string::npos && t.name.find("ffn_up.weight") == std::string::npos) continue;
        NamedTensor a{t.name + ".lora_a", {4, t.shape[1]}, {}}, b{t.name + ".lora_b", {t.shape[0], 4}, {}};
        for (int64_t i = 0; i < 4 * t.shape[1]; ++i) a.data.push_back(normal(rng));
        for (int64_t i = 0; i < 4 * t.shape[0]; ++i) b.data.push_back(normal(rng));
        adapter.tensors.push_back(a);
        adapter.tensors.push_back(b);
    }
    const std::string path = test::temp_dir() + "/engine-adapter.gguf";
    ASSERT_TRUE(write_gguf_lora(path, adapter).ok());

    std::vector<std::string> prompt = {k_prefix + "[Response 1] 85"};
    auto plain = make()->generate_one(request(prompt, 0.0f, 1, 16));
    LlamaEngineParams p;
    p.lora     = {{path, 1.0f}};
    auto on    = make(p);
    EXPECT_NE(on->describe().find("lora " + path), std::string::npos) << on->describe();
    auto moved = on->generate_one(request(prompt, 0.0f, 1, 16));
    p.lora     = {{path, 0.0f}};
    auto off   = make(p)->generate_one(request(prompt, 0.0f, 1, 16));
    ASSERT_TRUE(plain.ok() && moved.ok() && off.ok());
    EXPECT_NE(texts(moved), texts(plain));
    EXPECT_EQ(texts(off), texts(plain));

    auto m = LlamaModel::load(test::tiny_model());
    ASSERT_TRUE(m.ok());
    LlamaEngineParams bad;
    bad.lora = {{test::tiny_model(), 1.0f}};
    auto e   = LlamaEngine::create(*m, bad);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("is not a LoRA adapter"), std::string::npos) << e.error().message;
}

// Requests go into waves whole, in order, while they make a generated token cheaper (token_cost):
// on the committed judge (1.96 M parameters, F16) with judge-length prompts, 8 samples of a
// judgment fill a wave alone, and single samples go two to a wave (a third would add more
// attention over its cells than it saves on the weights). Decided from counts alone, so the same
// for greedy and sampled runs; a judgment alone in its wave writes what it writes when sent alone.
TEST(LlamaEngine, WavesTakeWholeRequestsWhileATokenGetsCheaper) {
    auto model = LlamaModel::load(default_model_path());
    ASSERT_TRUE(model) << model.error().message;
    std::vector<std::string> prompts;
    for (int i = 0; i < 6; i++) {
        Sample s;
        s.conversation = { { "user", "What is " + std::to_string(40 + i) + " + 38?" } };
        s.responses    = { std::to_string(78 + i), "75 plus unrelated text", std::to_string(70 + i) };
        prompts.push_back(render_prompt(default_template(), s, { 0, 1, 2 }));
    }
    LlamaEngineParams p;
    p.threads = 1;
    auto e    = LlamaEngine::create(*model, p);
    ASSERT_TRUE(e) << e.error().to_string();
    const int len = (int) (*model)->tokenize(*(*model)->apply_chat_template(prompts[0]), true).size();
    EXPECT_GT(len, 200);  // the estimate below is for judge-length prompts
    EXPECT_LT(len, 300);
    auto run = [&](int k, int n) {
        std::vector<GenerationRequest> reqs;
        for (int i = 0; i < n; i++) reqs.push_back(request(std::vector<std::string>(k, prompts[i]), 0.0f, 1 + i, 256));
        (*e)->reset_stats();
        auto       out   = (*e)->generate(reqs);
        const long waves = (*e)->stats().waves;
        for (int i = 0; i < n; i++) EXPECT_TRUE(out[i]) << out[i].error().to_string();
        if (k > 1) {  // each judgment had its wave alone
            for (int i = 0; i < n; i++) EXPECT_EQ(texts(out[i]), texts((*e)->generate_one(reqs[i])));
        }
        return waves;
    };
    EXPECT_EQ(run(8, 2), 2);
    EXPECT_EQ(run(1, 6), 3);
    EXPECT_EQ(run(1, 5), 3);
}

// What a cell of context costs: the committed judge (4 layers, 2 KV heads of 32, 6 heads) holds
// 1,024 bytes of F16 keys and values a cell, and its 512-token prefill graph 512 x 7 F32 scores
// and mask entries. llama.cpp's own log for the default 16,384 cells says "KV buffer size = 16.00
// MiB" and "compute buffer size = 226.13 MiB": 240 MiB by this count, 242 by llama.cpp's.
TEST(LlamaModel, BytesPerCellCountKeysValuesAndAttentionScores) {
    auto judge = LlamaModel::load(default_model_path());
    ASSERT_TRUE(judge) << judge.error().message;
    EXPECT_EQ((*judge)->bytes_per_cell(2, 512), 1024u + 512u * 7 * 4);
    EXPECT_EQ((*judge)->bytes_per_cell(4, 256), 2048u + 256u * 7 * 4);
    auto tiny = LlamaModel::load(test::tiny_model());  // 2 layers, 2 KV heads of 16, 4 heads
    ASSERT_TRUE(tiny) << tiny.error().message;
    EXPECT_EQ((*tiny)->bytes_per_cell(2, 512), 256u + 512u * 5 * 4);
    // what a budget holds, clamped to what llama.cpp and 16 x cells in an int can take
    EXPECT_EQ(budget_cells(size_t(6) << 30, 194 << 10), 32430);
    EXPECT_EQ(budget_cells(1 << 20, 1 << 20), 256);
    EXPECT_EQ(budget_cells(size_t(1) << 40, 1), INT_MAX / 16);
    EXPECT_EQ(budget_cells(1000, 0), 1000);
}

// Default sizes stay within the memory budget; sizes the caller set are kept.
TEST(LlamaEngine, DefaultSizesFitTheMemoryBudget) {
    const size_t gib = size_t(1) << 30;
    // Llama 3.1 8B: 131,072 tokens of training context, 128 KiB of F16 KV + 66 KiB of scores a cell
    auto p = fill_kv_sizes({}, 131072, 194 << 10, 6 * gib);
    EXPECT_EQ(p.n_ctx_seq, 32430);  // 6 GiB / 194 KiB
    EXPECT_EQ(p.kv_size, 32430);
    EXPECT_EQ(p.cache_tokens, 16215);
    // the committed judge: the budget does not bind
    p = fill_kv_sizes({}, 1024, 15360, 6 * gib);
    EXPECT_EQ(p.n_ctx_seq, 1024);
    EXPECT_EQ(p.kv_size, 16384);
    EXPECT_EQ(p.cache_tokens, 4096);
    // a small training context still gets 8,192 cells
    EXPECT_EQ(fill_kv_sizes({}, 256, 1024, 6 * gib).kv_size, 8192);
    // set by the caller: kept, however large
    LlamaEngineParams set;
    set.n_ctx_seq    = 65536;
    set.kv_size      = 100000;
    set.cache_tokens = 7;
    p                = fill_kv_sizes(set, 131072, 194 << 10, 6 * gib);
    EXPECT_EQ(p.n_ctx_seq, 65536);
    EXPECT_EQ(p.kv_size, 100000);
    EXPECT_EQ(p.cache_tokens, 7);
    // the KV cache holds at least one whole sequence, even past the budget
    set           = {};
    set.n_ctx_seq = 65536;
    EXPECT_EQ(fill_kv_sizes(set, 131072, 194 << 10, 6 * gib).kv_size, 65536);
}

// A model trained on a long context (here 1,048,576 tokens) used to ask llama.cpp for 16 x that
// many cells and fail after seconds of allocation; it now gets what the budget holds, and judges.
TEST(LlamaEngine, LongContextModelGetsTheContextItsBudgetHolds) {
    LlamaConfig c = test::default_tiny_config();
    c.n_ctx       = 1 << 20;
    auto model    = LlamaModel::load(test::tiny_model(c));
    ASSERT_TRUE(model) << model.error().message;
    LlamaEngineParams p;
    p.threads       = 1;
    p.kv_budget_mib = 40;
    auto e          = LlamaEngine::create(*model, p);
    ASSERT_TRUE(e) << e.error().to_string();
    const int cells = (int) ((40u << 20) / (*model)->bytes_per_cell(2, 512));  // 40 MiB / 10,496 B
    EXPECT_EQ(cells, 3996);
    EXPECT_EQ((*e)->n_ctx_seq(), cells);
    EXPECT_NE((*e)->describe().find("ctx/seq 3996, kv 3996"), std::string::npos) << (*e)->describe();
    auto out = (*e)->generate_one(request({ k_prefix, k_prefix }, 0.7f, 3, 8));
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out.value().size(), 2u);
}
