// The tokenizer contract: a BPE trained by grm-spm (SentencePiece, in its own process) and loaded
// by llama.cpp from the vocab-only GGUF gives the same ids as SentencePiece on a corpus sample,
// and the ChatML markers are single tokens.
#include "common/fixtures.h"
#include "core/prompt.h"
#include "world/corpus.h"
#include "world/rft.h"

#include <gtest/gtest.h>
#include <llama.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/wait.h>

using namespace grm;
using namespace grm::world;

namespace {

// a missing grm-spm fails the test (built_program throws), never skips it
std::string spm_binary() { return test::built_program("tools/grm-spm/grm-spm"); }

int run(const std::string & cmd, std::string & output) {
    FILE * f = popen((cmd + " 2>&1").c_str(), "r");
    if (!f) return -1;
    char   buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) output.append(buf, n);
    const int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<int> llama_ids(const llama_vocab * vocab, const std::string & text) {
    std::vector<llama_token> out(text.size() * 2 + 16);
    int                      n = llama_tokenize(vocab, text.c_str(), (int32_t) text.size(), out.data(), (int32_t) out.size(),
                                                /*add_special=*/false, /*parse_special=*/true);
    EXPECT_GE(n, 0);
    out.resize((size_t) std::max(0, n));
    return std::vector<int>(out.begin(), out.end());
}

struct Trained {
    std::string dir, gguf, model;
};

// Trains once per process: a few thousand lines of the world's text, vocab 1000 (seconds).
const Trained & trained() {
    static Trained t = [] {
        Trained r;
        r.dir   = test::temp_dir();
        r.gguf  = r.dir + "/tok.gguf";
        r.model = r.dir + "/tok.model";
        std::ofstream out(r.dir + "/corpus.txt");
        CorpusParams  cp;
        cp.count = 2500;
        for (const auto & rec : make_corpus(cp)) out << rec.prompt << "\n" << rec.completion << "\n";
        RftParams rp;
        rp.gen.count = 120;
        std::vector<nlohmann::json> recs;
        build_rft(rp, recs);
        for (const auto & j : recs) out << j["completion"].get<std::string>() << "\n";
        out.close();
        std::string log;
        const int   rc = run(spm_binary() + " train --input " + r.dir + "/corpus.txt --vocab-size 1000 --out " + r.gguf, log);
        EXPECT_EQ(rc, 0) << log;
        return r;
    }();
    return t;
}

struct LlamaVocab {
    llama_model * model = nullptr;
    explicit LlamaVocab(const std::string & path) {
        llama_log_set([](ggml_log_level level, const char * text, void *) {
            if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
        }, nullptr);
        llama_backend_init();
        llama_model_params p = llama_model_default_params();
        p.vocab_only         = true;
        model                = llama_model_load_from_file(path.c_str(), p);
    }
    ~LlamaVocab() { if (model) llama_model_free(model); }
    const llama_vocab * vocab() const { return llama_model_get_vocab(model); }
};

// The sample: corpus records and trajectories with their newlines, plus hand-written edge cases.
std::vector<std::string> sample_texts() {
    std::vector<std::string> t = { "What is 47 + 38?", "  two  leading spaces and  double  spaces ", "tabs\tand\nnewlines\n\n",
                                   "caf\xc3\xa9 na\xc3\xafve \xe2\x9c\x93 \xf0\x9f\x99\x82", "1234567890 3.14159 -42",
                                   "Scores: \\boxed{10, 2, 8}", "UPPER lower MiXeD", "'quoted' \"double\" (paren) [bracket]", "" };
    CorpusParams cp;
    cp.count = 300;
    cp.seed  = 99;
    cp.split = Split::test;  // words the tokenizer never saw in training
    for (const auto & r : make_corpus(cp)) t.push_back(r.prompt + "\n" + r.completion);
    RftParams rp;
    rp.gen.count = 40;
    rp.gen.seed  = 5;
    std::vector<nlohmann::json> recs;
    build_rft(rp, recs);
    for (const auto & j : recs) t.push_back(j["prompt"].get<std::string>() + "\n" + j["completion"].get<std::string>());
    return t;
}

std::vector<std::vector<int>> spm_ids(const std::vector<std::string> & texts) {
    const std::string in = trained().dir + "/texts.jsonl";
    {
        std::ofstream f(in);
        for (const auto & s : texts) f << nlohmann::json(s).dump() << "\n";
    }
    std::string out;
    EXPECT_EQ(run(spm_binary() + " encode --model " + trained().model + " --input " + in + " 2>/dev/null", out), 0) << out;
    std::vector<std::vector<int>> ids;
    std::istringstream            ss(out);
    for (std::string line; std::getline(ss, line);) ids.push_back(nlohmann::json::parse(line).get<std::vector<int>>());
    return ids;
}

}  // namespace

TEST(Tokenizer, LlamaCppIdsEqualSentencePieceIds) {
    LlamaVocab lv(trained().gguf);
    ASSERT_NE(lv.model, nullptr);
    EXPECT_EQ(llama_vocab_n_tokens(lv.vocab()), 1000);
    const auto texts = sample_texts();
    const auto ref   = spm_ids(texts);
    ASSERT_EQ(ref.size(), texts.size());
    int mismatches = 0;
    for (size_t i = 0; i < texts.size(); i++) {
        const auto got = llama_ids(lv.vocab(), texts[i]);
        if (got != ref[i]) {
            if (mismatches++ < 3) ADD_FAILURE() << "ids differ for text " << i << ": " << texts[i].substr(0, 200);
        }
    }
    EXPECT_EQ(mismatches, 0) << "of " << texts.size() << " texts";
}

TEST(Tokenizer, ChatMarkersAreSingleTokensAndTemplateIsChatML) {
    LlamaVocab lv(trained().gguf);
    ASSERT_NE(lv.model, nullptr);
    const std::vector<int> start = llama_ids(lv.vocab(), "<|im_start|>"), end = llama_ids(lv.vocab(), "<|im_end|>");
    ASSERT_EQ(start.size(), 1u);
    ASSERT_EQ(end.size(), 1u);
    EXPECT_TRUE(llama_vocab_is_eog(lv.vocab(), end[0]));
    // llama.cpp starts every text fragment after a special token with a space prefix, which is
    // what SentencePiece does for each fragment encoded on its own: compare fragment by fragment.
    const std::string      text  = "<|im_start|>user\nWhat is 47 + 38?<|im_end|>\n<|im_start|>assistant\n";
    const auto             frags = spm_ids({ "user\nWhat is 47 + 38?", "\n", "assistant\n" });
    std::vector<int>       want  = start;
    want.insert(want.end(), frags[0].begin(), frags[0].end());
    want.push_back(end[0]);
    want.insert(want.end(), frags[1].begin(), frags[1].end());
    want.push_back(start[0]);
    want.insert(want.end(), frags[2].begin(), frags[2].end());
    EXPECT_EQ(llama_ids(lv.vocab(), text), want);
    const char * tmpl = llama_model_chat_template(lv.model, nullptr);
    ASSERT_NE(tmpl, nullptr);
    EXPECT_EQ(std::string(tmpl), std::string(k_chatml_template));
}

TEST(Tokenizer, ResponseMarkersAppendAsSingleTokensAndKeepEveryOtherId) {
    const std::string grown = trained().dir + "/tok-markers.gguf";
    std::string       log;
    // a research flag: refused (and named) unless GRM_RESEARCH=1
    std::string refused;
    EXPECT_NE(run("env -u GRM_RESEARCH " + spm_binary() + " export --model " + trained().model + " --response-markers 2 --out " + grown, refused), 0)
        << refused;
    EXPECT_NE(refused.find("--response-markers is a research flag"), std::string::npos) << refused;
    EXPECT_FALSE(std::filesystem::exists(grown));
    ASSERT_EQ(run("GRM_RESEARCH=1 " + spm_binary() + " export --model " + trained().model + " --response-markers 2 --out " + grown, log), 0) << log;
    LlamaVocab base(trained().gguf), lv(grown);
    ASSERT_NE(lv.model, nullptr);
    // [Response], [End of Response], then [Response k], [End of Response k] for k = 1, 2 (each
    // with its newline): ids 1000..1005, after the 1000 pieces of the base vocab, which keep theirs.
    ASSERT_EQ(llama_vocab_n_tokens(lv.vocab()), 1006);
    for (int id = 0; id < 1000; id++) ASSERT_STREQ(llama_vocab_get_text(lv.vocab(), id), llama_vocab_get_text(base.vocab(), id));
    const std::vector<std::string> markers = { "[Response]\n", "[End of Response]\n", "[Response 1]\n", "[End of Response 1]\n",
                                               "[Response 2]\n", "[End of Response 2]\n" };
    for (size_t i = 0; i < markers.size(); i++) EXPECT_EQ(llama_ids(lv.vocab(), markers[i]), std::vector<int>{ 1000 + (int) i });
    // A block is its marker, the text as it tokenizes anywhere (no space prefix after the marker),
    // and the closing marker; a quote of it inside a judgment ends in the very same ids.
    const std::string block = response_block("72, 78, 44", 1, false);
    std::vector<int>  want  = { 1004 };
    const auto        text  = llama_ids(lv.vocab(), "72, 78, 44\n");
    want.insert(want.end(), text.begin(), text.end());
    want.push_back(1005);
    EXPECT_EQ(llama_ids(lv.vocab(), block), want);
    const auto quoted = llama_ids(lv.vocab(), "Analysis:\nSorted: 44, 72, 78.\n" + block);
    ASSERT_GT(quoted.size(), want.size());
    EXPECT_EQ(std::vector<int>(quoted.end() - (long) want.size(), quoted.end()), want);
    std::vector<int> first = { 1002 };  // the same text behind another block's marker
    first.insert(first.end(), text.begin(), text.end());
    EXPECT_EQ(llama_ids(lv.vocab(), "[Response 1]\n72, 78, 44\n"), first);
    // "[Response 3]" is beyond --response-markers 2: plain text.
    EXPECT_GT(llama_ids(lv.vocab(), "[Response 3]\n").size(), 1u);
}

TEST(Tokenizer, WordPiecesKeepQuotedWordsAsLettersAndTemplateWordsWhole) {
    const std::string prefix = trained().dir + "/tok-words";
    std::string       log;
    ASSERT_EQ(run("GRM_RESEARCH=1 " + spm_binary() + " train --input " + trained().dir + "/corpus.txt --out " + prefix + ".gguf --model-prefix " + prefix +
                      " --response-markers 2 --word-pieces 300",
                  log),
              0)
        << log;
    std::vector<std::string> words;
    std::ifstream            in(prefix + ".words");
    for (std::string line; std::getline(in, line);) words.push_back(nlohmann::json::parse(line).get<std::string>());
    ASSERT_EQ(words.size(), 300u);
    const std::regex word_re("^( [A-Za-z]{2,}|[A-Z][a-z]+)$");
    for (const auto & w : words) EXPECT_TRUE(std::regex_match(w, word_re)) << "'" << w << "'";
    EXPECT_EQ(words[0], " the");  // the corpus's most frequent word

    LlamaVocab lv(prefix + ".gguf");
    ASSERT_NE(lv.model, nullptr);
    const auto piece = [&](int id) { return std::string(llama_vocab_get_text(lv.vocab(), id)); };
    // Template words are one token each; the quoted word is its letters, the very tokens its
    // spelling and its reversal are made of.
    const auto ids = llama_ids(lv.vocab(), "Reverse the word 'house'.");
    std::vector<std::string> got;
    for (int id : ids) got.push_back(piece(id));
    EXPECT_EQ(got, (std::vector<std::string>{ "Reverse", " the", " word", "\xe2\x96\x81", "'", "h", "o", "u", "s", "e", "'", "." }));
    const auto dashed = llama_ids(lv.vocab(), "h-o-u-s-e");
    ASSERT_EQ(dashed.size(), 9u);
    for (int k = 0; k < 5; k++) EXPECT_EQ(dashed[(size_t) 2 * k], ids[(size_t) 5 + k]);
    const auto reversed = llama_ids(lv.vocab(), "esuoh");
    EXPECT_EQ(reversed, (std::vector<int>{ ids[9], ids[8], ids[7], ids[6], ids[5] }));
    // Every sample text comes back byte for byte.
    for (const auto & text : sample_texts()) {
        const auto        t = llama_ids(lv.vocab(), text);
        std::vector<char> buf(text.size() * 4 + 64);
        const int n = llama_detokenize(lv.vocab(), t.data(), (int32_t) t.size(), buf.data(), (int32_t) buf.size(), false, false);
        ASSERT_GE(n, 0);
        EXPECT_EQ(std::string(buf.data(), (size_t) n), text);
    }
}
