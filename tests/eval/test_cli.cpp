// `grm eval` end to end through the real binary: a malformed input line is reported as FILE:LINE
// and nothing is written or loaded; a run killed part-way and resumed equals a straight run sample
// by sample.
#include "common/fixtures.h"
#include "eval_test_util.h"
#include "gguf/gguf_llama.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

int run(const std::string & cmd, std::string & output) {
    FILE * f = popen((cmd + " 2>&1").c_str(), "r");
    if (!f) return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) output.append(buf, n);
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

long count_lines(const std::string & path) {
    std::ifstream in(path);
    return (long) std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
}

// id -> the text of each sample, in sample order
std::map<std::string, std::vector<std::string>> sample_texts(const std::string & results) {
    std::map<std::string, std::vector<std::string>> out;
    std::ifstream                                   in(results);
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        for (const auto & t : j["samples"]) out[j["id"]].push_back(t["text"]);
    }
    return out;
}

}  // namespace

// Same seed and input, same judgment, whatever ran before in the process: a run killed after a
// few batches and resumed (a new process, an empty prefix cache) must equal a straight run. With
// the cross-input prefix cache on (`--prefix-cache`, the default before), a cached prefix's KV
// differs from a recomputed one in the last bits and sampled texts part after a few tokens.
TEST(Cli, KilledAndResumedEvalEqualsStraightRun) {
    const std::string grm = grm::test::built_program("tools/grm/grm");
    grm::test::TempDir dir;
    // A random model on which a last-bit difference shows: f16 weights (activations are rounded to
    // f16 before each product) scaled x8, so 4 layers amplify a difference into another sampled
    // token within a few steps. With --prefix-cache about one sample in five differs here; the
    // default tiny model (std 0.02, f32) never shows it in a test-sized run.
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.n_ctx            = 2048;  // the judge prompt
    c.n_embd           = 128;
    c.n_layer          = 4;
    c.n_ff             = 256;
    grm::GgufLlamaModel m = grm::random_llama_model(c, 42);
    for (auto & t : m.tensors)
        if (t.name.find("norm") == std::string::npos)
            for (float & x : t.data) x *= 8.0f;
    const std::string model = dir.file("sensitive.gguf");
    ASSERT_TRUE(grm::write_gguf_llama(model, m, grm::GgufType::f16).ok());
    const int          n    = 24;
    std::string        data = dir.file("in.jsonl");
    {
        std::ofstream f(data);
        for (int i = 0; i < n; i++) {
            f << nlohmann::json{ { "id", "i" + std::to_string(i) },
                                 { "query", "What is " + std::to_string(i) + " + 7?" },
                                 { "responses", { std::to_string(i + 7), std::to_string(i + 8) } },
                                 { "best", 0 } }
                     .dump()
              << "\n";
        }
    }
    const std::string args = " eval --data " + data + " -k 4 --temperature 1.0 --max-tokens 32 --batch 4 --seed 3 --threads 1 -m " + model;
    std::string log;
    ASSERT_EQ(run(grm + args + " --out " + dir.file("straight"), log), 0) << log;

    // Kill -9 after two batches are on disk.
    const std::string out     = dir.file("resumed");
    const std::string results = out + "/results.jsonl";
    pid_t             pid     = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::string cmd = "exec " + grm + args + " --out " + out + " > " + dir.file("killed.log") + " 2>&1";
        execl("/bin/sh", "sh", "-c", cmd.c_str(), (char *) nullptr);
        _exit(127);
    }
    long at_kill = 0;
    for (int waited_ms = 0; waited_ms < 120000; waited_ms++) {
        if ((at_kill = count_lines(results)) >= 8) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    at_kill = count_lines(results);
    ASSERT_TRUE(WIFSIGNALED(st)) << "the run ended before it was killed (" << at_kill << " lines)";
    ASSERT_GE(at_kill, 8);
    ASSERT_LT(at_kill, n);

    log.clear();
    ASSERT_EQ(run(grm + args + " --out " + out, log), 0) << log;
    EXPECT_NE(log.find(std::to_string(at_kill) + " inputs already done"), std::string::npos) << log;

    auto a = sample_texts(dir.file("straight") + "/results.jsonl");
    auto b = sample_texts(results);
    ASSERT_EQ(a.size(), (size_t) n);
    ASSERT_EQ(b.size(), (size_t) n);
    int differ = 0;
    for (const auto & [id, texts] : a) {
        ASSERT_EQ(b[id].size(), 4u) << id;
        for (size_t i = 0; i < texts.size(); i++) {
            if (texts[i] != b[id][i]) differ++;
            EXPECT_EQ(texts[i], b[id][i]) << id << " sample " << i;
        }
    }
    EXPECT_EQ(differ, 0) << "of " << 4 * n << " samples (killed after " << at_kill << " inputs)";
}

TEST(Cli, MalformedLineStopsBeforeWork) {
    std::string grm = grm::test::built_program("tools/grm/grm");
    grm::test::TempDir dir;
    std::string        data = dir.file("in.jsonl");
    {
        std::ofstream f(data);
        f << R"({"id":"a","conversation":[{"role":"user","content":"q"}],"responses":["x","y"],"best":0})" << "\n";
        f << R"({"id":"b", "conversation": [})" << "\n";
    }
    std::string out = dir.file("out");
    std::string log;
    // The model path does not exist: the input check must fail first.
    int rc = run(grm + " eval --data " + data + " --out " + out + " -m " + dir.file("missing.gguf"), log);
    EXPECT_EQ(rc, 2) << log;
    EXPECT_NE(log.find(data + ":2:"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(out + "/results.jsonl"));
}
