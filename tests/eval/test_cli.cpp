// `grm eval` end to end through the real binary: a malformed input line is reported as FILE:LINE
// and nothing is written or loaded.
#include "common/fixtures.h"
#include "eval_test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

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

}  // namespace

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
