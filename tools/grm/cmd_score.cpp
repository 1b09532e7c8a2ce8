// `grm score`: judge responses with k sampled judgments and print trajectories, votes, rewards.
#include "commands.h"
#include "engine_flags.h"
#include "progress.h"

#include "core/judge.h"
#include "core/judgment_json.h"
#include "engines/make_engine.h"
#include "scaling/llama_scalar_rm.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace grm::cli {

namespace {

using json = nlohmann::json;

struct ScoreArgs {
    std::string              query;
    std::vector<std::string> responses;
    std::string              file;
    bool                     as_json  = false;
    bool                     progress = false;
    int                      batch    = 8;
    EngineOptions            engine;
    JudgeParams              judge;
    JudgeFlags               judge_flags;
};

// Inputs from --query/--response, a .json file (one sample or an array), a .jsonl file, or stdin.
Result<std::vector<Sample>> read_inputs(const ScoreArgs & a) {
    std::vector<Sample> out;
    if (!a.query.empty() || !a.responses.empty()) {
        if (a.query.empty()) return make_error(Errc::invalid_argument, "--response given without --query");
        if (a.responses.empty()) return make_error(Errc::invalid_argument, "--query given without any --response");
        Sample s;
        s.id           = "cli";
        s.conversation = { { "user", a.query } };
        s.responses    = a.responses;
        if (auto st = validate_sample(s); !st) return st.error();
        out.push_back(std::move(s));
        return out;
    }
    const bool is_json = a.file.size() > 5 && a.file.compare(a.file.size() - 5, 5, ".json") == 0;
    if (is_json) {
        std::ifstream in(a.file);
        if (!in) return make_error(Errc::not_found, "cannot open '" + a.file + "'");
        json j = json::parse(in, nullptr, false);
        if (j.is_discarded()) return make_error(Errc::invalid_argument, a.file + ": malformed JSON");
        json items = j.is_array() ? j : json::array({ j });
        for (size_t i = 0; i < items.size(); i++) {
            auto s = sample_from_json(items[i]);
            if (!s) return make_error(Errc::invalid_argument, a.file + ": item " + std::to_string(i) + ": " + s.error().message);
            if (s->id.empty()) s->id = std::to_string(i);
            out.push_back(std::move(*s));
        }
        return out;
    }
    if (!a.file.empty()) {
        auto f = read_samples_jsonl(a.file);
        if (!f) return f.error();
        return std::move(f->samples);
    }
    std::string line;
    int         lineno = 0;
    while (std::getline(std::cin, line)) {
        lineno++;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded()) return make_error(Errc::invalid_argument, "stdin:" + std::to_string(lineno) + ": malformed JSON");
        auto s = sample_from_json(j);
        if (!s) return make_error(Errc::invalid_argument, "stdin:" + std::to_string(lineno) + ": " + s.error().message);
        if (s->id.empty()) s->id = std::to_string(lineno);
        out.push_back(std::move(*s));
    }
    if (out.empty()) return make_error(Errc::invalid_argument, "no input: give --query and --response, --file, or JSONL on stdin");
    return out;
}

void print_text(const Sample & s, const Judgment & j) {
    std::cout << "=== " << s.id << ": " << s.query() << "\n";
    for (size_t i = 0; i < j.samples.size(); i++) {
        const Trajectory & t = j.samples[i];
        std::cout << "--- sample " << i + 1 << " (shown order:";
        for (int o : t.order) std::cout << " " << o + 1;
        std::cout << ")" << (t.meta_score ? " meta " + std::to_string(*t.meta_score) : "") << "\n";
        std::cout << t.generation.text << "\n";
        if (t.parsed.ok()) {
            std::cout << "  -> scores (response order):";
            for (int sc : t.scores) std::cout << " " << sc;
            std::cout << (t.voted ? "" : "  [not voted]") << "\n";
        } else {
            std::cout << "  -> UNSCORABLE (" << unscorable_name(t.parsed.reason) << "): " << t.parsed.detail << "\n";
        }
    }
    std::cout << "valid samples: " << j.n_valid << "/" << j.samples.size() << ", voted: " << j.n_voted;
    for (const auto & [reason, n] : j.unscorable) std::cout << ", " << reason << ": " << n;
    std::cout << "\n";
    if (j.rewards.empty()) {
        std::cout << "rewards: none (no scorable sample)\n";
    } else {
        for (size_t r = 0; r < j.rewards.size(); r++) {
            std::cout << "response " << r + 1 << ": reward " << j.rewards[r] << " (mean " << j.rewards[r] / j.n_voted << ")"
                      << (j.best && *j.best == (int) r ? "  <- best" : "") << "\n";
        }
        if (!j.best) std::cout << "best: tie\n";
    }
}

int run(ScoreArgs & a) {
    auto inputs = read_inputs(a);
    if (!inputs) {
        std::cerr << "grm score: " << inputs.error().message << "\n";
        return 2;
    }
    if (auto st = apply_judge_flags(a.judge_flags, a.judge); !st) {
        std::cerr << "grm score: " << st.error().message << "\n";
        return 2;
    }
    if (a.judge.k < 1) {
        std::cerr << "grm score: -k must be at least 1\n";
        return 2;
    }
    auto engine = make_engine(a.engine);
    if (!engine) {
        std::cerr << "grm score: " << engine.error().message << "\n";
        return 2;
    }
    auto meta = load_meta_flag(a.judge_flags, a.engine.llama.threads);
    if (!meta) {
        std::cerr << "grm score: " << meta.error().to_string() << "\n";
        return 2;
    }
    const std::vector<Sample> & samples = *inputs;
    Progress                    bar((long) samples.size(), "inputs", a.progress);
    int                         failures = 0;
    for (size_t b = 0; b < samples.size(); b += a.batch) {
        std::vector<Sample> chunk(samples.begin() + b, samples.begin() + std::min(samples.size(), b + a.batch));
        auto                results = judge_batch(**engine, chunk, a.judge, meta->get());
        for (size_t i = 0; i < chunk.size(); i++) {
            if (!results[i]) {
                failures++;
                std::cerr << "grm score: input '" << chunk[i].id << "': " << results[i].error().to_string() << "\n";
                if (a.as_json) std::cout << json{ { "id", chunk[i].id }, { "error", results[i].error().to_string() } }.dump() << "\n";
                continue;
            }
            if (a.as_json) std::cout << judgment_to_json(chunk[i], *results[i]).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
            else print_text(chunk[i], *results[i]);
        }
        bar.update((long) std::min(samples.size(), b + a.batch));
    }
    bar.finish();
    return failures ? 1 : 0;
}

}  // namespace

void register_score(CLI::App & app) {
    auto   a   = std::make_shared<ScoreArgs>();
    auto * cmd = app.add_subcommand("score", "judge responses to a query (k sampled judgments, voted)");
    cmd->add_option("-q,--query", a->query, "the user query");
    cmd->add_option("-r,--response", a->responses, "a response (repeat for several)");
    cmd->add_option("-f,--file", a->file, "a .json sample (or array) or a .jsonl file; default: JSONL on stdin");
    cmd->add_option("-k,--samples", a->judge.k, "sampled judgments per input (voting@k)")->capture_default_str();
    cmd->add_option("-s,--seed", a->judge.seed, "seed: sample i of input ID samples and shuffles with streams derived from (seed, ID, i)")
        ->capture_default_str();
    cmd->add_flag("--json", a->as_json, "one JSON object per input on stdout");
    cmd->add_flag("--progress", a->progress, "show the progress bar even when stderr is not a terminal");
    cmd->add_option("--batch", a->batch, "inputs judged together per engine call")->capture_default_str();
    add_judge_flags(*cmd, a->judge_flags, a->judge);
    add_engine_flags(*cmd, a->engine);
    add_sampling_flags(*cmd, a->judge.sampling);
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
