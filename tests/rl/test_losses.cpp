// GRPO loss (clipped ratio + k3 KL), BCE and Bradley-Terry losses and their input gradients
// against the independent PyTorch reference in torch_reference.py.
#include "rl/grpo_loss.h"
#include "rl/scalar_rm.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace grm::rl {
namespace {

// Stated tolerances: the C++ side runs in f32, the reference in f64.
constexpr double k_loss_tol = 1e-5;  // |loss diff|
constexpr double k_grad_tol = 1e-5;  // max |grad diff| per element

std::vector<std::vector<float>> rows(const torch::Tensor & t) {
    std::vector<std::vector<float>> out;
    auto c = t.contiguous();
    for (int64_t i = 0; i < c.size(0); ++i)
        out.emplace_back(c[i].data_ptr<float>(), c[i].data_ptr<float>() + c.size(1));
    return out;
}
std::vector<float> vec(const torch::Tensor & t) {
    auto c = t.contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

TEST(Losses, MatchPyTorchReference) {
    torch::manual_seed(3);
    const int64_t B = 4, C = 6;
    // Ratios spread over [0.6, 1.5] so both clip sides are active; advantages of both signs and a 0.
    auto logp = (torch::randn({B, C}) * 0.5 - 1.0).requires_grad_(true);
    auto old  = (logp.detach() + torch::rand({B, C}) * 0.9 - 0.4);
    auto ref  = logp.detach() + torch::randn({B, C}) * 0.3;
    auto mask = torch::ones({B, C});
    mask.index_put_({0, torch::indexing::Slice(4, C)}, 0.0);
    mask.index_put_({2, torch::indexing::Slice(1, C)}, 0.0);
    auto adv = torch::tensor({1.2f, -0.7f, 0.0f, 0.5f});
    GrpoLossParams p;
    p.clip_eps = 0.2;
    p.beta     = 0.08;
    // Masked-out positions carry 0, as sequence_logprobs delivers them.
    auto lp    = logp * mask;
    auto g     = grpo_loss(lp, old * mask, ref * mask, mask, adv, p);
    g.loss.backward();
    EXPECT_GT(g.clip_frac, 0.0);

    auto scores = torch::tensor({2.0f, -1.0f, 0.3f, -0.2f, 4.0f}).requires_grad_(true);
    auto labels = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 1.0f});
    auto bce    = bce_loss(scores, labels);
    bce.backward();
    auto rc = torch::tensor({1.0f, -0.5f, 2.0f}).requires_grad_(true);
    auto rr = torch::tensor({0.2f, 0.5f, -1.0f}).requires_grad_(true);
    auto bt = bt_loss(rc, rr);
    bt.backward();

    const std::string dir = (std::filesystem::temp_directory_path() / ("grm-rl-ref-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir);
    nlohmann::json in{{"logp", rows(logp.detach())}, {"old", rows(old)},   {"ref", rows(ref)},
                      {"mask", rows(mask)},           {"adv", vec(adv)},    {"clip_eps", p.clip_eps},
                      {"beta", p.beta},               {"scores", vec(scores.detach())}, {"labels", vec(labels)},
                      {"rc", vec(rc.detach())},       {"rr", vec(rr.detach())}};
    std::ofstream(dir + "/in.json") << in.dump();
    const std::string cmd = "/usr/bin/python3 " GRM_SOURCE_DIR "/tests/rl/torch_reference.py " + dir;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    nlohmann::json out;
    std::ifstream(dir + "/out.json") >> out;
    std::filesystem::remove_all(dir);

    EXPECT_NEAR(g.loss.item<double>(), out["grpo"].get<double>(), k_loss_tol);
    auto gg = rows(logp.grad());
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) EXPECT_NEAR(gg[b][c], out["grpo_grad"][b][c].get<double>(), k_grad_tol) << b << "," << c;
    EXPECT_NEAR(bce.item<double>(), out["bce"].get<double>(), k_loss_tol);
    auto sg = vec(scores.grad());
    for (size_t i = 0; i < sg.size(); ++i) EXPECT_NEAR(sg[i], out["bce_grad"][i].get<double>(), k_grad_tol);
    EXPECT_NEAR(bt.item<double>(), out["bt"].get<double>(), k_loss_tol);
    auto gc = vec(rc.grad()), gr = vec(rr.grad());
    for (size_t i = 0; i < gc.size(); ++i) {
        EXPECT_NEAR(gc[i], out["bt_grad_c"][i].get<double>(), k_grad_tol);
        EXPECT_NEAR(gr[i], out["bt_grad_r"][i].get<double>(), k_grad_tol);
    }
}

TEST(Losses, KlIsZeroAtTheReference) {
    auto lp   = torch::full({2, 3}, -1.5f);
    auto mask = torch::ones({2, 3});
    GrpoLossParams p;
    auto g = grpo_loss(lp, lp, lp, mask, torch::zeros({2}), p);
    EXPECT_EQ(g.kl, 0.0);
    EXPECT_EQ(g.loss.item<double>(), 0.0);
}

TEST(GroupAdvantages, HandTable) {
    // group of 4: [1, -1, -1, -1]: mean -0.5, population std sqrt(0.75).
    const double sd  = std::sqrt(0.75);
    auto         adv = group_advantages({1, -1, -1, -1, 1, 1, -1, -1}, 4);
    ASSERT_EQ(adv.size(), 8u);
    EXPECT_NEAR(adv[0], 1.5 / sd, 1e-12);
    EXPECT_NEAR(adv[1], -0.5 / sd, 1e-12);
    EXPECT_NEAR(adv[3], -0.5 / sd, 1e-12);
    for (int i = 4; i < 8; ++i) EXPECT_NEAR(adv[i], i < 6 ? 1.0 : -1.0, 1e-12);  // mean 0, std 1
}

TEST(GroupAdvantages, UniformGroupsGiveZero) {
    auto adv = group_advantages({1, 1, 1, 1, -1, -1, -1, -1, 1, -1, 1, -1}, 4);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(adv[i], 0.0) << i;
    EXPECT_NEAR(adv[8], 1.0, 1e-12);
    EXPECT_NEAR(adv[9], -1.0, 1e-12);
}

}  // namespace
}  // namespace grm::rl
