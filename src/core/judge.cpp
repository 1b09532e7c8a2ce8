// The judging pipeline: shuffled prompts -> one engine batch -> parse -> meta score -> vote.
#include "core/judge.h"

#include "core/seed.h"
#include "core/vote.h"

#include <algorithm>

namespace grm {

void vote(Judgment & j, int k, int k_meta, bool use_meta) {
    k = std::min<int>(k, (int) j.samples.size());
    j.n_valid = 0;
    j.n_voted = 0;
    j.unscorable.clear();
    j.rewards.clear();
    j.best.reset();
    std::vector<int> valid;
    for (int i = 0; i < (int) j.samples.size(); i++) {
        Trajectory & t = j.samples[i];
        t.voted        = false;
        if (i >= k) continue;
        if (t.parsed.ok()) valid.push_back(i);
        else j.unscorable[unscorable_name(t.parsed.reason)]++;
    }
    j.n_valid = (int) valid.size();
    if (use_meta) {
        if (k_meta <= 0) k_meta = std::max(1, k / 2);
        // highest meta score first; the stable sort keeps sample order among equals
        std::stable_sort(valid.begin(), valid.end(), [&](int a, int b) {
            return j.samples[a].meta_score.value_or(-1e300) > j.samples[b].meta_score.value_or(-1e300);
        });
        if ((int) valid.size() > k_meta) valid.resize(k_meta);
    }
    if (valid.empty()) return;  // nothing scorable: no rewards rather than made-up ones
    j.rewards.assign(j.samples[valid[0]].scores.size(), 0.0);
    for (int i : valid) {
        j.samples[i].voted = true;
        for (size_t r = 0; r < j.rewards.size(); r++) j.rewards[r] += j.samples[i].scores[r];
    }
    j.n_voted = (int) valid.size();
    j.best    = strict_argmax(j.rewards);
}

std::vector<Result<Judgment>> judge_batch(Engine & engine, const std::vector<Sample> & samples,
                                          const JudgeParams & params, MetaScorer * meta,
                                          const std::vector<CancelFlag> & cancel) {
    std::vector<GenerationRequest>             requests;
    std::vector<std::vector<std::vector<int>>> orders(samples.size());
    std::vector<std::optional<Error>> refused(samples.size());  // a sample this template cannot judge: not sent
    std::vector<size_t>               slot(samples.size());     // sample j's request in `requests`
    for (size_t j = 0; j < samples.size(); j++) {
        const Sample &    s      = samples[j];
        const bool        binary = params.binary_single && s.n() == 1;
        GenerationRequest req;
        if (binary && params.prompt.binary.empty()) {
            refused[j] = make_error(Errc::invalid_argument, "the template has no 0/1 variant for one response (a === binary === section)");
            continue;
        }
        req.chat          = params.chat;
        req.sampling      = params.sampling;
        req.sampling.seed = params.seed;
        if (j < cancel.size()) req.cancel = cancel[j];
        // Sample i of an input gets its own sampler and permutation, derived from (seed, id, i) and
        // nothing else: another seed or input never replays them, and a batch never changes them.
        for (int i = 0; i < params.k; i++) {
            req.seeds.push_back(stream_seed(params.seed, Stream::engine_sample, s.id, (uint64_t) i));
            std::vector<int> order = shuffle_order(s.n(), stream_seed(params.seed, Stream::shuffle, s.id, (uint64_t) i), params.shuffle);
            std::optional<int> hint;
            if (params.hint_best) {
                hint = (int) (std::find(order.begin(), order.end(), *params.hint_best) - order.begin());
            }
            req.prompts.push_back(render_prompt(params.prompt, s, order, hint, binary));
            orders[j].push_back(std::move(order));
        }
        slot[j] = requests.size();
        requests.push_back(std::move(req));
    }
    std::vector<GenerationResult> gens = engine.generate(requests);

    std::vector<Result<Judgment>> out;
    for (size_t j = 0; j < samples.size(); j++) {
        if (refused[j]) {
            out.push_back(*refused[j]);
            continue;
        }
        GenerationResult & gen = gens[slot[j]];
        if (!gen) {
            out.push_back(gen.error());
            continue;
        }
        Judgment judgment;
        for (int i = 0; i < params.k; i++) {
            Trajectory t;
            t.order      = orders[j][i];
            t.generation = std::move(gen.value()[i]);
            t.parsed     = parse_judgment(t.generation.text, samples[j].n(), t.generation.finish, params.clip_scores, params.binary_single);
            if (t.parsed.ok()) t.scores = unshuffle_scores(t.parsed.scores, t.order);
            judgment.samples.push_back(std::move(t));
        }
        if (meta) {
            auto scores = meta->score(samples[j], judgment.samples);
            if (!scores) {
                out.push_back(make_error(scores.error().code, "meta RM: " + scores.error().message));
                continue;
            }
            for (int i = 0; i < params.k; i++) judgment.samples[i].meta_score = (*scores)[i];
        }
        vote(judgment, params.k, params.k_meta, meta != nullptr);
        out.push_back(std::move(judgment));
    }
    return out;
}

}  // namespace grm
