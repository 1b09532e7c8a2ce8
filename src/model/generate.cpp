// Batched KV-cache generation, sampling and continuation log-probabilities.
#include "model/generate.h"

#include <algorithm>
#include <limits>

namespace grm::model {

torch::Tensor sample_tokens(const torch::Tensor & logits, float temperature, float top_p, at::Generator & gen) {
    auto l = logits.detach().to(torch::kCPU, torch::kFloat32);  // [B, V]
    if (temperature <= 0.0f) return l.argmax(-1);
    auto probs = torch::softmax(l / double(temperature), -1);
    if (top_p < 1.0f) {
        auto sorted = probs.sort(-1, /*descending=*/true);
        auto p      = std::get<0>(sorted);  // [B, V] descending
        auto idx    = std::get<1>(sorted);
        // Drop a token when the mass before it already reaches top_p; the first always stays.
        auto before = p.cumsum(-1) - p;
        p           = p.masked_fill(before >= double(top_p), 0.0);
        probs       = torch::zeros_like(probs).scatter(-1, idx, p);
    }
    return torch::multinomial(probs, 1, /*replacement=*/false, gen).squeeze(-1);
}

Result<std::vector<Generation>> generate(TransformerImpl & model, const std::vector<std::vector<int32_t>> & prompts,
                                         const grm::SamplingParams & params, const std::vector<int32_t> & stop_ids) {
    if (params.top_k != 0 || !params.stop.empty())
        return make_error(Errc::invalid_argument, "generate: top_k and stop strings are not supported here (use stop ids)");
    const int64_t B = int64_t(prompts.size());
    if (B == 0) return std::vector<Generation>{};
    int64_t L = 0;
    for (const auto & p : prompts) {
        if (p.empty()) return make_error(Errc::invalid_argument, "generate: empty prompt");
        L = std::max<int64_t>(L, int64_t(p.size()));
    }
    const int64_t max_new = std::max(0, params.max_tokens);
    if (L + max_new > model.config().n_ctx)
        return make_error(Errc::context_overflow, "generate: prompt (" + std::to_string(L) + ") + max_tokens (" +
                                                      std::to_string(max_new) + ") exceeds n_ctx " +
                                                      std::to_string(model.config().n_ctx));
    torch::NoGradGuard no_grad;
    const auto         dev = model.device();

    // Left padding: row b's real tokens occupy columns [pad_b, L).
    std::vector<int64_t> tok(B * L, 0), pos(B * L, 0), pad(B);
    for (int64_t b = 0; b < B; ++b) {
        pad[b] = L - int64_t(prompts[b].size());
        for (int64_t j = pad[b]; j < L; ++j) {
            tok[b * L + j] = prompts[b][j - pad[b]];
            pos[b * L + j] = j - pad[b];
        }
    }
    auto opts_l  = torch::TensorOptions().dtype(torch::kLong);
    auto pad_t   = torch::from_blob(pad.data(), {B}, opts_l).clone().to(dev);                  // [B]
    auto tokens  = torch::from_blob(tok.data(), {B, L}, opts_l).clone().to(dev);              // [B, L]
    auto posns   = torch::from_blob(pos.data(), {B, L}, opts_l).clone().to(dev);              // [B, L]
    auto cols    = torch::arange(L, opts_l.device(dev));                                      // [L]
    auto key_ok  = cols.unsqueeze(0) >= pad_t.unsqueeze(1);                                   // [B, L]
    auto causal  = torch::ones({L, L}, torch::TensorOptions().dtype(torch::kBool).device(dev)).tril();
    auto eye     = torch::eye(L, torch::TensorOptions().dtype(torch::kBool).device(dev));
    // Padding queries see only themselves, so no softmax row is empty; their outputs are unused.
    auto allowed = causal.unsqueeze(0).logical_and(key_ok.unsqueeze(1)).logical_or(eye.unsqueeze(0));  // [B, L, L]
    const float ninf = -std::numeric_limits<float>::infinity();
    auto bias = torch::zeros({B, 1, L, L}, torch::TensorOptions().dtype(torch::kFloat32).device(dev))
                    .masked_fill(allowed.logical_not().unsqueeze(1), ninf);

    auto cache  = model.make_cache(B, L + max_new);
    auto logits = model.forward(tokens, posns, bias, &cache).select(1, L - 1);  // [B, V]

    auto                    gen = at::make_generator<at::CPUGeneratorImpl>(params.seed);
    std::vector<Generation> out(B);
    std::vector<bool>       done(B, false);
    int64_t                 n_done = 0;
    for (int64_t s = 0; s < max_new && n_done < B; ++s) {
        auto next = sample_tokens(logits, params.temperature, params.top_p, gen);  // [B] CPU
        auto acc  = next.accessor<int64_t, 1>();
        for (int64_t b = 0; b < B; ++b) {
            if (done[b]) continue;
            const auto t = int32_t(acc[b]);
            out[b].tokens.push_back(t);
            if (std::find(stop_ids.begin(), stop_ids.end(), t) != stop_ids.end()) {
                out[b].stopped = true;
                done[b]        = true;
                ++n_done;
            }
        }
        if (n_done == B || s + 1 == max_new) break;
        // Finished rows keep decoding their last token; that keeps shapes fixed and is discarded.
        const int64_t S       = cache.n + 1;
        auto          step_p  = (L + s) - pad_t;                                                         // [B]
        auto          keys    = torch::arange(S, opts_l.device(dev));                                    // [S]
        auto          ok      = keys.unsqueeze(0) >= pad_t.unsqueeze(1);                                 // [B, S]
        auto          sbias   = torch::zeros({B, 1, 1, S}, torch::TensorOptions().dtype(torch::kFloat32).device(dev))
                             .masked_fill(ok.logical_not().view({B, 1, 1, S}), ninf);
        logits = model.forward(next.to(dev).view({B, 1}), step_p.view({B, 1}), sbias, &cache).select(1, 0);
    }
    return out;
}

Result<ContinuationLogprobs> sequence_logprobs(TransformerImpl & model, const std::vector<std::vector<int32_t>> & prompts,
                                               const std::vector<std::vector<int32_t>> & continuations) {
    if (prompts.size() != continuations.size())
        return make_error(Errc::invalid_argument, "sequence_logprobs: prompts and continuations differ in count");
    const int64_t B = int64_t(prompts.size());
    int64_t       T = 1, C = 1;
    for (int64_t b = 0; b < B; ++b) {
        if (prompts[b].empty()) return make_error(Errc::invalid_argument, "sequence_logprobs: empty prompt");
        T = std::max<int64_t>(T, int64_t(prompts[b].size() + continuations[b].size()));
        C = std::max<int64_t>(C, int64_t(continuations[b].size()));
    }
    if (T > model.config().n_ctx)
        return make_error(Errc::context_overflow, "sequence_logprobs: a sequence exceeds n_ctx");

    // Right padding: row b is prompt ++ continuation, then zeros. Continuation token j sits at
    // column P_b + j and is predicted by the logits at column P_b + j - 1.
    std::vector<int64_t> tok(B * T, 0), src(B * C, 0), tgt(B * C, 0);
    std::vector<float>   msk(B * C, 0.0f);
    for (int64_t b = 0; b < B; ++b) {
        const int64_t P = int64_t(prompts[b].size());
        for (int64_t j = 0; j < P; ++j) tok[b * T + j] = prompts[b][j];
        for (int64_t j = 0; j < int64_t(continuations[b].size()); ++j) {
            tok[b * T + P + j] = continuations[b][j];
            src[b * C + j]     = P + j - 1;
            tgt[b * C + j]     = continuations[b][j];
            msk[b * C + j]     = 1.0f;
        }
    }
    const auto dev    = model.device();
    auto       opts_l = torch::TensorOptions().dtype(torch::kLong);
    auto       tokens = torch::from_blob(tok.data(), {B, T}, opts_l).clone().to(dev);
    auto       srcs   = torch::from_blob(src.data(), {B, C}, opts_l).clone().to(dev);
    auto       tgts   = torch::from_blob(tgt.data(), {B, C}, opts_l).clone().to(dev);
    auto       mask   = torch::from_blob(msk.data(), {B, C}, torch::kFloat32).clone().to(dev);

    auto h = model.hidden_packed(tokens, arange_positions(B, T, dev), torch::zeros_like(tokens));  // [B, T, d]
    // Only the C predicting positions go through the LM head and the softmax.
    auto hs = h.gather(1, srcs.unsqueeze(-1).expand({B, C, h.size(2)}));                // [B, C, d]
    auto lp = torch::log_softmax(model.lm_head(hs), -1);                                 // [B, C, V]
    auto picked = lp.gather(2, tgts.unsqueeze(-1)).squeeze(-1) * mask;                   // [B, C]
    return ContinuationLogprobs{picked, mask};
}

}  // namespace grm::model
