// Llama-family decoder (llama, qwen2) in libtorch: norms, rotary embeddings, attention with an optional KV cache.
#include "model/transformer.h"

#include "model/span_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace grm::model {

namespace {

torch::nn::Linear linear(int64_t in, int64_t out, bool bias = false) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

}  // namespace

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
    weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor & x) {
    return rms_norm(x, weight, eps_);
}

BlockImpl::BlockImpl(const LlamaConfig & c)
    : n_head_(c.n_head), n_head_kv_(c.n_head_kv), head_dim_(c.head_dim()), rope_neox_(c.rope_neox()) {
    const int64_t d = c.n_embd, kv = int64_t(c.n_head_kv) * c.head_dim();
    attn_norm   = register_module("attn_norm", RMSNorm(d, c.rms_eps));
    attn_q      = register_module("attn_q", linear(d, d, c.qkv_bias));
    attn_k      = register_module("attn_k", linear(d, kv, c.qkv_bias));
    attn_v      = register_module("attn_v", linear(d, kv, c.qkv_bias));
    attn_output = register_module("attn_output", linear(d, d));
    ffn_norm    = register_module("ffn_norm", RMSNorm(d, c.rms_eps));
    ffn_gate    = register_module("ffn_gate", linear(d, c.n_ff));
    ffn_up      = register_module("ffn_up", linear(d, c.n_ff));
    ffn_down    = register_module("ffn_down", linear(c.n_ff, d));
}

torch::nn::Linear & BlockImpl::projection(size_t i) {
    torch::nn::Linear * all[] = {&attn_q, &attn_k, &attn_v, &attn_output, &ffn_gate, &ffn_up, &ffn_down};
    return *all[i];
}

torch::Tensor BlockImpl::project(size_t i, const torch::Tensor & x) {
    auto y = projection(i)(x);
    if (!lora_a[i].defined() || !lora_enabled) return y;
    return y + torch::linear(torch::linear(x, lora_a[i]), lora_b[i]) * lora_scale;  // [.., r] -> [.., out]
}

torch::Tensor BlockImpl::forward(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin,
                                 const torch::Tensor & attn_bias, torch::Tensor * cache_k, torch::Tensor * cache_v,
                                 int64_t cache_n) {
    const int64_t T = x.size(1);
    auto [q, k, v]  = qkv(x, cos, sin);
    if (cache_k != nullptr) {
        cache_k->narrow(2, cache_n, T).copy_(k);
        cache_v->narrow(2, cache_n, T).copy_(v);
        k = cache_k->narrow(2, 0, cache_n + T);  // [B, Hkv, S, hd]
        v = cache_v->narrow(2, 0, cache_n + T);
    }
    return finish(x, attend(q, k, v, attn_bias));
}

torch::Tensor BlockImpl::forward(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin,
                                 const torch::Tensor & spans) {
    auto [q, k, v] = qkv(x, cos, sin);
    if (span_attention_supported(q)) {
        // q/k/v come back to their [B, T, heads, hd] layout (a view: no copy).
        auto y = span_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), spans,
                                1.0 / std::sqrt(double(head_dim_)));
        return finish(x, y.transpose(1, 2));
    }
    std::vector<std::vector<torch::Tensor>> rows(x.size(0));  // per row, its spans' outputs in order
    const auto                              s = spans.accessor<int64_t, 2>();
    for (int64_t i = 0; i < spans.size(0); ++i) {
        const int64_t row = s[i][0], start = s[i][1], len = s[i][2];
        auto part = [&](const torch::Tensor & t) { return t.narrow(0, row, 1).narrow(2, start, len); };
        rows[size_t(row)].push_back(attend(part(q), part(k), part(v), causal_bias(1, len, x.device())));  // [1, H, len, hd]
    }
    std::vector<torch::Tensor> ys;
    for (auto & r : rows) ys.push_back(torch::cat(r, 2));
    return finish(x, torch::cat(ys, 0));
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> BlockImpl::qkv(const torch::Tensor & x, const torch::Tensor & cos,
                                                                       const torch::Tensor & sin) {
    const int64_t B = x.size(0), T = x.size(1);
    auto h = attn_norm(x);                                                                      // [B, T, d]
    auto q = apply_rope(project(0, h).view({B, T, n_head_, head_dim_}), cos, sin, rope_neox_).transpose(1, 2);  // [B, H, T, hd]
    auto k = apply_rope(project(1, h).view({B, T, n_head_kv_, head_dim_}), cos, sin, rope_neox_)
                 .transpose(1, 2);  // [B, Hkv, T, hd]
    auto v = project(2, h).view({B, T, n_head_kv_, head_dim_}).transpose(1, 2);
    return {q, k, v};
}

torch::Tensor BlockImpl::attend(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
                                const torch::Tensor & bias) const {
    const int64_t B = q.size(0), T = q.size(2), S = k.size(2);
    const int64_t g = n_head_ / n_head_kv_;  // query heads per kv head
    const double  scale = 1.0 / std::sqrt(double(head_dim_));
    // Grouped-query attention without copying keys: query head h = kv * g + j uses kv head kv (the
    // grouping of llama.cpp's broadcast and HF's repeat_kv), so the g query heads of one kv head
    // are stacked along the row axis: [B, Hkv, g*T, hd] x [B, Hkv, hd, S].
    auto qg  = (q * scale).reshape({B, n_head_kv_, g * T, head_dim_});
    auto att = torch::matmul(qg, k.transpose(-2, -1)).view({B, n_head_kv_, g, T, S});
    att      = torch::softmax(att + bias.unsqueeze(1), -1);                      // bias [B, 1, 1, T, S]
    auto y   = torch::matmul(att.view({B, n_head_kv_, g * T, S}), v);            // [B, Hkv, g*T, hd]
    return y.view({B, n_head_, T, head_dim_});
}

torch::Tensor BlockImpl::finish(const torch::Tensor & x, const torch::Tensor & y) {
    const int64_t B = x.size(0), T = x.size(1);
    auto out = x + project(3, y.transpose(1, 2).reshape({B, T, n_head_ * head_dim_}));
    auto h   = ffn_norm(out);
    return out + project(6, torch::silu(project(4, h)) * project(5, h));  // SwiGLU
}

TransformerImpl::TransformerImpl(const LlamaConfig & c, bool with_lm_head) : config_(c), with_lm_head_(with_lm_head) {
    token_embd = register_module("token_embd", torch::nn::Embedding(c.n_vocab, c.n_embd));
    blk        = register_module("blk", torch::nn::ModuleList());
    for (int i = 0; i < c.n_layer; ++i) blk->push_back(Block(c));
    output_norm = register_module("output_norm", RMSNorm(c.n_embd, c.rms_eps));
    if (with_lm_head && !c.tied_embeddings) output = register_module("output", linear(c.n_embd, c.n_vocab));

    // Angles in double, then cos/sin rounded once to f32: the most accurate table, which keeps
    // llama.cpp parity independent of how either side accumulates theta.
    const int64_t half = c.head_dim() / 2;
    auto inv_freq = torch::pow(double(c.rope_theta),
                               -torch::arange(0, half, torch::kFloat64) * 2.0 / double(c.head_dim()));  // [hd/2]
    if (!c.rope_freq_factors.empty())  // Llama 3.1 scaling: slower turns for the low-frequency pairs
        inv_freq = inv_freq / torch::tensor(c.rope_freq_factors, torch::kFloat32).to(torch::kFloat64);
    auto pos      = torch::arange(0, c.n_ctx, torch::kFloat64);                                         // [n_ctx]
    auto angles   = torch::outer(pos, inv_freq);                                                         // [n_ctx, hd/2]
    rope_cos_     = register_buffer("rope_cos", torch::cos(angles).to(torch::kFloat32));
    rope_sin_     = register_buffer("rope_sin", torch::sin(angles).to(torch::kFloat32));
    init_weights(0);
}

void TransformerImpl::init_weights(uint64_t seed) {
    torch::NoGradGuard no_grad;
    auto       gen      = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto resid_sd = 0.02 / std::sqrt(2.0 * config_.n_layer);
    // named_parameters() is ordered by registration, so the draw order is fixed.
    for (auto & p : named_parameters()) {
        const auto & name = p.key();
        auto &       t    = p.value();
        if (name.find(".lora_") != std::string::npos) continue;  // add_lora's own initialisation
        if (t.dim() == 1 && name.find("norm") != std::string::npos) {
            t.fill_(1.0);
            continue;
        }
        if (t.dim() == 1) {  // biases (q/k/v, the scalar head's)
            t.zero_();
            continue;
        }
        const bool resid = name.find("attn_output") != std::string::npos || name.find("ffn_down") != std::string::npos;
        auto       w     = torch::empty(t.sizes(), torch::kFloat32).normal_(0.0, resid ? resid_sd : 0.02, gen);
        t.copy_(w);
    }
}

void TransformerImpl::add_lora(const LoraParams & p, uint64_t seed) {
    TORCH_CHECK(!lora_.on(), "add_lora: the model has adapters already");
    if (!p.on()) return;
    torch::NoGradGuard no_grad;
    for (auto & param : named_parameters())
        if (param.key().rfind("score.", 0) != 0) param.value().set_requires_grad(false);
    auto         gen   = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto & names = lora_projection_names();
    const auto   dev   = device();
    for (size_t l = 0; l < blk->size(); ++l) {
        auto * b = blk->ptr(l)->as<BlockImpl>();
        for (size_t i = 0; i < names.size(); ++i) {  // fixed order: the draws depend on the seed only
            if (std::find(p.targets.begin(), p.targets.end(), names[i]) == p.targets.end()) continue;
            auto &        lin   = b->projection(i);
            const int64_t in    = lin->weight.size(1), out = lin->weight.size(0);
            const double  bound = 1.0 / std::sqrt(double(in));
            auto a = torch::empty({p.rank, in}, torch::kFloat32).uniform_(-bound, bound, gen).to(dev);  // [r, in]
            b->lora_a[i] = lin->register_parameter("lora_a", a);
            b->lora_b[i] = lin->register_parameter("lora_b", torch::zeros({out, int64_t(p.rank)}, a.options()));  // [out, r]
        }
        b->lora_scale = p.scale();
    }
    lora_ = p;
}

void TransformerImpl::set_lora_enabled(bool on) {
    for (size_t l = 0; l < blk->size(); ++l) blk->ptr(l)->as<BlockImpl>()->lora_enabled = on;
}

std::pair<torch::Tensor, torch::Tensor> TransformerImpl::rope(const torch::Tensor & positions) const {
    const int64_t B = positions.size(0), T = positions.size(1), half = config_.head_dim() / 2;
    auto          flat = positions.reshape({-1});
    return {rope_cos_.index_select(0, flat).view({B, T, 1, half}), rope_sin_.index_select(0, flat).view({B, T, 1, half})};
}

torch::Tensor TransformerImpl::hidden(const torch::Tensor & tokens, const torch::Tensor & positions,
                                      const torch::Tensor & attn_bias, KVCache * cache) {
    auto [cos, sin] = rope(positions);
    auto x          = token_embd(tokens);  // [B, T, d]
    for (size_t i = 0; i < blk->size(); ++i) {
        auto * layer = blk->ptr(i)->as<BlockImpl>();
        if (cache != nullptr)
            x = layer->forward(x, cos, sin, attn_bias, &cache->k[i], &cache->v[i], cache->n);
        else
            x = layer->forward(x, cos, sin, attn_bias, nullptr, nullptr, 0);
    }
    if (cache != nullptr) cache->n += tokens.size(1);
    return output_norm(x);
}

torch::Tensor TransformerImpl::hidden_packed(const torch::Tensor & tokens, const torch::Tensor & positions,
                                             const torch::Tensor & doc) {
    auto [cos, sin]  = rope(positions);
    const auto spans = doc_spans(doc);
    auto       x     = token_embd(tokens);  // [B, T, d]
    for (size_t i = 0; i < blk->size(); ++i) x = blk->ptr(i)->as<BlockImpl>()->forward(x, cos, sin, spans);
    return output_norm(x);
}

torch::Tensor TransformerImpl::forward_packed(const torch::Tensor & tokens, const torch::Tensor & positions,
                                              const torch::Tensor & doc) {
    return lm_head(hidden_packed(tokens, positions, doc));
}

torch::Tensor TransformerImpl::lm_head(const torch::Tensor & h) {
    TORCH_CHECK(with_lm_head_, "this model has no LM head");
    return output ? output(h) : torch::linear(h, token_embd->weight);  // tied: logits = h E^T
}

torch::Tensor TransformerImpl::forward(const torch::Tensor & tokens, const torch::Tensor & positions,
                                       const torch::Tensor & attn_bias, KVCache * cache) {
    return lm_head(hidden(tokens, positions, attn_bias, cache));
}

torch::Tensor TransformerImpl::forward(const torch::Tensor & tokens) {
    const int64_t B = tokens.size(0), T = tokens.size(1);
    return forward(tokens, arange_positions(B, T, tokens.device()), causal_bias(B, T, tokens.device()));
}

KVCache TransformerImpl::make_cache(int64_t batch, int64_t capacity) const {
    KVCache cache;
    auto    opts = token_embd->weight.options().requires_grad(false);
    for (int i = 0; i < config_.n_layer; ++i) {
        cache.k.push_back(torch::zeros({batch, config_.n_head_kv, capacity, config_.head_dim()}, opts));
        cache.v.push_back(torch::zeros({batch, config_.n_head_kv, capacity, config_.head_dim()}, opts));
    }
    return cache;
}

ScalarHeadModelImpl::ScalarHeadModelImpl(const LlamaConfig & c) : TransformerImpl(c, /*with_lm_head=*/false) {
    score = register_module("score", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, 1).bias(true)));
    init_weights(0);
}

torch::Tensor ScalarHeadModelImpl::score_tokens(const torch::Tensor & tokens, const torch::Tensor & lengths) {
    const int64_t B = tokens.size(0), T = tokens.size(1), d = config_.n_embd;
    auto h    = hidden_packed(tokens, arange_positions(B, T, tokens.device()), torch::zeros_like(tokens));  // [B, T, d]
    auto idx  = (lengths.to(tokens.device(), torch::kLong) - 1).view({B, 1, 1}).expand({B, 1, d});
    auto last = h.gather(1, idx).squeeze(1);  // [B, d]: causal, so right padding never reaches it
    return score(last).squeeze(-1);           // [B]
}

torch::Tensor causal_bias(int64_t batch, int64_t t, torch::Device device) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    auto bias = torch::full({t, t}, -std::numeric_limits<float>::infinity(), opts).triu(1);  // [T, T]
    return bias.view({1, 1, t, t}).expand({batch, 1, t, t});
}

torch::Tensor packed_causal_bias(const torch::Tensor & doc) {
    const int64_t T       = doc.size(1);
    auto          same    = doc.unsqueeze(2) == doc.unsqueeze(1);                                      // [B, T, T]
    auto          causal  = torch::ones({T, T}, doc.options().dtype(torch::kBool)).tril();              // [T, T]
    auto          allowed = same.logical_and(causal);
    auto          bias    = torch::zeros(allowed.sizes(), doc.options().dtype(torch::kFloat32))
                       .masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
    return bias.unsqueeze(1);  // [B, 1, T, T]
}

torch::Tensor doc_spans(const torch::Tensor & doc) {
    auto                 d = doc.to(torch::kCPU, torch::kLong).contiguous();
    auto                 a = d.accessor<int64_t, 2>();
    std::vector<int64_t> spans;
    for (int64_t r = 0; r < d.size(0); ++r) {
        for (int64_t i = 0, j; i < d.size(1); i = j) {
            for (j = i + 1; j < d.size(1) && a[r][j] == a[r][i]; ++j) {}
            spans.insert(spans.end(), {r, i, j - i});
        }
    }
    return torch::tensor(spans, torch::kLong).view({-1, 3});
}

torch::Tensor arange_positions(int64_t batch, int64_t t, torch::Device device) {
    return torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(device)).unsqueeze(0).expand({batch, t});
}

int64_t copy_matching_parameters(torch::nn::Module & dst, const torch::nn::Module & src) {
    torch::NoGradGuard no_grad;
    auto    dst_params = dst.named_parameters();
    int64_t copied     = 0;
    for (const auto & p : src.named_parameters()) {
        auto * t = dst_params.find(p.key());
        if (t == nullptr || !t->sizes().equals(p.value().sizes())) continue;
        t->copy_(p.value());
        ++copied;
    }
    return copied;
}

}  // namespace grm::model
