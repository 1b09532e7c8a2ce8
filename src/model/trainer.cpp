// The language-model trainer and its training loop.
#include "model/trainer.h"

#include "model/config.h"
#include "model/lora.h"
#include "model/progress.h"

#include <cassert>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grm::model {

nlohmann::json train_options_to_json(const TrainOptions & o) {
    nlohmann::json j{{"steps", o.steps},   {"batch", o.batch},   {"seq", o.seq},
                          {"accum", o.accum},   {"lr", o.lr},         {"min_lr_ratio", o.min_lr_ratio},
                          {"warmup", o.warmup}, {"weight_decay", o.weight_decay},
                          {"beta1", o.beta1},   {"beta2", o.beta2},   {"eps", o.eps},
                          {"clip", o.clip},     {"seed", o.seed}};
    if (!o.emphasis.empty()) {
        j["emphasis"] = nlohmann::json::array();
        for (const auto & e : o.emphasis) j["emphasis"].push_back({{"regex", e.regex}, {"weight", e.weight}});
    }
    return j;
}

Result<TrainOptions> train_options_from_json(const nlohmann::json & j) {
    TrainOptions o;
    try {
        o.steps        = j.value("steps", o.steps);
        o.batch        = j.value("batch", o.batch);
        o.seq          = j.value("seq", o.seq);
        o.accum        = j.value("accum", o.accum);
        o.lr           = j.value("lr", o.lr);
        o.min_lr_ratio = j.value("min_lr_ratio", o.min_lr_ratio);
        o.warmup       = j.value("warmup", o.warmup);
        o.weight_decay = j.value("weight_decay", o.weight_decay);
        o.beta1        = j.value("beta1", o.beta1);
        o.beta2        = j.value("beta2", o.beta2);
        o.eps          = j.value("eps", o.eps);
        o.clip         = j.value("clip", o.clip);
        o.seed         = j.value("seed", o.seed);
        for (const auto & e : j.value("emphasis", nlohmann::json::array()))
            o.emphasis.push_back({e.at("regex").get<std::string>(), e.at("weight").get<float>()});
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("train options: ") + e.what());
    }
    if (o.steps <= 0 || o.batch <= 0 || o.seq < 2 || o.accum <= 0 || !(o.lr > 0.0))
        return make_error(Errc::invalid_argument, "train options: steps, batch, accum, lr must be positive, seq >= 2");
    return o;
}

Status init_from_checkpoint(const std::string & dir, Transformer & net) {
    auto meta = read_checkpoint_meta(dir);
    if (!meta) return meta.error();
    if (meta->kind != "lm") return make_error(Errc::invalid_argument, "--init " + dir + ": a " + meta->kind + " checkpoint, not an lm one");
    const LlamaConfig & from = meta->config;
    const LlamaConfig & to   = net->config();
    const auto          num  = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v);
        return std::string(b);
    };
    const auto same = [&](const char * field, double a, double b) -> Status {
        if (a == b) return ok_status();
        return make_error(Errc::invalid_argument,
                          "--init " + dir + ": " + field + " " + num(a) + " differs from the model's " + num(b));
    };
    for (const auto & st : { same("n_embd", from.n_embd, to.n_embd), same("n_layer", from.n_layer, to.n_layer),
                             same("n_head", from.n_head, to.n_head), same("n_head_kv", from.n_head_kv, to.n_head_kv),
                             same("n_ff", from.n_ff, to.n_ff), same("rms_eps", from.rms_eps, to.rms_eps),
                             same("rope_theta", from.rope_theta, to.rope_theta),
                             same("tied_embeddings", from.tied_embeddings, to.tied_embeddings),
                             same("qkv_bias", from.qkv_bias, to.qkv_bias) })
        if (!st) return st;
    if (from.rope_freq_factors != to.rope_freq_factors)
        return make_error(Errc::invalid_argument, "--init " + dir + ": rope_freq_factors differ from the model's");
    if (from.arch != to.arch)
        return make_error(Errc::invalid_argument, "--init " + dir + ": arch " + arch_name(from.arch) +
                                                      " differs from the model's " + arch_name(to.arch));
    if (from.n_vocab > to.n_vocab)
        return make_error(Errc::invalid_argument, "--init " + dir + ": n_vocab " + std::to_string(from.n_vocab) +
                                                      " exceeds the model's " + std::to_string(to.n_vocab) +
                                                      " (a vocab may only grow by appended pieces)");
    auto src = load_merged_lm(dir);  // a LoRA checkpoint's adapters merged into its weights
    if (!src) return src.error();
    torch::NoGradGuard no_grad;
    const auto         src_params = (*src)->named_parameters();
    for (auto & p : net->named_parameters()) {
        if (is_lora_parameter(p.key())) continue;
        const auto & s = src_params[p.key()];
        if (p.key() == "token_embd.weight") p.value().narrow(0, 0, from.n_vocab).copy_(s);
        else p.value().copy_(s);
    }
    return ok_status();
}

double lr_at(const TrainOptions & o, int64_t step) {
    if (step < o.warmup) return o.lr * double(step + 1) / double(o.warmup);
    const int64_t decay = std::max<int64_t>(1, o.steps - o.warmup - 1);
    const double  t     = std::min(1.0, double(step - o.warmup) / double(decay));
    const double  min   = o.lr * o.min_lr_ratio;
    return min + 0.5 * (o.lr - min) * (1.0 + std::cos(M_PI * t));
}

std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module & model, const TrainOptions & o) {
    std::vector<torch::Tensor> decay, no_decay;
    for (auto & p : model.parameters())  // frozen ones (a LoRA model's base) stay out
        if (p.requires_grad()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
    auto base = torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(base).weight_decay(o.weight_decay)));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(base).weight_decay(0.0)));
    return std::make_unique<torch::optim::AdamW>(std::move(groups), base);
}

void set_lr(torch::optim::Optimizer & opt, double lr) {
    for (auto & g : opt.param_groups()) static_cast<torch::optim::AdamWOptions &>(g.options()).lr(lr);
}

torch::Tensor token_ce(TransformerImpl & model, const Batch & batch) {
    const auto dev    = model.device();
    auto       tokens = batch.tokens.to(dev);
    auto       logits = model.forward_packed(tokens, batch.positions.to(dev), batch.doc);  // [B, T, V]
    return torch::nn::functional::cross_entropy(
        logits.view({-1, logits.size(-1)}), batch.targets.to(dev).view({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

torch::Tensor masked_ce_sum(TransformerImpl & model, const Batch & batch) {
    return (token_ce(model, batch) * batch.loss_mask.to(model.device()).view({-1})).sum();
}

LmTrainer::LmTrainer(Transformer model, std::shared_ptr<PackedDataset> data, TrainOptions opts)
    : model_(std::move(model)), data_(std::move(data)), opts_(opts), opt_(make_adamw(*model_, opts_)) {}

Batch batch_rows(const Batch & b, int64_t first, int64_t last) {
    Batch r;
    const int64_t n = last - first;
    r.tokens    = b.tokens.narrow(0, first, n);
    r.targets   = b.targets.narrow(0, first, n);
    r.loss_mask = b.loss_mask.narrow(0, first, n);
    r.positions = b.positions.narrow(0, first, n);
    r.doc       = b.doc.narrow(0, first, n);
    r.n_targets = (r.loss_mask > 0).sum().item<int64_t>();
    r.n_real    = (r.doc >= 0).sum().item<int64_t>();
    return r;
}

Status LmTrainer::set_dist(std::shared_ptr<Dist> dist) {
    dist_ = std::move(dist);
    return dist_broadcast_params(dist_.get(), *model_);
}

StepStats LmTrainer::step() {
    auto st = try_step();
    assert(st && "LmTrainer::step fails only in a distributed run: use try_step");
    return *st;
}

Result<StepStats> LmTrainer::try_step() {
    const auto t0 = std::chrono::steady_clock::now();
    model_->train();
    StepStats st;
    // All micro-batches first: the loss is normalised by the step's total trained tokens, so
    // every token weighs the same however the rows were packed.
    std::vector<Batch> micro;
    for (int64_t i = 0; i < opts_.accum; ++i) {
        micro.push_back(data_->next(pos_));
        st.targets += micro.back().n_targets;
        st.real += micro.back().n_real;
        st.positions += micro.back().tokens.numel();
    }
    const double denom = double(std::max<int64_t>(1, st.targets));
    opt_->zero_grad();
    double loss_sum = 0.0;
    for (const auto & whole : micro) {
        // Every rank read every micro-batch (the data position and `denom` stay global); it
        // trains its own rows.
        Batch b = whole;
        if (dist_) {
            const auto [first, last] = dist_share(whole.tokens.size(0), dist_->rank(), dist_->world());
            if (first == last) continue;
            b = batch_rows(whole, first, last);
        }
        auto ce   = token_ce(*model_, b);
        auto mask = b.loss_mask.to(ce.device()).view({-1});
        auto loss = (ce * mask).sum() / denom;
        loss.backward();
        loss_sum += opts_.emphasis.empty() ? loss.item<double>()
                                           : ((ce.detach() * (mask > 0).to(ce.dtype())).sum() / denom).item<double>();
    }
    if (dist_) {
        // Summed in the one buffer order on every rank: all ranks hold the same gradients after.
        if (auto r = dist_->all_reduce_grads(*model_); !r) return r.error();
        std::vector<double> l{ loss_sum };
        if (auto r = dist_->all_reduce_sum(l); !r) return r.error();
        loss_sum = l[0];
    }
    st.grad_norm = opts_.clip > 0.0 ? torch::nn::utils::clip_grad_norm_(model_->parameters(), opts_.clip)
                                    : torch::nn::utils::clip_grad_norm_(model_->parameters(), 1e30);
    st.lr        = lr_at(opts_, step_);
    set_lr(*opt_, st.lr);
    opt_->step();
    ++step_;
    tokens_seen_ += st.targets;
    st.step    = step_;
    st.loss    = loss_sum;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
}

Status LmTrainer::save(const std::string & dir) {
    CheckpointMeta meta;
    meta.kind             = "lm";
    meta.config           = model_->config();
    meta.lora             = model_->lora();
    meta.step             = step_;
    meta.tokens_seen      = tokens_seen_;
    meta.data             = pos_;
    meta.data_fingerprint = fingerprint_;
    meta.train_options    = train_options_to_json(opts_);
    return save_checkpoint(dir, *model_, opt_.get(), meta);
}

Status LmTrainer::restore(const std::string & dir, uint64_t data_fingerprint) {
    auto meta = read_checkpoint_meta(dir);
    if (!meta) return meta.error();
    if (meta->kind != "lm") return make_error(Errc::invalid_argument, dir + " is a '" + meta->kind + "' checkpoint");
    if (meta->data_fingerprint != data_fingerprint)
        return make_error(Errc::invalid_argument, dir + " was trained on other data (fingerprint differs)");
    if (config_to_json(meta->config) != config_to_json(model_->config()))
        return make_error(Errc::invalid_argument, dir + ": model config differs from the checkpoint's");
    if (lora_to_json(meta->lora) != lora_to_json(model_->lora()))
        return make_error(Errc::invalid_argument, dir + ": LoRA settings differ from the checkpoint's");
    if (auto st = load_checkpoint_state(dir, *model_, *opt_); !st) return st;
    step_        = meta->step;
    tokens_seen_ = meta->tokens_seen;
    pos_         = meta->data;
    fingerprint_ = data_fingerprint;
    return ok_status();
}

Status run_loop(const RunOptions & run, int64_t done, int64_t total, const std::function<Result<LoopStep>()> & step,
                const std::function<Status(const std::string & dir)> & save, const std::function<Status()> & after_save) {
    std::error_code ec;
    const bool      main = !run.dist || run.dist->main();
    std::ofstream   log;
    if (main) {
        fs::create_directories(run.out_dir, ec);
        log.open(fs::path(run.out_dir) / "log.jsonl", std::ios::app);
        if (!log) return make_error(Errc::io, "cannot write " + run.out_dir + "/log.jsonl");
    }
    ProgressBar              bar(done, total, run.progress && main);
    std::vector<std::string> kept;
    auto checkpoint = [&](int64_t at) -> Status {
        if (!main) return run.dist->barrier();
        char name[32];
        std::snprintf(name, sizeof name, "step-%07lld", (long long) at);
        if (auto st = save((fs::path(run.out_dir) / name).string()); !st) return st;
        if (auto st = set_latest(run.out_dir, name); !st) return st;
        kept.push_back(name);
        while (int64_t(kept.size()) > std::max<int64_t>(1, run.keep)) {
            fs::remove_all(fs::path(run.out_dir) / kept.front(), ec);
            kept.erase(kept.begin());
        }
        if (after_save)
            if (auto st = after_save(); !st) return st;
        return run.dist ? run.dist->barrier() : ok_status();
    };
    // Test hook (tests/cli/test_cli_dist.cpp, docs/distributed.md): GRM_DIST_TEST_DIE=R:S kills rank
    // R with SIGKILL after its step S, as a crash would.
    int64_t die_at = -1;
    if (const char * d = std::getenv("GRM_DIST_TEST_DIE"); d && run.dist) {
        int r = -1;
        long long s = -1;
        if (std::sscanf(d, "%d:%lld", &r, &s) == 2 && r == run.dist->rank()) die_at = s;
    }
    while (done < total) {
        auto s = step();
        if (!s) {
            bar.finish();
            return s.error();
        }
        done = s->step;
        if (main) log << s->log.dump() << "\n" << std::flush;
        bar.update(s->step, s->loss, s->tokens_per_s);
        if (!std::isfinite(s->loss)) {
            bar.finish();
            return make_error(Errc::internal, "loss is not finite at step " + std::to_string(s->step));
        }
        if (run.save_every > 0 && done % run.save_every == 0 && done < total)
            if (auto st = checkpoint(done); !st) return st;
        if (done == die_at) std::raise(SIGKILL);
    }
    bar.finish();
    return checkpoint(done);
}

Result<StepStats> run_training(LmTrainer & trainer, const RunOptions & run) {
    StepStats last;
    double    ema_tps = 0.0;
    RunOptions r      = run;
    r.dist            = trainer.dist();
    auto      st      = run_loop(
        r, trainer.steps_done(), trainer.options().steps,
        [&]() -> Result<LoopStep> {
            auto s = trainer.try_step();
            if (!s) return s.error();
            last             = *s;
            const double tps = double(last.real) / std::max(1e-9, last.seconds);
            ema_tps          = ema_tps == 0.0 ? tps : 0.9 * ema_tps + 0.1 * tps;
            nlohmann::json j{{"step", last.step},           {"loss", last.loss},       {"lr", last.lr},
                             {"grad_norm", last.grad_norm}, {"targets", last.targets}, {"real", last.real},
                             {"fill", double(last.real) / double(std::max<int64_t>(1, last.positions))},
                             {"tokens_seen", trainer.tokens_seen()}, {"seconds", last.seconds},
                             {"tokens_per_s", tps}};
            return LoopStep{j, last.step, last.loss, ema_tps};
        },
        [&](const std::string & dir) { return trainer.save(dir); });
    if (!st) return st.error();
    return last;
}

}  // namespace grm::model
