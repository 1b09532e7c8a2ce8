// `grm meta import` and the imported meta RM: a Hugging Face classification head (safetensors)
// becomes a head file next to a llama.cpp GGUF, and LlamaScalarRm then scores like the
// classification model itself (checked against tests/scaling/meta_reference.py on tiny random
// llama and gemma2 models); bad checkpoints are refused by name and leave no head file; the chat
// layout renders exactly what the model's chat template makes of the meta prompt and trajectory.
#include "cli/cli_run.h"
#include "common/fixtures.h"
#include "core/judge.h"
#include "scaling/hf_meta_import.h"
#include "scaling/llama_scalar_rm.h"
#include "scaling/rm_text.h"
#include "scaling/safetensors.h"

#include "ggml.h"
#include "gguf.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace grm::scaling {
namespace {

namespace fs = std::filesystem;

// The python reference computes in float64; llama.cpp in f32 (f32 weights and KV cache).
constexpr double k_score_tol = 1e-4;  // max |score difference|

// One tensor of a safetensors file as written to disk.
struct StTensor {
    std::string          name, dtype;
    std::vector<int64_t> shape;
    std::string          bytes;
};

StTensor st_tensor(const std::string & name, const std::vector<int64_t> & shape, const std::vector<float> & v,
                   const std::string & dtype = "F32") {
    StTensor t{name, dtype, shape, {}};
    if (dtype == "F32") t.bytes.assign(reinterpret_cast<const char *>(v.data()), v.size() * 4);
    for (float x : v) {
        if (dtype == "F16") {
            ggml_fp16_t h = ggml_fp32_to_fp16(x);
            t.bytes.append(reinterpret_cast<const char *>(&h), 2);
        } else if (dtype == "BF16") {
            ggml_bf16_t h = ggml_fp32_to_bf16(x);
            t.bytes.append(reinterpret_cast<const char *>(&h), 2);
        }
    }
    return t;
}

// 8-byte little-endian header length, JSON header, data; `header_extra` patches the JSON.
void write_safetensors(const std::string & path, const std::vector<StTensor> & ts,
                       const nlohmann::json & header_extra = nlohmann::json::object()) {
    nlohmann::json h = {{"__metadata__", {{"format", "pt"}}}};
    std::string    data;
    for (const auto & t : ts) {
        h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    h.merge_patch(header_extra);
    const std::string header = h.dump();
    uint64_t          n      = header.size();
    std::ofstream     out(path, std::ios::binary);
    for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
    out << header << data;
}

std::vector<float> normal_values(size_t n, float std, uint64_t seed) {
    std::mt19937_64                 rng(seed);
    std::normal_distribution<float> d(0.0f, std);
    std::vector<float>              v(n);
    for (auto & x : v) x = d(rng);
    return v;
}

// A checkpoint directory: config.json + model.safetensors with the given tensors.
std::string hf_dir(const nlohmann::json & config, const std::vector<StTensor> & ts) {
    const std::string dir = test::temp_dir();
    std::ofstream(dir + "/config.json") << config.dump();
    write_safetensors(dir + "/model.safetensors", ts);
    return dir;
}

nlohmann::json classifier_config(int hidden) {
    return {{"architectures", {"Gemma2ForSequenceClassification"}}, {"hidden_size", hidden}, {"num_labels", 1}};
}

// A fresh copy of a tiny llama GGUF (n_embd 64), so a head file written next to it is this test's.
std::string fresh_gguf(const LlamaConfig & c = test::default_tiny_config()) {
    const std::string path = test::temp_dir() + "/backbone.gguf";
    fs::copy_file(test::tiny_model(c), path);
    return path;
}

// Imports and expects an error whose message contains `what`, and no head file.
void expect_refused(const std::string & dir, const std::string & what, const std::string & gguf = fresh_gguf(),
                    const std::string & tmpl = "") {
    auto r = import_hf_meta_rm({dir, gguf, tmpl});
    ASSERT_FALSE(r.ok()) << "imported although: " << what;
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(head_path(gguf))) << "a head file was written for a refused import";
}

TEST(MetaImport, RefusesBadCheckpointsByName) {
    const auto w = normal_values(64, 0.1f, 1);
    // no score.weight: the head-like tensors there are are listed
    expect_refused(hf_dir(classifier_config(64), {st_tensor("model.norm.weight", {64}, w), st_tensor("lm_head.weight", {1, 64}, w)}),
                   "no score.weight (the head of a *ForSequenceClassification model); head-like tensors found: lm_head.weight [1, 64]");
    {  // the same through the CLI: exit code 2 (bad input), the message, no head file
        const std::string dir  = hf_dir(classifier_config(64), {st_tensor("v_head.weight", {1, 64}, w)});
        const std::string gguf = fresh_gguf();
        auto              run  = test::run_grm("meta import --hf " + dir + " --gguf " + gguf);
        EXPECT_EQ(run.code, 2) << run.out;
        EXPECT_NE(run.out.find("no score.weight"), std::string::npos) << run.out;
        EXPECT_NE(run.out.find("v_head.weight [1, 64]"), std::string::npos) << run.out;
        EXPECT_FALSE(fs::exists(head_path(gguf)));
    }
    expect_refused(hf_dir(classifier_config(64), {st_tensor("score.weight", {64}, w)}), "score.weight has shape [64], expected [1, 64]");
    expect_refused(hf_dir(classifier_config(32), {st_tensor("score.weight", {2, 32}, w)}), "score.weight has shape [2, 32]");
    auto two = classifier_config(64);
    two.erase("num_labels");
    two["id2label"] = {{"0", "bad"}, {"1", "good"}};
    expect_refused(hf_dir(two, {st_tensor("score.weight", {1, 64}, w)}), "num_labels is 2; a meta RM has one logit");
    // the head fits config.json but not the backbone
    expect_refused(hf_dir(classifier_config(32), {st_tensor("score.weight", {1, 32}, std::vector<float>(w.begin(), w.begin() + 32))}),
                   "score.weight has 32 columns but '");
    StTensor ints{"score.weight", "I32", {1, 64}, std::string(256, '\0')};
    expect_refused(hf_dir(classifier_config(64), {ints}), "tensor 'score.weight' has dtype I32; only F32, F16 and BF16 can be read");
    expect_refused(test::temp_dir(), "config.json");
    {
        const std::string dir = test::temp_dir();
        std::ofstream(dir + "/config.json") << classifier_config(64).dump();
        expect_refused(dir, "has neither model.safetensors nor model.safetensors.index.json");
    }
    auto no_hidden = classifier_config(64);
    no_hidden.erase("hidden_size");
    expect_refused(hf_dir(no_hidden, {st_tensor("score.weight", {1, 64}, w)}), "config.json: no hidden_size");
}

TEST(MetaImport, RefusesMalformedSafetensors) {
    const auto w    = normal_values(64, 0.1f, 2);
    const auto good = st_tensor("score.weight", {1, 64}, w);
    {  // truncated: the header length says more than the file holds
        const std::string dir = hf_dir(classifier_config(64), {good});
        fs::resize_file(dir + "/model.safetensors", 100);
        expect_refused(dir, "runs past the end of the file (100 bytes; truncated?)");
    }
    {  // truncated data: the offsets point past the end
        const std::string dir = hf_dir(classifier_config(64), {good});
        fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") - 16);
        expect_refused(dir, "tensor 'score.weight': data_offsets out of range");
    }
    {  // two tensors sharing bytes
        const std::string dir = test::temp_dir();
        std::ofstream(dir + "/config.json") << classifier_config(64).dump();
        write_safetensors(dir + "/model.safetensors", {good, st_tensor("score.bias", {1}, {0.5f})},
                          {{"score.bias", {{"data_offsets", {4, 8}}}}});
        expect_refused(dir, "overlap (data_offsets)");
    }
    {  // offsets that disagree with the shape
        const std::string dir = test::temp_dir();
        std::ofstream(dir + "/config.json") << classifier_config(64).dump();
        write_safetensors(dir + "/model.safetensors", {good}, {{"score.weight", {{"data_offsets", {0, 128}}}}});
        expect_refused(dir, "data_offsets span 128 bytes, but a F32 tensor of that shape needs 256");
    }
    {  // not JSON
        const std::string dir = test::temp_dir();
        std::ofstream(dir + "/config.json") << classifier_config(64).dump();
        std::ofstream out(dir + "/model.safetensors", std::ios::binary);
        out.write("\x04\0\0\0\0\0\0\0{{{{", 12);
        out.close();
        expect_refused(dir, "malformed header");
    }
    {  // a shard the index names is missing
        const std::string dir = hf_dir(classifier_config(64), {good});
        fs::rename(dir + "/model.safetensors", dir + "/model-00001-of-00002.safetensors");
        std::ofstream(dir + "/model.safetensors.index.json")
            << nlohmann::json{{"weight_map", {{"score.weight", "model-00001-of-00002.safetensors"},
                                              {"model.norm.weight", "model-00002-of-00002.safetensors"}}}}.dump();
        expect_refused(dir, "lists the shard");
    }
}

TEST(MetaImport, RefusesAGgufLlamaCppCannotLoad) {
    const std::string dir = hf_dir(classifier_config(64), {st_tensor("score.weight", {1, 64}, normal_values(64, 0.1f, 3))});
    const std::string bad = test::temp_dir() + "/future.gguf";
    gguf_context *    g   = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "nosucharch");
    ASSERT_TRUE(gguf_write_to_file(g, bad.c_str(), false));
    gguf_free(g);
    expect_refused(dir, "architecture 'nosucharch'", bad);
    // the chat layout needs the GGUF's chat template
    auto m = random_llama_model(test::default_tiny_config(), 42);
    m.chat_template.clear();
    const std::string plain = test::temp_dir() + "/plain.gguf";
    ASSERT_TRUE(write_gguf_llama(plain, m).ok());
    expect_refused(dir, "has no chat template (tokenizer.chat_template)", plain, GRM_SOURCE_DIR "/templates/paper-meta.txt");
}

// A two-response sample and a trajectory that shows response 1 first.
Sample two_responses() {
    Sample s;
    s.conversation = {{"user", "What is 2+2?"}};
    s.responses    = {"five", "four"};
    return s;
}

TEST(MetaImport, ChatLayoutRendersThroughTheModelsTemplate) {
    LlamaConfig long_ctx = test::default_tiny_config();
    long_ctx.n_ctx       = 1024;  // the judging prompt of `grm score` below fits
    const std::string gguf = fresh_gguf(long_ctx);
    const std::string dir  = hf_dir(classifier_config(64), {st_tensor("score.weight", {1, 64}, normal_values(64, 0.1f, 4))});
    ASSERT_TRUE(import_hf_meta_rm({dir, gguf, GRM_SOURCE_DIR "/templates/paper-meta.txt"}).ok());
    auto scorer = LlamaMetaScorer::load(gguf);
    ASSERT_TRUE(scorer.ok()) << scorer.error().to_string();
    Trajectory t;
    t.order           = {1, 0};
    t.generation.text = "Specific Criteria: correctness (10).\nScores: \\boxed{9, 1}";
    auto text         = (*scorer)->text(two_responses(), t);
    ASSERT_TRUE(text.ok()) << text.error().to_string();
    EXPECT_EQ(*text,
              "<|im_start|>user\n"
              "Please score the responses.\n\n"
              "#### Conversation Context ####\n"
              "User: What is 2+2?\n\n"
              "#### Responses to be Scored ####\n"
              "[The Begin of Response 1]\nfour\n[The End of Response 1]\n"
              "[The Begin of Response 2]\nfive\n[The End of Response 2]\n"
              "<|im_end|>\n"
              "<|im_start|>assistant\n"
              "Specific Criteria: correctness (10).\nScores: \\boxed{9, 1}<|im_end|>\n");
    auto scores = (*scorer)->score(two_responses(), {t});
    ASSERT_TRUE(scores.ok()) << scores.error().to_string();
    EXPECT_TRUE(std::isfinite((*scores)[0]));

    // chat-layout texts are tokenized with their control tokens
    auto rm = LlamaScalarRm::load(gguf);
    ASSERT_TRUE(rm.ok());
    const auto ids = (*rm)->tokenize(*text);
    EXPECT_NE(std::find(ids.begin(), ids.end(), (*rm)->model().find_piece("<|im_start|>")), ids.end());

    // `grm score --meta` reads the chat-layout head: every trajectory gets a meta score
    const std::string in = test::temp_dir() + "/sample.json";
    std::ofstream(in) << nlohmann::json{{"id", "chat"}, {"query", "What is 2+2?"}, {"responses", {"five", "four"}}}.dump();
    auto run = test::run_grm("score -m " + gguf + " --meta " + gguf + " --threads 1 -k 2 --k-meta 1 --max-tokens 16 --json -f " + in);
    ASSERT_EQ(run.code, 0) << run.out;
    nlohmann::json j;  // the one stdout line that is the judgment (stderr is in run.out too)
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("{\"", 0) == 0) j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_EQ(j["samples"].size(), 2u) << j.dump();
    for (const auto & sample : j["samples"]) EXPECT_TRUE(sample["meta_score"].is_number()) << sample.dump();

    // without --template the plain layout stays: meta_rm_text, as grm's own meta RMs were trained
    ASSERT_TRUE(import_hf_meta_rm({dir, gguf, ""}).ok());
    auto plain = LlamaMetaScorer::load(gguf);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(*(*plain)->text(two_responses(), t), meta_rm_text(two_responses(), t.order, t.generation.text));
}

// ---- parity with the python reference on two architectures ----

struct Arch {
    std::string    name;
    GgufLlamaModel model;
    nlohmann::json config;  // for the reference
};

// Norm weights away from 1, so that a wrong norm convention (w vs 1 + w) shows.
void perturb_norms(GgufLlamaModel & m, uint64_t seed) {
    std::mt19937_64                 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.2f);
    for (auto & t : m.tensors)
        if (t.name.find("norm") != std::string::npos)
            for (auto & x : t.data) x = 1.0f + d(rng);
}

nlohmann::json common_config(const LlamaConfig & c) {
    return {{"n_embd", c.n_embd}, {"n_layer", c.n_layer}, {"n_head", c.n_head}, {"n_head_kv", c.n_head_kv},
            {"rms_eps", c.rms_eps}, {"rope_theta", c.rope_theta}};
}

Arch llama_arch() {
    LlamaConfig c = test::default_tiny_config();
    c.n_ff        = 96;
    Arch a{"llama", random_llama_model(c, 7), common_config(c)};
    perturb_norms(a.model, 8);
    return a;
}

Arch gemma2_arch() {
    LlamaConfig c = test::default_tiny_config();
    c.n_layer     = 3;  // sliding, global, sliding
    c.n_ff        = 96;
    c.rms_eps     = 1e-6f;
    Gemma2Params g;
    g.head_dim       = 24;    // != n_embd / n_head, as in Gemma-2 27B (128 vs 144)
    g.attn_softcap   = 1.0f;  // small, so that the cap bends these tiny models' logits
    g.sliding_window = 16;    // shorter than the texts below
    Arch a{"gemma2", random_gemma2_model(c, g, 9, 0.1f), common_config(c)};
    perturb_norms(a.model, 10);
    a.config["head_dim"]              = g.head_dim;
    a.config["query_pre_attn_scalar"] = g.head_dim;  // what llama.cpp uses outside the 27B
    a.config["attn_softcap"]          = g.attn_softcap;
    a.config["sliding_window"]        = g.sliding_window;
    return a;
}

void check_parity(const Arch & a, bool sharded_f32_with_bias) {
    const std::string work = test::temp_dir();
    const std::string gguf = work + "/" + a.name + ".gguf";
    ASSERT_TRUE(write_gguf_llama(gguf, a.model).ok());

    // The checkpoint: llama one as two F32 shards with a bias, gemma2 one as a single BF16 file.
    const int         d   = a.model.config.n_embd;
    const std::string dir = work + "/hf";
    fs::create_directories(dir);
    nlohmann::json cfg = {{"architectures", {a.name == "gemma2" ? "Gemma2ForSequenceClassification" : "LlamaForSequenceClassification"}},
                          {"hidden_size", d}};
    if (a.name == "gemma2") cfg["id2label"] = {{"0", "LABEL_0"}};
    else cfg["num_labels"] = 1;
    std::ofstream(dir + "/config.json") << cfg.dump();
    const auto w = normal_values(size_t(d), 0.3f, 11);
    if (sharded_f32_with_bias) {
        write_safetensors(dir + "/model-00001-of-00002.safetensors", {st_tensor("model.norm.weight", {d}, w)});
        write_safetensors(dir + "/model-00002-of-00002.safetensors",
                          {st_tensor("score.weight", {1, d}, w), st_tensor("score.bias", {1}, {0.375f})});
        std::ofstream(dir + "/model.safetensors.index.json")
            << nlohmann::json{{"metadata", {{"total_size", 4 * (2 * d + 1)}}},
                              {"weight_map", {{"model.norm.weight", "model-00001-of-00002.safetensors"},
                                              {"score.weight", "model-00002-of-00002.safetensors"},
                                              {"score.bias", "model-00002-of-00002.safetensors"}}}}.dump();
    } else {
        write_safetensors(dir + "/model.safetensors", {st_tensor("score.weight", {1, d}, w, "BF16")});
    }

    auto run = test::run_grm("meta import --hf " + dir + " --gguf " + gguf);
    ASSERT_EQ(run.code, 0) << run.out;
    auto rm = LlamaScalarRm::load(gguf);
    ASSERT_TRUE(rm.ok()) << rm.error().to_string();
    EXPECT_FLOAT_EQ((*rm)->head().bias, sharded_f32_with_bias ? 0.375f : 0.0f);

    const std::vector<std::string> texts = {
        "Scores: \\boxed{7, 3} because the first response answers the question.",
        "The second response is wrong: 2+2 is four, not five. Scores: \\boxed{2, 9}",
        "short one, yet past the window",
        // longer than the scorer's ubatch (128 tokens): decoded in two, the last state as one pass gives
        "A longer trajectory. Specific Criteria: correctness (weight: 60%), clarity (weight: 40%). Analysis: the first "
        "response adds the numbers correctly and states the total; the second one drops a carry and ends one short. "
        "Scores: \\boxed{9, 3}"};
    auto scores = (*rm)->score_texts(texts);
    ASSERT_TRUE(scores.ok()) << scores.error().to_string();

    // The reference: the backbone's tensors as the GGUF holds them, the token ids grm scored.
    std::vector<StTensor> backbone;
    for (const auto & t : a.model.tensors) backbone.push_back(st_tensor(t.name, t.shape, t.data));
    write_safetensors(work + "/backbone.safetensors", backbone);
    nlohmann::json tokens = nlohmann::json::array();
    for (const auto & t : texts) tokens.push_back((*rm)->tokenize(t));
    EXPECT_GT(tokens[2].size(), 16u) << "every text should be longer than gemma2's sliding window";
    std::ofstream(work + "/manifest.json")
        << nlohmann::json{{"arch", a.name}, {"config", a.config}, {"backbone", work + "/backbone.safetensors"},
                          {"hf_dir", dir}, {"tokens", tokens}}.dump();
    if (std::system("/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null") != 0)
        GTEST_SKIP() << "no /usr/bin/python3 with torch and numpy: the reference comparison is skipped";
    const std::string cmd = "/usr/bin/python3 " GRM_SOURCE_DIR "/tests/scaling/meta_reference.py " + work;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    nlohmann::json ref;
    std::ifstream(work + "/reference.json") >> ref;
    ASSERT_EQ(ref["scores"].size(), texts.size());
    double worst = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        EXPECT_NEAR((*scores)[i], ref["scores"][i].get<double>(), k_score_tol) << a.name << " text " << i;
        worst = std::max(worst, std::abs((*scores)[i] - ref["scores"][i].get<double>()));
    }
    std::printf("%s: %zu scores, max |grm - reference| = %.2e (tolerance %.0e)\n", a.name.c_str(), texts.size(), worst, k_score_tol);
}

TEST(MetaImport, ScoresMatchTheReferenceOnLlama) { check_parity(llama_arch(), /*sharded_f32_with_bias=*/true); }
TEST(MetaImport, ScoresMatchTheReferenceOnGemma2) { check_parity(gemma2_arch(), /*sharded_f32_with_bias=*/false); }

}  // namespace
}  // namespace grm::scaling
