// `grm rl export`: the GRPO training prompts for a framework outside grm (OpenRLHF, verl, TRL),
// one line per (sample, shuffle): the judging prompt grm would render and its shown-order rule
// label, so a judgment generated there is scored by /rule_reward exactly as `grm rl train` scores it.
#include "commands.h"

#include "core/atomic_file.h"
#include "core/prompt.h"
#include "core/sample.h"
#include "core/seed.h"
#include "core/vote.h"
#include "scaling/rule_label.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace grm::cli {

namespace {

struct RlExportArgs {
    std::string data, out, template_path;
    uint64_t    seed       = 0;
    int         k          = 1;
    bool        principles = true;
    bool        binary     = false;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm rl export: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(const RlExportArgs & a) {
    PromptTemplate tpl = default_template(a.principles);
    if (!a.template_path.empty()) {
        auto t = load_template(a.template_path);
        if (!t) return fail(t.error());
        tpl = *t;
    }
    if (a.binary && tpl.binary.empty()) {
        return fail(make_error(Errc::invalid_argument, "--binary-single: the template '" + a.template_path + "' has no === binary === section"));
    }
    auto file = read_samples_jsonl(a.data);
    if (!file) return fail(file.error());
    // Shuffle i of sample `id` is the judge pipeline's stream (seed, shuffle, id, i): `grm serve`
    // and `grm score` with the same seed show the same order.
    std::string lines;
    for (const Sample & s : file->samples) {
        for (int i = 0; i < a.k; i++) {
            const std::vector<int> order = shuffle_order(s.n(), stream_seed(a.seed, Stream::shuffle, s.id, (uint64_t) i));
            auto                   label = scaling::shown_label_json(s, order, a.binary);
            if (!label) return fail(label.error());
            const std::string prompt = render_prompt(tpl, s, order, std::nullopt, a.binary);
            nlohmann::json    line   = { { "prompt", prompt },
                                         { "messages", { { { "role", "user" }, { "content", prompt } } } },
                                         { "label", label->dump() },
                                         { "id", s.id },
                                         { "shuffle", i } };
            lines += line.dump() + "\n";
        }
    }
    auto st = write_file_atomic(a.out, [&](std::ostream & out) { out << lines; });
    if (!st) return fail(st.error());
    std::fprintf(stderr, "grm rl export: %zu samples x %d shuffles -> %s\n", file->samples.size(), a.k, a.out.c_str());
    return 0;
}

}  // namespace

void register_rl_export(CLI::App & rl_cmd) {
    auto   a   = std::make_shared<RlExportArgs>();
    auto * cmd = rl_cmd.add_subcommand("export", "write GRPO prompts + rule labels (JSONL) for OpenRLHF / verl / TRL and /rule_reward");
    cmd->add_option("--data", a->data, "training inputs (sample JSONL with ground truth: best, or ratings for n = 1)")->required();
    cmd->add_option("-o,--out", a->out, "output JSONL: prompt, messages, label, id, shuffle")->required();
    cmd->add_option("--seed", a->seed, "shuffle seed (stream (seed, shuffle, id, i), as in grm score / grm serve)")->capture_default_str();
    cmd->add_option("-k,--k", a->k, "shuffles (lines) per sample")->check(CLI::Range(1, 1024))->capture_default_str();
    cmd->add_option("--template", a->template_path, "prompt template file (default: grm's)");
    cmd->add_option("--principles", a->principles, "prompt with principles (false: the no-principles ablation)")->capture_default_str();
    cmd->add_flag("--binary-single", a->binary, "one response: the template's 0/1 variant, labelled {\"n\": 1, \"label\": 0|1} from the sample's label");
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
