// Scalar RM losses, trainer and export.
#include "rl/scalar_rm.h"

#include "model/lora.h"

#include <cassert>

#include "core/seed.h"
#include "model/config.h"
#include "model/vocab_file.h"
#include "scaling/rm_text.h"

#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace grm::rl {

std::vector<scaling::SourceBalance> balance_labels_by_source(std::vector<MetaExample> & data, uint64_t seed) {
    std::vector<std::string> sources;
    std::vector<bool>        correct;
    for (const MetaExample & e : data) {
        sources.push_back(e.source);
        correct.push_back(e.label > 0.5f);
    }
    std::vector<bool> keep;
    auto              report = scaling::balance_by_source(sources, correct, seed, keep);
    size_t            w      = 0;
    for (size_t i = 0; i < data.size(); ++i)
        if (keep[i]) data[w++] = std::move(data[i]);
    data.resize(w);
    return report;
}

torch::Tensor bce_loss(const torch::Tensor & scores, const torch::Tensor & labels) {
    return torch::binary_cross_entropy_with_logits(scores, labels.to(scores.dtype()));
}

torch::Tensor bt_loss(const torch::Tensor & r_chosen, const torch::Tensor & r_rejected) {
    return -torch::log_sigmoid(r_chosen - r_rejected).mean();
}

const char * scalar_rm_kind_name(ScalarRmKind k) { return k == ScalarRmKind::meta ? "meta" : "bt"; }

std::vector<PairExample> bt_pairs(const std::vector<Sample> & samples, const LlamaModel & tok, int n_ctx) {
    std::vector<PairExample> out;
    for (const auto & s : samples) {
        if (!s.best || s.n() < 2) continue;
        auto chosen = scaling::fit_context(tok.tokenize(scaling::bt_rm_text(s, *s.best), true, false), n_ctx);
        for (int i = 0; i < s.n(); ++i) {
            if (i == *s.best) continue;
            out.push_back({chosen, scaling::fit_context(tok.tokenize(scaling::bt_rm_text(s, i), true, false), n_ctx)});
        }
    }
    return out;
}

torch::Tensor score_rows(model::ScalarHeadModelImpl & m, const std::vector<std::vector<int32_t>> & rows) {
    const int64_t B = int64_t(rows.size());
    int64_t       T = 1;
    std::vector<std::vector<int32_t>> fit;
    for (const auto & r : rows) {
        fit.push_back(scaling::fit_context(r, m.config().n_ctx));
        T = std::max<int64_t>(T, int64_t(fit.back().size()));
    }
    std::vector<int64_t> tok(size_t(B * T), 0), len(size_t(B), 1);
    for (int64_t b = 0; b < B; ++b) {
        for (size_t j = 0; j < fit[b].size(); ++j) tok[size_t(b * T) + j] = fit[b][j];
        len[size_t(b)] = std::max<int64_t>(1, int64_t(fit[b].size()));
    }
    auto dev = m.device();
    auto t   = torch::from_blob(tok.data(), {B, T}, torch::kLong).clone().to(dev);  // [B, T]
    auto l   = torch::from_blob(len.data(), {B}, torch::kLong).clone().to(dev);     // [B]
    return m.score_tokens(t, l);                                                     // [B]
}

namespace {

// Checkpoints store the data fingerprint: these values must not change.
uint64_t fnv(uint64_t h, const std::vector<int32_t> & v) {
    for (int32_t x : v) h = fnv1a_word(h, uint32_t(x));
    return fnv1a_word(h, 0xFFu);
}

}  // namespace

ScalarRmTrainer::ScalarRmTrainer(model::ScalarHeadModel m, std::vector<MetaExample> data, model::TrainOptions o)
    : model_(std::move(m)), kind_(ScalarRmKind::meta), meta_(std::move(data)), opts_(o),
      opt_(model::make_adamw(*model_, opts_)) {
    fingerprint_ = kFnvOffset;
    for (const auto & e : meta_) fingerprint_ = fnv(fingerprint_, e.tokens) ^ uint64_t(e.label > 0.5f);
}

ScalarRmTrainer::ScalarRmTrainer(model::ScalarHeadModel m, std::vector<PairExample> data, model::TrainOptions o)
    : model_(std::move(m)), kind_(ScalarRmKind::bt), pairs_(std::move(data)), opts_(o),
      opt_(model::make_adamw(*model_, opts_)) {
    fingerprint_ = kFnvOffset;
    for (const auto & e : pairs_) fingerprint_ = fnv(fnv(fingerprint_, e.chosen), e.rejected);
}

std::vector<size_t> ScalarRmTrainer::next_batch() {
    const size_t        n = kind_ == ScalarRmKind::meta ? meta_.size() : pairs_.size();
    std::vector<size_t> out;
    std::vector<size_t> perm;
    int64_t             perm_epoch = -1;
    for (int64_t k = 0; k < opts_.batch; ++k) {
        const int64_t idx   = step_ * opts_.batch + k;
        const int64_t epoch = idx / int64_t(n);
        if (epoch != perm_epoch) {
            perm.resize(n);
            for (size_t i = 0; i < n; ++i) perm[i] = i;
            std::mt19937_64 rng(stream_seed(opts_.seed, Stream::train_order, 0, uint64_t(epoch)));
            for (size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[size_t(rng() % (i + 1))]);
            perm_epoch = epoch;
        }
        out.push_back(perm[size_t(idx % int64_t(n))]);
    }
    return out;
}

Status ScalarRmTrainer::set_dist(std::shared_ptr<model::Dist> dist) {
    dist_ = std::move(dist);
    return model::dist_broadcast_params(dist_.get(), *model_);
}

ScalarRmStepStats ScalarRmTrainer::step() {
    auto st = try_step();
    assert(st && "ScalarRmTrainer::step fails only in a distributed run: use try_step");
    return *st;
}

Result<ScalarRmStepStats> ScalarRmTrainer::try_step() {
    const auto        t0 = std::chrono::steady_clock::now();
    ScalarRmStepStats st;
    model_->train();
    auto idx = next_batch();
    opt_->zero_grad();
    // Distributed: this rank's share of the batch, its mean weighted by the share's size, so the
    // summed gradients are those of the whole batch's mean.
    const double whole = double(idx.size());
    if (dist_) {
        const auto [first, last] = model::dist_share(int64_t(idx.size()), dist_->rank(), dist_->world());
        idx = std::vector<size_t>(idx.begin() + first, idx.begin() + last);
    }
    const double  share = double(idx.size()) / whole;
    torch::Tensor loss;
    if (idx.empty()) {
        loss = torch::zeros({});
    } else if (kind_ == ScalarRmKind::meta) {
        std::vector<std::vector<int32_t>> rows;
        std::vector<float>                labels;
        for (size_t i : idx) {
            rows.push_back(meta_[i].tokens);
            labels.push_back(meta_[i].label);
        }
        auto s = score_rows(*model_, rows);                        // [B]
        auto y = torch::tensor(labels).to(s.device());             // [B]
        loss   = bce_loss(s, y);
        st.accuracy = ((s > 0).to(torch::kFloat32) == y).to(torch::kFloat32).mean().item<double>() * share;
    } else {
        std::vector<std::vector<int32_t>> rows;
        for (size_t i : idx) rows.push_back(pairs_[i].chosen);
        for (size_t i : idx) rows.push_back(pairs_[i].rejected);
        auto s       = score_rows(*model_, rows);                  // [2B]: chosen then rejected
        auto B       = int64_t(idx.size());
        auto rc      = s.slice(0, 0, B), rr = s.slice(0, B, 2 * B);
        loss         = bt_loss(rc, rr);
        st.accuracy  = (rc > rr).to(torch::kFloat32).mean().item<double>() * share;
    }
    if (dist_) {
        if (!idx.empty()) (loss * share).backward();
        std::vector<double> sums{ loss.item<double>() * share, st.accuracy };
        if (auto r = dist_->all_reduce_grads(*model_); !r) return r.error();
        if (auto r = dist_->all_reduce_sum(sums); !r) return r.error();
        st.loss     = sums[0];
        st.accuracy = sums[1];
    } else {
        loss.backward();
        st.loss = loss.item<double>();
    }
    st.grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), opts_.clip > 0.0 ? opts_.clip : 1e30);
    st.lr        = model::lr_at(opts_, step_);
    model::set_lr(*opt_, st.lr);
    opt_->step();
    ++step_;
    st.step    = step_;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
}

Status ScalarRmTrainer::save(const std::string & dir) {
    model::CheckpointMeta meta;
    meta.kind             = "scalar";
    meta.config           = model_->config();
    meta.lora             = model_->lora();
    meta.step             = step_;
    meta.data_fingerprint = fingerprint_;
    meta.train_options    = model::train_options_to_json(opts_);
    meta.train_options["rm"] = scalar_rm_kind_name(kind_);
    return model::save_checkpoint(dir, *model_, opt_.get(), meta);
}

Status ScalarRmTrainer::restore(const std::string & dir) {
    auto meta = model::read_checkpoint_meta(dir);
    if (!meta) return meta.error();
    if (meta->kind != "scalar" || meta->train_options.value("rm", std::string()) != scalar_rm_kind_name(kind_))
        return make_error(Errc::invalid_argument, dir + " is not a " + scalar_rm_kind_name(kind_) + " RM checkpoint");
    if (meta->data_fingerprint != fingerprint_)
        return make_error(Errc::invalid_argument, dir + " was trained on other data (fingerprint differs)");
    if (model::config_to_json(meta->config) != model::config_to_json(model_->config()))
        return make_error(Errc::invalid_argument, dir + ": model config differs from the checkpoint's");
    if (model::lora_to_json(meta->lora) != model::lora_to_json(model_->lora()))
        return make_error(Errc::invalid_argument, dir + ": LoRA settings differ from the checkpoint's");
    if (auto st = model::load_checkpoint_state(dir, *model_, *opt_); !st) return st;
    step_ = meta->step;
    return ok_status();
}

Result<ScalarRmStepStats> run_scalar_rm(ScalarRmTrainer & t, const model::RunOptions & run) {
    ScalarRmStepStats last;
    auto              st = model::run_loop(
        run, t.steps_done(), t.options().steps,
        [&]() -> Result<model::LoopStep> {
            auto s = t.try_step();
            if (!s) return s.error();
            last = *s;
            nlohmann::json j{{"step", last.step}, {"loss", last.loss}, {"accuracy", last.accuracy},
                             {"lr", last.lr},     {"grad_norm", last.grad_norm}, {"seconds", last.seconds}};
            return model::LoopStep{j, last.step, last.loss, 0.0};
        },
        [&](const std::string & dir) { return t.save(dir); });
    if (!st) return st.error();
    return last;
}

Status export_scalar_rm(model::ScalarHeadModelImpl & m, const Vocab & vocab, const std::string & path,
                        ScalarRmKind kind, GgufType type) {
    const auto & c = m.config();
    if (int(vocab.pieces.size()) != c.n_vocab)
        return make_error(Errc::invalid_argument, "vocab size differs from the model's n_vocab");
    GgufLlamaModel g;
    g.name                   = std::string("grm-") + scalar_rm_kind_name(kind) + "-rm";
    g.config                 = c;
    g.config.tied_embeddings = true;  // no output.weight: llama.cpp falls back to token_embd
    g.vocab                  = vocab;
    g.chat_template          = k_chatml_template;
    scaling::ScalarHead head;
    head.kind = scalar_rm_kind_name(kind);
    torch::NoGradGuard ng;
    for (const auto & [name, value] : model::base_parameters(m, /*merged=*/true)) {  // LoRA adapters merged
        auto t = value.to(torch::kCPU, torch::kFloat32).contiguous();
        if (name == "score.weight") {
            head.weight.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());  // [1, d] -> [d]
            continue;
        }
        if (name == "score.bias") {
            head.bias = t.item<float>();
            continue;
        }
        if (name == "output.weight") continue;
        NamedTensor nt;
        nt.name  = name;
        nt.shape = t.sizes().vec();
        nt.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        g.tensors.push_back(std::move(nt));
    }
    if (auto st = write_gguf_llama(path, g, type); !st) return st;
    return scaling::save_head(scaling::head_path(path), head);
}

namespace {

template <class Example>
Result<ScalarRmStepStats> train_and_export(const LlamaConfig & cfg, std::vector<Example> data, const model::TrainOptions & opts,
                                           const ScalarRmJob & job) {
    auto lm = model::load_merged_lm(job.init_dir);
    if (!lm) return lm.error();
    torch::manual_seed(int64_t(opts.seed));
    model::ScalarHeadModel net(cfg);
    model::copy_matching_parameters(*net, **lm);
    // LoRA: adapters on the backbone, trained with the head (which stays trainable).
    if (job.lora.on()) net->add_lora(job.lora, stream_seed(opts.seed, Stream::lora_init));
    ScalarRmTrainer trainer(net, std::move(data), opts);
    if (!job.resume_dir.empty()) {
        if (auto st = trainer.restore(job.resume_dir); !st) return st.error();
    }
    if (auto st = trainer.set_dist(job.run.dist); !st) return st.error();
    auto last = run_scalar_rm(trainer, job.run);
    if (!last) return last.error();
    if (job.run.dist && !job.run.dist->main()) return last;
    auto vocab = model::load_vocab(job.vocab_path);
    if (!vocab) return vocab.error();
    if (auto st = export_scalar_rm(*trainer.model(), *vocab, job.export_path, trainer.kind()); !st) return st.error();
    return last;
}

}  // namespace

Result<ScalarRmStepStats> train_and_export_scalar_rm(const LlamaConfig & cfg, std::vector<MetaExample> data,
                                                     const model::TrainOptions & opts, const ScalarRmJob & job) {
    return train_and_export(cfg, std::move(data), opts, job);
}

Result<ScalarRmStepStats> train_and_export_scalar_rm(const LlamaConfig & cfg, std::vector<PairExample> data,
                                                     const model::TrainOptions & opts, const ScalarRmJob & job) {
    return train_and_export(cfg, std::move(data), opts, job);
}

}  // namespace grm::rl
