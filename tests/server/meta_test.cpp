// Meta-guided voting in `grm serve --meta`: the committed default judge and meta RM give over HTTP
// exactly the judgment `grm score --meta` gives on the same seed (rewards, meta scores, votes); a
// server without a meta RM refuses k_meta, and --k-meta without --meta is refused at start-up.
#include "common/fixtures.h"
#include "serve_process.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sys/wait.h>

using grm::test::ServeProcess;
using json = nlohmann::json;

namespace {

std::string run(const std::string & cmd, int & code) {
    std::string out;
    FILE *      p = popen((cmd + " 2>/dev/null").c_str(), "r");
    std::array<char, 4096> buf;
    size_t                 n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int st = pclose(p);
    code   = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

const std::string k_model = std::string(GRM_SOURCE_DIR) + "/models/grm-gpu-spct.gguf";

}  // namespace

TEST(ServerMeta, SameJudgmentAsGrmScoreMeta) {
    ServeProcess s(k_model, { "--meta", "default", "-k", "4", "--seed", "5" });
    json sample = { { "id", "meta-parity" },
                    { "query", "What is 47 + 38?" },
                    { "responses", { "47 + 38 = 85.", "75", "47 + 38 = 84." } } };
    json req = sample;
    req["k_meta"] = 2;
    auto [status, j] = s.post("/v1/judge", req);
    ASSERT_EQ(status, 200) << j.dump();

    int         code = 0;
    std::string in   = grm::test::temp_dir() + "/meta-sample.json";
    FILE *      f    = fopen(in.c_str(), "w");
    fputs(sample.dump().c_str(), f);
    fclose(f);
    std::string out = run(grm::test::built_program("tools/grm/grm") + " score -m " + k_model +
                              " --meta default --threads 1 -k 4 --k-meta 2 --seed 5 --json -f " + in,
                          code);
    ASSERT_EQ(code, 0) << out;
    json cli = json::parse(out);

    EXPECT_EQ(j["rewards"], cli["rewards"]);
    EXPECT_EQ(j["n_voted"].get<int>(), 2);
    ASSERT_EQ(j["samples"].size(), 4u);
    int voted = 0;
    for (size_t i = 0; i < 4; i++) {
        ASSERT_TRUE(j["samples"][i]["meta_score"].is_number()) << j["samples"][i].dump();
        EXPECT_NEAR(j["samples"][i]["meta_score"].get<double>(), cli["samples"][i]["meta_score"].get<double>(), 1e-9);
        EXPECT_EQ(j["samples"][i]["voted"], cli["samples"][i]["voted"]);
        EXPECT_EQ(j["samples"][i]["scores"], cli["samples"][i]["scores"]);
        voted += j["samples"][i]["voted"].get<bool>();
    }
    EXPECT_EQ(voted, 2);
    EXPECT_EQ(j["options"]["k_meta"].get<int>(), 2);
}

TEST(ServerMeta, KMetaWithoutAMetaRmIsRefused) {
    ServeProcess s(grm::test::boxed_seven_model(), { "--max-tokens", "16" });
    auto [status, j] = s.post("/v1/judge", json{ { "query", "q" }, { "responses", { "a" } }, { "k_meta", 1 } });
    EXPECT_EQ(status, 400);
    EXPECT_EQ(j["error"]["code"], "invalid_field");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("--meta"), std::string::npos) << j.dump();
    int         code = 0;
    std::string out  = run(grm::test::built_program("tools/grm/grm") + " serve --port 0 --k-meta 2 -m " +
                               grm::test::boxed_seven_model(),
                           code);
    EXPECT_EQ(code, 2);
}
