// `grm rft`: on a model that always answers "\boxed{9,3}", which trajectory is right depends only on
// the seeded shuffle (right iff the best response is shown first), so the kept / rejected / dropped
// / hinted counts follow from grm::shuffle_order and the seed streams alone; a run killed with
// kill -9 and resumed writes exactly the straight run's data.
#include "data/rft.h"

#include "data/meta_data.h"
#include "scaling/rm_text.h"

#include "cli/cli_run.h"
#include "common/fixtures.h"
#include "core/seed.h"
#include "core/vote.h"
#include "engines/make_engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace grm::data {
namespace {

using json = nlohmann::json;

Sample pair(const std::string & id, int best, const std::string & source) {
    Sample s;
    s.id           = id;
    s.source       = source;
    s.conversation = { { "user", "Which is right, " + id + "?" } };
    s.responses    = { "first", "second" };
    s.best         = best;
    return s;
}

std::vector<Sample> inputs(int pairs) {
    std::vector<Sample> v;
    for (int i = 0; i < pairs; i++) v.push_back(pair("p" + std::to_string(i), i % 2, i < pairs / 2 ? "a" : "b"));
    Sample one;  // one response rated 9: "\boxed{9,3}" has two scores, never right
    one.id           = "single";
    one.source       = "a";
    one.conversation = { { "user", "Rate this." } };
    one.responses    = { "ok" };
    one.ratings      = { 9 };
    v.push_back(one);
    return v;
}

bool shown_first(const Sample & s, const std::string & id, uint64_t seed, int i) {
    return shuffle_order(2, stream_seed(seed, Stream::shuffle, id, (uint64_t) i))[0] == *s.best;
}

std::vector<json> read_lines(const std::string & path) {
    std::vector<json> out;
    std::ifstream     in(path);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

// The engine every test here judges with: its answer is always "\\boxed{9,3}".
Result<std::unique_ptr<Engine>> boxed_engine() {
    EngineOptions o;
    o.model         = test::boxed_model("9,3");
    o.llama.threads = 1;
    return make_engine(o);
}

RftParams params(uint64_t seed) {
    RftParams p;
    p.judge.k                    = 3;
    p.judge.seed                 = seed;
    p.judge.sampling.max_tokens  = 16;
    p.judge.prompt.multi         = "{query}\n{responses}{hint}";  // short: the fixture's context is small
    p.batch                      = 3;
    return p;
}

TEST(Rft, RejectsDropsAndHintsByTheRule) {
    auto engine = boxed_engine();
    ASSERT_TRUE(engine) << engine.error().to_string();
    const std::vector<Sample> in   = inputs(10);
    const uint64_t            seed = 11;
    const std::string         mix  = test::temp_dir() + "/general.jsonl";
    std::ofstream(mix) << R"({"prompt": "Say hi.", "completion": "hi"})" "\n"
                       << R"({"messages": [{"role": "user", "content": "Say yo."}, {"role": "assistant", "content": "yo"}]})" "\n";
    RftParams p = params(seed);
    p.mix_path  = mix;
    p.mix_ratio = 0.25;
    const std::string dir = test::temp_dir() + "/rft";
    auto              r   = run_rft(**engine, in, p, dir);
    ASSERT_TRUE(r.ok()) << r.error().to_string();

    // The same counts from the seed streams alone.
    RftCounts want;
    for (const Sample & s : in) {
        want.inputs++;
        if (s.n() == 1) {
            want.rejected += 3;  // wrong_count every time
            continue;
        }
        int right = 0;
        for (int i = 0; i < 3; i++) right += shown_first(s, s.id, seed, i);
        if (right == 3) {
            want.dropped++;
            continue;
        }
        want.kept += right;
        want.rejected += 3 - right;
        (shown_first(s, s.id + "#hint", seed, 0) ? want.hinted_kept : want.hinted_rejected)++;
    }
    EXPECT_EQ(r->total.inputs, 11);
    EXPECT_EQ(r->total.dropped, want.dropped);
    EXPECT_EQ(r->total.kept, want.kept);
    EXPECT_EQ(r->total.rejected, want.rejected);
    EXPECT_EQ(r->total.hinted_kept, want.hinted_kept);
    EXPECT_EQ(r->total.hinted_rejected, want.hinted_rejected);
    EXPECT_GT(want.kept, 0);      // the seed makes every case occur: the counts above can fail
    EXPECT_GT(want.rejected, 3);
    EXPECT_EQ(r->by_source.at("a").inputs, 6);
    EXPECT_EQ(r->by_source.at("b").inputs, 5);

    const long        general = std::lround(0.25 * double(want.kept + want.hinted_kept));
    auto              lines   = read_lines(dir + "/rft.jsonl");
    ASSERT_EQ((long) lines.size(), want.kept + want.hinted_kept + general);
    long hinted = 0, mixed = 0;
    for (const json & l : lines) {
        if (l["kind"] == "general") {
            mixed++;
            EXPECT_EQ(l["messages"][1]["role"], "assistant");
            continue;
        }
        hinted += l["kind"] == "rft_hinted";
        EXPECT_EQ(l["completion"], "\\boxed{9,3}");
        EXPECT_EQ(l["messages"][0]["content"], l["prompt"]);
        EXPECT_EQ(l["prompt"].get<std::string>().find("Hint"), std::string::npos);  // never the hinted prompt
        // kept means right: the best response (index i % 2 for input pi) was shown first
        EXPECT_EQ(l["order"][0], std::stoi(l["id"].get<std::string>().substr(1)) % 2) << l.dump();
    }
    EXPECT_EQ(hinted, want.hinted_kept);
    EXPECT_EQ(mixed, general);
    std::ifstream     rep(dir + "/report.md");
    std::stringstream md;
    md << rep.rdbuf();
    EXPECT_NE(md.str().find("| **total** | 11 | " + std::to_string(want.dropped) + " | 0 | " + std::to_string(want.kept) + " | "),
              std::string::npos)
        << md.str();

    // The same folder with other settings is refused, not mixed.
    RftParams other = params(seed + 1);
    auto      clash = run_rft(**engine, in, other, dir);
    ASSERT_FALSE(clash.ok());
    EXPECT_NE(clash.error().message.find("sampled with seed = 11, not 12"), std::string::npos) << clash.error().message;
}

TEST(Rft, InputsWithoutGroundTruthAreRefused) {
    std::vector<Sample> in = inputs(2);
    in[0].best.reset();
    EXPECT_NE(check_rft_inputs(in, false).error().message.find("input 0 ('p0'): no 'best'"), std::string::npos);
    in = inputs(2);
    in[2].ratings.clear();
    in[2].label = 1;
    EXPECT_NE(check_rft_inputs(in, false).error().message.find("input 2 ('single'): one response without 'ratings' (the rule for n = 1 "
                                                               "compares the score with it; for a 0/1 label judge with the 0/1 variant, --binary-single)"),
              std::string::npos);
    EXPECT_TRUE(check_rft_inputs(in, true).ok());
    in[2].label.reset();
    in[2].ratings = { 9 };
    EXPECT_NE(check_rft_inputs(in, true).error().message.find("input 2 ('single'): one response without 'label'"), std::string::npos);
    in = inputs(2);
    in[1].id = "p0";
    EXPECT_NE(check_rft_inputs(in, false).error().message.find("the id occurs twice"), std::string::npos);
}

// A policy for single responses judged 0/1: to a prompt asking for 0/1 it answers the hinted label
// when the prompt gives one, else the low bit of the sample's seed; to any other prompt 5.
class VerdictEngine : public Engine {
  public:
    std::string describe() const override { return "verdict engine"; }
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & reqs) override {
        std::vector<GenerationResult> out;
        for (const auto & r : reqs) {
            std::vector<Generation> gens;
            for (size_t i = 0; i < r.prompts.size(); i++) {
                const std::string & p = r.prompts[i];
                std::string         v = std::to_string(sample_seed(r, (int) i) & 1);
                if (p.find("(Hint: the response is not acceptable.)") != std::string::npos) v = "0";
                if (p.find("(Hint: the response is acceptable.)") != std::string::npos) v = "1";
                Generation g;
                g.text = "Scores: \\boxed{" + (p.find("0 if not") != std::string::npos ? v : "5") + "}";
                gens.push_back(g);
            }
            out.emplace_back(std::move(gens));
        }
        return out;
    }
};

TEST(Rft, SingleResponsesWithZeroOneLabelsJudgedZeroOne) {
    std::vector<Sample> in;
    for (int i = 0; i < 16; i++) {
        Sample s;
        s.id           = "s" + std::to_string(i);
        s.source       = "math";
        s.conversation = { { "user", "What is " + std::to_string(i) + " + 1?" } };
        s.responses    = { std::to_string(i + i % 2) };
        s.label        = i % 2 ? 0 : 1;
        in.push_back(s);
    }
    const uint64_t seed = 5;
    RftParams      p    = params(seed);
    p.judge.binary_single = true;
    VerdictEngine     engine;
    const std::string dir = test::temp_dir() + "/rft-binary";
    auto              r   = run_rft(engine, in, p, dir);
    ASSERT_TRUE(r.ok()) << r.error().to_string();

    RftCounts want;
    for (const Sample & s : in) {
        int right = 0;
        for (int i = 0; i < 3; i++) right += int(stream_seed(seed, Stream::engine_sample, s.id, (uint64_t) i) & 1) == *s.label;
        if (right == 3) {
            want.dropped++;
            continue;
        }
        want.kept += right;
        want.rejected += 3 - right;
        want.hinted_kept++;  // the hint states the label, which this policy repeats
    }
    EXPECT_EQ(r->total.inputs, 16);
    EXPECT_EQ(r->total.dropped, want.dropped);
    EXPECT_EQ(r->total.kept, want.kept);
    EXPECT_EQ(r->total.rejected, want.rejected);
    EXPECT_EQ(r->total.hinted_kept, want.hinted_kept);
    EXPECT_EQ(r->total.hinted_rejected, 0);
    EXPECT_GT(want.dropped, 0);  // the seed makes every case occur
    EXPECT_GT(want.kept, 0);
    EXPECT_GT(want.rejected, 0);
    auto lines = read_lines(dir + "/rft.jsonl");
    ASSERT_EQ((long) lines.size(), want.kept + want.hinted_kept);
    for (const json & l : lines) {
        const Sample & s = in[(size_t) std::stoi(l["id"].get<std::string>().substr(1))];
        EXPECT_EQ(l["completion"], "Scores: \\boxed{" + std::to_string(*s.label) + "}");
        EXPECT_EQ(l["scores"], json::array({ *s.label }));
        const std::string prompt = l["prompt"];
        EXPECT_NE(prompt.find("0 if not"), std::string::npos);  // the 0/1 variant, never the hint
        EXPECT_EQ(prompt.find("Hint"), std::string::npos);
    }

    // The same inputs judged 1..10 have no rule: refused before any sampling.
    p.judge.binary_single = false;
    auto refused          = run_rft(engine, in, p, test::temp_dir() + "/rft-binary-off");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("--binary-single"), std::string::npos);
}

TEST(Rft, BinarySingleFromTheCommandLine) {
    // A real GGUF that always answers "\\boxed{1}": label-1 inputs are always right (dropped),
    // label-0 inputs always wrong (rejected, and so is their hinted trajectory).
    const std::string dir  = test::temp_dir() + "/rft-binary-cli";
    const std::string data = dir + "-in.jsonl";
    {
        std::ofstream f(data);
        for (int i = 0; i < 4; i++) {
            f << json{ { "id", "m" + std::to_string(i) }, { "query", "Is " + std::to_string(i) + " even?" },
                       { "responses", { "yes" } }, { "label", i % 2 } }
                     .dump()
              << "\n";
        }
    }
    const std::string tpl = dir + "-template.txt";
    std::ofstream(tpl) << "{query}\n{responses}{hint}\n=== binary ===\n0 or 1: {query}\n{response}\n{hint}";
    const std::string args = "rft --data " + data + " -k 2 --seed 3 --max-tokens 16 --threads 1 --template " + tpl + " -m " +
                             test::boxed_model("1");
    auto run = test::run_grm(args + " --binary-single -o " + dir + "/out");
    ASSERT_EQ(run.code, 0) << run.out;
    // inputs 4 | dropped 2 | skipped 0 | kept 0 | rejected 4 | hinted kept 0 | hinted rejected 2
    EXPECT_NE(run.out.find("| **total** | 4 | 2 | 0 | 0 | 4 | 0 | 2 |"), std::string::npos) << run.out;
    auto hinted = read_lines(dir + "/out/hinted.jsonl");
    EXPECT_EQ(hinted.size(), 4u);  // one per input, dropped ones included

    auto off = test::run_grm(args + " -o " + dir + "/off");
    EXPECT_EQ(off.code, 2);
    EXPECT_NE(off.out.find("input 0 ('m0'): one response without 'ratings'"), std::string::npos) << off.out;
    std::ofstream(tpl) << "{query}\n{responses}{hint}";
    auto no_section = test::run_grm(args + " --binary-single -o " + dir + "/none");
    EXPECT_EQ(no_section.code, 2);
    EXPECT_NE(no_section.out.find("has no === binary === section"), std::string::npos) << no_section.out;

    // grm rl export: the 0/1 prompt and its label, for /rule_reward
    auto exp = test::run_grm("rl export --binary-single --data " + data + " -o " + dir + "/rl.jsonl");
    ASSERT_EQ(exp.code, 0) << exp.out;
    auto rl = read_lines(dir + "/rl.jsonl");
    ASSERT_EQ(rl.size(), 4u);
    EXPECT_EQ(rl[1]["label"], "{\"label\":1,\"n\":1}");
    EXPECT_NE(rl[1]["prompt"].get<std::string>().find("1 if it is correct and acceptable, 0 if not"), std::string::npos);
}

long count_lines(const std::string & path) {
    std::ifstream in(path);
    long          n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
}

TEST(Rft, KilledAndResumedEqualsStraightRun) {
    const std::string dir  = test::temp_dir() + "/rft-cli";
    const std::string data = dir + "-in.jsonl";
    const int         n    = 40;
    {
        std::ofstream f(data);
        for (const Sample & s : inputs(n)) f << sample_to_json(s).dump() << "\n";
    }
    const std::string tpl = dir + "-template.txt";
    std::ofstream(tpl) << "{query}\n{responses}{hint}";
    const std::string args = "rft --data " + data + " -k 3 --seed 4 --batch 1 --max-tokens 16 --threads 1 --template " + tpl +
                             " -m " + test::boxed_model("9,3");
    auto straight = test::run_grm(args + " -o " + dir + "/straight");
    ASSERT_EQ(straight.code, 0) << straight.out;
    EXPECT_NE(straight.out.find("| **total** | 41 |"), std::string::npos) << straight.out;

    const std::string out     = dir + "/resumed";
    const std::string results = out + "/results.jsonl";
    pid_t             pid     = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::string cmd = "exec " + test::built_program("tools/grm/grm") + " " + args + " -o " + out + " > /dev/null 2>&1";
        execl("/bin/sh", "sh", "-c", cmd.c_str(), (char *) nullptr);
        _exit(127);
    }
    for (int waited_ms = 0; waited_ms < 120000 && count_lines(results) < 5; waited_ms++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    const long at_kill = count_lines(results);
    ASSERT_TRUE(WIFSIGNALED(st)) << "the run ended before it was killed (" << at_kill << " lines)";
    ASSERT_LT(at_kill, n + 1);
    auto resumed = test::run_grm(args + " -o " + out);
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    auto a = read_lines(dir + "/straight/rft.jsonl");
    auto b = read_lines(out + "/rft.jsonl");
    EXPECT_EQ(a, b) << "killed after " << at_kill << " inputs";
    EXPECT_EQ(count_lines(results), n + 1);  // every input once: none lost, none twice
}

TEST(MetaData, LabelsByTheRuleAndBalancesPerSource) {
    auto engine = boxed_engine();
    ASSERT_TRUE(engine) << engine.error().to_string();
    const std::vector<Sample> in = inputs(10);
    MetaDataParams            p;
    p.judge                 = params(7).judge;
    const std::string dir   = test::temp_dir() + "/meta-data";
    auto              r     = run_meta_data(**engine, in, p, dir);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    std::map<std::string, std::pair<long, long>> want;  // source -> (correct, wrong)
    for (const Sample & s : in) {
        for (int i = 0; i < 3; i++) {
            const bool ok = s.n() == 2 && shown_first(s, s.id, 7, i);  // the single one is never right
            (ok ? want[s.source].first : want[s.source].second)++;
        }
    }
    ASSERT_EQ(r->sources.size(), 2u);
    long kept = 0;
    for (const auto & b : r->sources) {
        EXPECT_EQ(b.correct, want[b.source].first) << b.source;
        EXPECT_EQ(b.wrong, want[b.source].second) << b.source;
        EXPECT_EQ(b.kept, 2 * std::min(b.correct, b.wrong)) << b.source;
        kept += b.kept;
    }
    auto lines = read_lines(dir + "/meta_data.jsonl");
    ASSERT_EQ((long) lines.size(), kept);
    std::map<std::string, long> ones, zeros;
    for (const json & l : lines) {
        (l["label"] == 1 ? ones : zeros)[l["source"]]++;
        const Sample & s = in[l["id"] == "single" ? 10 : std::stoi(l["id"].get<std::string>().substr(1))];
        EXPECT_EQ(l["text"], scaling::meta_rm_text(s, l["order"].get<std::vector<int>>(), "\\boxed{9,3}"));
        EXPECT_EQ(l["label"], s.n() == 2 && l["order"][0] == *s.best ? 1 : 0) << l.dump();
    }
    EXPECT_EQ(ones, zeros);  // balanced: as many correct as wrong in each source
    EXPECT_GT(kept, 0);
}

TEST(MetaData, BinarySingleLabelsByTheZeroOneRule) {
    std::vector<Sample> in;
    for (int i = 0; i < 8; i++) {
        Sample s;
        s.id           = "b" + std::to_string(i);
        s.conversation = { { "user", "Is " + std::to_string(i) + " odd?" } };
        s.responses    = { "yes" };
        s.label        = i % 2;
        in.push_back(s);
    }
    MetaDataParams p;
    p.judge               = params(9).judge;
    p.judge.binary_single = true;
    p.balance             = false;
    VerdictEngine     engine;
    const std::string dir = test::temp_dir() + "/meta-binary";
    auto              r   = run_meta_data(engine, in, p, dir);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    auto lines = read_lines(dir + "/meta_data.jsonl");
    ASSERT_EQ(lines.size(), 24u);
    long right = 0;
    for (const json & l : lines) {
        const Sample & s = in[(size_t) std::stoi(l["id"].get<std::string>().substr(1))];
        const bool     ok = l["trajectory"] == "Scores: \\boxed{" + std::to_string(*s.label) + "}";
        EXPECT_EQ(l["label"], ok ? 1 : 0) << l.dump();
        right += ok;
    }
    EXPECT_GT(right, 0);
    EXPECT_LT(right, 24);
}

}  // namespace
}  // namespace grm::data
