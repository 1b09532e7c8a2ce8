// GRPO stages, trainer, run loop and log plot.
#include "rl/grpo.h"

#include "core/atomic_file.h"
#include "core/chatml.h"
#include "core/prompt.h"
#include "core/seed.h"
#include "core/vote.h"
#include "llama/llama_model.h"
#include "model/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;

namespace grm::rl {

namespace {

uint64_t fingerprint_inputs(const std::vector<Sample> & inputs) {
    uint64_t h = kFnvOffset;  // checkpoints store it: the value must not change
    for (const auto & s : inputs) h = fnv1a("\n", fnv1a(s.id, h));
    return h;
}

model::TrainOptions as_train_options(const GrpoOptions & o) {
    model::TrainOptions t;
    t.steps        = o.steps;
    t.lr           = o.lr;
    t.warmup       = o.warmup;
    t.min_lr_ratio = o.min_lr_ratio;
    t.weight_decay = o.weight_decay;
    t.clip         = o.clip;
    t.seed         = o.seed;
    return t;
}

}  // namespace

nlohmann::json grpo_options_to_json(const GrpoOptions & o) {
    return nlohmann::json{{"group", o.group},         {"inputs_per_step", o.inputs_per_step}, {"steps", o.steps},
                          {"lr", o.lr},               {"warmup", o.warmup},   {"min_lr_ratio", o.min_lr_ratio},
                          {"weight_decay", o.weight_decay}, {"clip", o.clip}, {"epochs", o.epochs},
                          {"micro_batch", o.micro_batch}, {"temperature", o.sampling.temperature}, {"top_p", o.sampling.top_p},
                          {"max_new_tokens", o.sampling.max_tokens}, {"clip_eps", o.loss.clip_eps},
                          {"beta", o.loss.beta},      {"seed", o.seed},
                          {"prompt_multi", o.prompt.multi}, {"prompt_single", o.prompt.single}};
}

Result<GrpoOptions> grpo_options_from_json(const nlohmann::json & j) {
    GrpoOptions o;
    try {
        o.group           = j.value("group", o.group);
        o.inputs_per_step = j.value("inputs_per_step", o.inputs_per_step);
        o.steps           = j.value("steps", o.steps);
        o.lr              = j.value("lr", o.lr);
        o.warmup          = j.value("warmup", o.warmup);
        o.min_lr_ratio    = j.value("min_lr_ratio", o.min_lr_ratio);
        o.weight_decay    = j.value("weight_decay", o.weight_decay);
        o.clip            = j.value("clip", o.clip);
        o.epochs          = j.value("epochs", o.epochs);
        o.micro_batch     = j.value("micro_batch", o.micro_batch);
        o.sampling.temperature = j.value("temperature", o.sampling.temperature);
        o.sampling.top_p       = j.value("top_p", o.sampling.top_p);
        o.sampling.max_tokens  = j.value("max_new_tokens", o.sampling.max_tokens);
        o.loss.clip_eps   = j.value("clip_eps", o.loss.clip_eps);
        o.loss.beta       = j.value("beta", o.loss.beta);
        o.seed            = j.value("seed", o.seed);
        o.prompt.multi    = j.value("prompt_multi", o.prompt.multi);
        o.prompt.single   = j.value("prompt_single", o.prompt.single);
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("grpo options: ") + e.what());
    }
    if (o.group < 2 || o.inputs_per_step < 1 || o.steps < 1 || o.epochs < 1 || o.micro_batch < 1 || !(o.lr > 0.0))
        return make_error(Errc::invalid_argument, "grpo options: group >= 2; inputs_per_step, steps, epochs, micro_batch, lr positive");
    return o;
}

scaling::RuleReward default_reward(const Sample & s, const Rollout & r) { return scaling::rule_reward(s, r.order, r.text, r.stopped); }

Result<std::vector<Rollout>> rollout(model::TransformerImpl & policy, const LlamaModel & tok,
                                     const std::vector<Sample> & inputs, const std::vector<int> & which,
                                     const RolloutParams & p, const RewardFn & reward) {
    std::vector<Rollout>              out;
    std::vector<std::vector<int32_t>> prompts;
    for (int i : which) {
        const Sample & s = inputs[size_t(i)];
        for (int g = 0; g < p.group; ++g) {
            Rollout r;
            r.input  = i;
            r.order  = shuffle_order(s.n(), stream_seed(p.sampling.seed, Stream::shuffle, uint64_t(i), uint64_t(g)));
            r.prompt = tok.tokenize(chatml_user_prompt(render_prompt(p.prompt, s, r.order)), /*add_special=*/true);
            prompts.push_back(r.prompt);
            out.push_back(std::move(r));
        }
    }
    std::vector<int32_t> stop_ids;
    if (int32_t end = tok.find_piece(k_chatml_end); end >= 0) stop_ids.push_back(end);
    stop_ids.push_back(tok.eos());
    const bool was_training = policy.is_training();
    policy.eval();
    SamplingParams sampling = p.sampling;
    if (p.sample_stream) sampling.seed = stream_seed(p.sampling.seed, Stream::rl_rollout, p.sample_stream);
    auto gens = model::generate(policy, prompts, sampling, stop_ids);
    policy.train(was_training);
    if (!gens) return gens.error();
    for (size_t k = 0; k < out.size(); ++k) {
        Rollout & r  = out[k];
        r.completion = (*gens)[k].tokens;
        r.stopped    = (*gens)[k].stopped;
        std::vector<int32_t> body(r.completion.begin(), r.completion.end() - (r.stopped ? 1 : 0));
        // Byte-fallback pieces of a weak model can split UTF-8; the engine sanitises its output the
        // same way, so rollouts and inference parse the same text.
        r.text   = sanitize_utf8(tok.detokenize(body, /*render_special=*/false));
        r.reward = reward(inputs[size_t(r.input)], r);
    }
    return out;
}

Result<std::vector<int>> filter_always_right(model::TransformerImpl & reference, const LlamaModel & tok,
                                             const std::vector<Sample> & inputs, const RolloutParams & p, int batch) {
    std::vector<int> kept;
    batch = std::max(1, batch);
    for (int first = 0; first < int(inputs.size()); first += batch) {
        std::vector<int> which;
        for (int i = first; i < std::min<int>(int(inputs.size()), first + batch); ++i) which.push_back(i);
        RolloutParams q = p;
        q.sampling.seed = stream_seed(p.sampling.seed, Stream::rl_filter, uint64_t(first));
        auto rs         = rollout(reference, tok, inputs, which, q, default_reward);
        if (!rs) return rs.error();
        for (size_t w = 0; w < which.size(); ++w) {
            bool all = true;
            for (int g = 0; g < p.group; ++g) all = all && (*rs)[w * size_t(p.group) + size_t(g)].reward.correct;
            if (!all) kept.push_back(which[w]);
        }
    }
    return kept;
}

nlohmann::json GrpoStepStats::to_json() const {
    return nlohmann::json{{"step", step},           {"loss", loss},         {"mean_reward", mean_reward},
                          {"accuracy", accuracy},   {"kl", kl},             {"length", mean_length},
                          {"unscorable_rate", unscorable_rate}, {"clip_frac", clip_frac},
                          {"zero_adv_groups", zero_adv_groups}, {"lr", lr}, {"grad_norm", grad_norm},
                          {"seconds", seconds}};
}

GrpoTrainer::GrpoTrainer(model::Transformer policy, model::Transformer reference, std::shared_ptr<LlamaModel> tok,
                         std::vector<Sample> inputs, GrpoOptions opts, RewardFn reward)
    : policy_(std::move(policy)), reference_(std::move(reference)), tok_(std::move(tok)), inputs_(std::move(inputs)),
      opts_(opts), reward_(std::move(reward)) {
    if (reference_) {
        reference_->eval();
        for (auto & p : reference_->parameters()) p.set_requires_grad(false);
    }
    opt_         = model::make_adamw(*policy_, as_train_options(opts_));
    fingerprint_ = fingerprint_inputs(inputs_);
}

std::vector<int> GrpoTrainer::next_inputs() {
    // Epoch e visits the inputs in a permutation seeded by (seed, e): the order depends only on
    // the cursor, so a resumed run continues it exactly.
    const int64_t    n = int64_t(inputs_.size());
    std::vector<int> which;
    std::vector<int> perm;
    int64_t          perm_epoch = -1;
    for (int k = 0; k < opts_.inputs_per_step; ++k, ++cursor_) {
        const int64_t epoch = cursor_ / n;
        if (epoch != perm_epoch) {
            perm.resize(size_t(n));
            for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = int(i);
            std::mt19937_64 rng(stream_seed(opts_.seed, Stream::rl_order, 0, uint64_t(epoch)));
            for (int64_t i = n - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(rng() % uint64_t(i + 1))]);
            perm_epoch = epoch;
        }
        which.push_back(perm[size_t(cursor_ % n)]);
    }
    return which;
}

Result<GrpoStepStats> GrpoTrainer::step() {
    const auto    t0 = std::chrono::steady_clock::now();
    GrpoStepStats st;
    if (inputs_.empty()) return make_error(Errc::invalid_argument, "grpo: no inputs");
    std::vector<int> which = next_inputs();
    const int        rank = dist_ ? dist_->rank() : 0;
    if (dist_) {
        const auto [first, last] = model::dist_share(int64_t(which.size()), rank, dist_->world());
        which = std::vector<int>(which.begin() + first, which.begin() + last);
    }

    // Stage 1 + 2: rollouts and their rule rewards.
    RolloutParams rp;
    rp.group          = opts_.group;
    rp.sampling       = opts_.sampling;
    rp.sampling.seed  = stream_seed(opts_.seed, Stream::rl_rollout, 0, uint64_t(step_));
    rp.sample_stream  = uint64_t(rank);
    rp.prompt         = opts_.prompt;
    auto rs = which.empty() ? Result<std::vector<Rollout>>(std::vector<Rollout>{})
                            : rollout(*policy_, *tok_, inputs_, which, rp, reward_);
    if (!rs) return rs.error();
    const auto & rolls = *rs;
    // B: the step's rollouts over all ranks (each rank holds its share of them here).
    const size_t B = size_t(opts_.inputs_per_step) * size_t(opts_.group);

    // Stage 3: group advantages.
    std::vector<double> rewards;
    for (const auto & r : rolls) {
        rewards.push_back(r.reward.reward);
        st.mean_reward += r.reward.reward;
        st.accuracy += r.reward.correct ? 1.0 : 0.0;
        st.unscorable_rate += r.reward.reason != Unscorable::none ? 1.0 : 0.0;
        st.mean_length += double(r.completion.size());
    }
    const auto adv = group_advantages(rewards, opts_.group);
    for (size_t g = 0; g < rolls.size(); g += size_t(opts_.group)) {
        bool zero = true;
        for (int i = 0; i < opts_.group; ++i) zero = zero && adv[g + size_t(i)] == 0.0;
        st.zero_adv_groups += zero ? 1.0 : 0.0;
    }
    if (dist_) {
        std::vector<double> sums{ st.mean_reward, st.accuracy, st.unscorable_rate, st.mean_length, st.zero_adv_groups };
        if (auto r = dist_->all_reduce_sum(sums); !r) return r.error();
        st.mean_reward = sums[0], st.accuracy = sums[1], st.unscorable_rate = sums[2];
        st.mean_length = sums[3], st.zero_adv_groups = sums[4];
    }
    st.mean_reward /= double(B);
    st.accuracy /= double(B);
    st.unscorable_rate /= double(B);
    st.mean_length /= double(B);
    st.zero_adv_groups /= double(B / size_t(opts_.group));

    // Stage 4: the loss, in micro-batches of rollouts; each chunk's mean is weighted by its share.
    const size_t mb = size_t(opts_.micro_batch);
    struct Chunk {
        std::vector<std::vector<int32_t>> prompts, completions;
        torch::Tensor                     adv, old, ref;
    };
    std::vector<Chunk> chunks;
    for (size_t first = 0; first < rolls.size(); first += mb) {
        Chunk         c;
        const size_t  last = std::min(rolls.size(), first + mb);
        std::vector<float> a;
        for (size_t k = first; k < last; ++k) {
            c.prompts.push_back(rolls[k].prompt);
            c.completions.push_back(rolls[k].completion);
            a.push_back(float(adv[k]));
        }
        c.adv = torch::tensor(a).to(policy_->device());
        torch::NoGradGuard ng;
        auto ref = [&] {
            if (reference_) return model::sequence_logprobs(*reference_, c.prompts, c.completions);
            model::LoraOff base(*policy_);  // the LoRA policy's base is the reference
            return model::sequence_logprobs(*policy_, c.prompts, c.completions);
        }();
        if (!ref) return ref.error();
        c.ref = ref->logprobs;
        if (opts_.epochs > 1) {
            auto old = model::sequence_logprobs(*policy_, c.prompts, c.completions);
            if (!old) return old.error();
            c.old = old->logprobs;
        }
        chunks.push_back(std::move(c));
    }
    policy_->train();
    st.lr = model::lr_at(as_train_options(opts_), step_);
    model::set_lr(*opt_, st.lr);
    for (int e = 0; e < opts_.epochs; ++e) {
        opt_->zero_grad();
        double loss_sum = 0.0, kl_sum = 0.0, clip_sum = 0.0;
        for (auto & c : chunks) {
            auto lp = model::sequence_logprobs(*policy_, c.prompts, c.completions);
            if (!lp) return lp.error();
            // One pass per rollout set (epochs == 1): old == current, ratio 1, the plain policy gradient.
            auto         old   = opts_.epochs > 1 ? c.old : lp->logprobs.detach();
            auto         terms = grpo_loss(lp->logprobs, old, c.ref, lp->mask, c.adv, opts_.loss);
            const double w     = double(c.prompts.size()) / double(B);
            (terms.loss * w).backward();
            loss_sum += terms.loss.item<double>() * w;
            kl_sum += terms.kl * w;
            clip_sum += terms.clip_frac * w;
        }
        if (dist_) {
            if (auto r = dist_->all_reduce_grads(*policy_); !r) return r.error();
            std::vector<double> sums{ loss_sum, kl_sum, clip_sum };
            if (auto r = dist_->all_reduce_sum(sums); !r) return r.error();
            loss_sum = sums[0], kl_sum = sums[1], clip_sum = sums[2];
        }
        const double norm = torch::nn::utils::clip_grad_norm_(policy_->parameters(), opts_.clip > 0.0 ? opts_.clip : 1e30);
        opt_->step();
        if (e == 0) {
            st.loss      = loss_sum;
            st.kl        = kl_sum;
            st.clip_frac = clip_sum;
            st.grad_norm = norm;
        }
    }
    ++step_;
    st.step    = step_;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
}

Status GrpoTrainer::set_dist(std::shared_ptr<model::Dist> dist) {
    dist_ = std::move(dist);
    return model::dist_broadcast_params(dist_.get(), *policy_);
}

Status GrpoTrainer::save(const std::string & dir) {
    model::CheckpointMeta meta;
    meta.kind             = "lm";
    meta.config           = policy_->config();
    meta.lora             = policy_->lora();
    meta.step             = step_;
    meta.data.epoch       = 0;
    meta.data.batch       = cursor_;  // inputs consumed so far
    meta.data_fingerprint = fingerprint_;
    meta.train_options    = grpo_options_to_json(opts_);
    meta.train_options["trainer"] = "grpo";
    return model::save_checkpoint(dir, *policy_, opt_.get(), meta);
}

Status GrpoTrainer::restore(const std::string & dir) {
    auto meta = model::read_checkpoint_meta(dir);
    if (!meta) return meta.error();
    if (meta->train_options.value("trainer", std::string()) != "grpo")
        return make_error(Errc::invalid_argument, dir + " is not a GRPO checkpoint");
    if (meta->data_fingerprint != fingerprint_)
        return make_error(Errc::invalid_argument, dir + " was trained on other inputs (fingerprint differs)");
    if (model::lora_to_json(meta->lora) != model::lora_to_json(policy_->lora()))
        return make_error(Errc::invalid_argument, dir + ": LoRA settings differ from the checkpoint's");
    if (auto st = model::load_checkpoint_state(dir, *policy_, *opt_); !st) return st;
    step_   = meta->step;
    cursor_ = meta->data.batch;
    return ok_status();
}

Result<GrpoStepStats> run_grpo(GrpoTrainer & trainer, const GrpoRunOptions & run) {
    const std::string log_path = (fs::path(run.out_dir) / "log.jsonl").string();
    GrpoStepStats     last;
    auto              st = model::run_loop(
        {run.out_dir, run.save_every, run.keep, run.progress, trainer.dist()}, trainer.steps_done(), trainer.options().steps,
        [&]() -> Result<model::LoopStep> {
            auto s = trainer.step();
            if (!s) return s.error();
            last = *s;
            return model::LoopStep{last.to_json(), last.step, last.loss, 0.0};
        },
        [&](const std::string & dir) { return trainer.save(dir); },
        [&] { return plot_grpo_log(log_path, (fs::path(run.out_dir) / "plot.svg").string()); });
    if (!st) return st.error();
    return last;
}

Status plot_grpo_log(const std::string & log_jsonl, const std::string & svg_path) {
    static const char * keys[]  = {"mean_reward", "accuracy", "kl", "length", "unscorable_rate"};
    const int           n_keys  = 5;
    std::ifstream       in(log_jsonl);
    if (!in) return make_error(Errc::not_found, "no log " + log_jsonl);
    // A resumed run may have logged a step twice (killed between the log line and the checkpoint):
    // the last line for a step wins.
    // A run killed mid-line leaves a torn last line (no '\n'): it is dropped, as every JSONL reader does.
    std::map<int64_t, nlohmann::json> rows;
    int                               line_no = 0;
    for (std::string line; std::getline(in, line);) {
        line_no++;
        if (line.empty() || in.eof()) continue;
        try {
            auto j = nlohmann::json::parse(line);
            rows[j.at("step").get<int64_t>()] = j;
        } catch (const nlohmann::json::exception &) {
            return make_error(Errc::invalid_argument, log_jsonl + ":" + std::to_string(line_no) + ": malformed line");
        }
    }
    const int W = 640, H = 130, pad = 40;
    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H * n_keys
        << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    const double x0 = rows.empty() ? 0.0 : double(rows.begin()->first), x1 = rows.empty() ? 1.0 : double(rows.rbegin()->first);
    for (int k = 0; k < n_keys; ++k) {
        double lo = 1e300, hi = -1e300;
        for (const auto & [s, j] : rows) {
            const double v = j.value(keys[k], 0.0);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        if (rows.empty()) lo = 0.0, hi = 1.0;
        if (hi - lo < 1e-12) hi = lo + 1.0;
        const int top = k * H;
        svg << "<text x=\"" << pad << "\" y=\"" << top + 14 << "\">" << keys[k] << " (" << lo << " .. " << hi
            << ")</text>\n<rect x=\"" << pad << "\" y=\"" << top + 20 << "\" width=\"" << W - 2 * pad << "\" height=\""
            << H - 40 << "\" fill=\"none\" stroke=\"#999\"/>\n<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"";
        for (const auto & [s, j] : rows) {
            const double x = pad + (W - 2 * pad) * (x1 > x0 ? (double(s) - x0) / (x1 - x0) : 0.5);
            const double y = top + 20 + (H - 40) * (1.0 - (j.value(keys[k], 0.0) - lo) / (hi - lo));
            svg << x << "," << y << " ";
        }
        svg << "\"/>\n";
    }
    svg << "<text x=\"" << pad << "\" y=\"" << H * n_keys - 4 << "\">step " << x0 << " .. " << x1 << "</text>\n</svg>\n";
    return write_text_atomic(svg_path, svg.str());
}

}  // namespace grm::rl
