// LoRA as a user runs it: `grm train --lora-rank` from an imported checkpoint trains adapters only
// (the exported base is the imported file, tensor for tensor) and resumes; `grm export` writes the
// merged model, the adapter GGUF and the base; `grm score --lora` on the base judges as the merged
// model does; a wrong adapter is an error naming the problem.
#include "cli_run.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

namespace {

using grm::test::CliRun;
using grm::test::run_grm;
using grm::test::gguf_tensors;

TEST(CliLora, TrainExportAndScoreWithTheAdapter) {
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.n_ctx            = 2048;  // the judging prompt, one token per character
    const std::string src = grm::test::tiny_model(c), dir = grm::test::temp_dir();
    ASSERT_EQ(run_grm("import --gguf " + src + " -o " + dir + "/base").code, 0);
    {
        std::ofstream data(dir + "/d.jsonl");
        for (int i = 0; i < 16; ++i)
            data << R"({"prompt": "What is )" << i << R"( + 1?", "completion": " It is )" << i + 1 << R"(."})" << "\n";
    }
    const std::string train = "train --data " + dir + "/d.jsonl --vocab " + src + " -o " + dir + "/lora --batch 2 --seq 64 " +
                              "--lr 1e-2 --warmup 1 --save-every 2 --threads 1 --no-progress ";
    CliRun t = run_grm(train + "--config " + dir + "/base/config.json --init " + dir + "/base --steps 2 --lora-rank 4 --lora-alpha 8");
    ASSERT_EQ(t.code, 0) << t.out;
    EXPECT_NE(t.out.find("LoRA rank 4, alpha 8 on 7 projections"), std::string::npos) << t.out;
    CliRun again = run_grm(train + "--resume --steps 3 --lora-rank 8");
    EXPECT_EQ(again.code, 2) << again.out;
    EXPECT_NE(again.out.find("--lora-rank is the run's own"), std::string::npos) << again.out;
    CliRun resumed = run_grm(train + "--resume --steps 3");
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_NE(resumed.out.find("from step 2 to 3"), std::string::npos) << resumed.out;

    CliRun exp = run_grm("export --checkpoint " + dir + "/lora --vocab " + src + " -o " + dir + "/merged.gguf --lora-adapter " +
                         dir + "/adapter.gguf --lora-base " + dir + "/b.gguf");
    ASSERT_EQ(exp.code, 0) << exp.out;
    // Training moved only the adapters: the base is the imported model's tensors exactly, the merged one is not.
    const auto a = gguf_tensors(src), b = gguf_tensors(dir + "/b.gguf"), m = gguf_tensors(dir + "/merged.gguf");
    ASSERT_EQ(b.size(), a.size());
    bool merged_differs = false;
    for (const auto & [name, t] : a) {
        ASSERT_TRUE(b.count(name) && m.count(name)) << name;
        EXPECT_EQ(b.at(name).data, t.data) << name;
        merged_differs = merged_differs || m.at(name).data != t.data;
    }
    EXPECT_TRUE(merged_differs);
    CliRun plain_export = run_grm("export --checkpoint " + dir + "/base --lora-adapter " + dir + "/x.gguf");
    EXPECT_EQ(plain_export.code, 2) << plain_export.out;
    EXPECT_NE(plain_export.out.find("was not trained with LoRA"), std::string::npos) << plain_export.out;

    // Greedy judgments: base + adapter (llama.cpp's --lora) equal the merged model's.
    const std::string q = " --threads 1 -q 'What is 3 + 1?' -r 4 -r 5 -k 2 -t 0 --max-tokens 8 --json";
    CliRun with_adapter = run_grm("score -m " + dir + "/b.gguf --lora " + dir + "/adapter.gguf" + q);
    CliRun merged       = run_grm("score -m " + dir + "/merged.gguf" + q);
    ASSERT_EQ(with_adapter.code, 0) << with_adapter.out;
    ASSERT_EQ(merged.code, 0) << merged.out;
    EXPECT_EQ(with_adapter.out, merged.out);

    // A model file given as the adapter, an adapter on a URL engine.
    CliRun bad = run_grm("score -m " + dir + "/b.gguf --lora " + src + ":0.5" + q);
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_NE(bad.out.find("is not a LoRA adapter"), std::string::npos) << bad.out;
    CliRun url = run_grm("score -m http://127.0.0.1:1 --lora " + dir + "/adapter.gguf" + q);
    EXPECT_NE(url.code, 0);
    EXPECT_NE(url.out.find("--lora applies to a GGUF model"), std::string::npos) << url.out;
}

// `grm rl train` and `grm meta train` take the same flags; their checkpoints record the adapters, and
// the meta RM's export is a plain backbone (the adapters merged).
TEST(CliLora, GrpoAndMetaRmTrainAdapters) {
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.n_ctx            = 2048;
    const std::string src = grm::test::tiny_model(c), dir = grm::test::temp_dir();
    ASSERT_EQ(run_grm("import --gguf " + src + " -o " + dir + "/base").code, 0);
    {
        std::ofstream data(dir + "/rl.jsonl");
        data << R"({"id": "a", "query": "What is 2 + 2?", "responses": ["4", "5"], "ratings": [9, 2], "best": 0})" << "\n";
    }
    auto lora_of = [](const std::string & run) {
        std::ifstream in(run + "/latest");
        std::string   name;
        std::getline(in, name);
        std::ifstream meta(run + "/" + name + "/meta.json");
        return nlohmann::json::parse(meta).value("lora", nlohmann::json());
    };
    CliRun rl = run_grm("rl train --data " + dir + "/rl.jsonl --vocab " + src + " --init " + dir + "/base -o " + dir +
                        "/rl --group 2 --inputs-per-step 1 --steps 1 --max-new-tokens 4 --filter-tries 0 --lr 1e-3 "
                        "--threads 1 --no-progress --lora-rank 2 --lora-targets attn_q,attn_v");
    ASSERT_EQ(rl.code, 0) << rl.out;
    EXPECT_NE(rl.out.find("LoRA rank 2, alpha 16 on 2 projections"), std::string::npos) << rl.out;
    const auto rl_lora = lora_of(dir + "/rl");
    EXPECT_EQ(rl_lora.value("rank", 0), 2) << rl_lora;
    EXPECT_EQ(rl_lora.value("targets", std::vector<std::string>{}), (std::vector<std::string>{"attn_q", "attn_v"}));

    CliRun meta = run_grm("meta train --vocab " + src + " --init " + dir + "/base -o " + dir + "/meta --steps 2 --batch 2 "
                          "--count 4 --teacher-samples 2 --policy-samples 0 --no-balance --threads 1 --no-progress --lora-rank 4");
    ASSERT_EQ(meta.code, 0) << meta.out;
    EXPECT_EQ(lora_of(dir + "/meta").value("rank", 0), 4);
    const auto exported = gguf_tensors(dir + "/meta/meta.gguf");
    EXPECT_EQ(exported.size(), 2u + 9u * size_t(c.n_layer));  // a plain backbone: no adapter tensors
    CliRun bad = run_grm("meta train --vocab " + src + " --init " + dir + "/base -o " + dir + "/meta2 --lora-rank 4 "
                         "--lora-targets attn_x --policy-samples 0 --count 2");
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_NE(bad.out.find("unknown target 'attn_x'"), std::string::npos) << bad.out;
}

}  // namespace
