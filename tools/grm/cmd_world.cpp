// `grm world`: the judge world. gen writes a split as JSONL samples, rft writes SPCT stage-1 data
// (rejective fine-tuning over teacher trajectories plus plain answers), corpus writes the
// curriculum of plain skills, teacher measures the teacher's own accuracy on a split.
#include "commands.h"
#include "../research_flags.h"
#include "core/atomic_file.h"

#include "core/sample.h"
#include "world/corpus.h"
#include "world/generator.h"
#include "world/rft.h"
#include "world/teacher.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace grm::cli {

namespace {

struct GenArgs {
    std::string split = "train";
    int         count = 1000;
    uint64_t    seed  = 1;
    std::string out;
    std::string domains;  // comma-separated; empty: all
    int         level = 0;
    int         n     = 0;
    std::string style = "standard";  // training data is never held-out style
};

void add_style_flag(CLI::App & cmd, GenArgs & a) {
    cmd.add_option("--style", a.style,
                   "surface bank: standard; heldout (written apart, never in training data; dev/test only); varied (many "
                   "more phrasings and composed safety requests, for training; its test split has its own safety objects)")
        ->check(CLI::IsMember({ "standard", "heldout", "varied" }))
        ->capture_default_str();
}

// The style of a gen/teacher/rft run; the held-out bank never goes into a train split.
Result<world::SurfaceStyle> surface_style(const GenArgs & a) {
    auto s = world::surface_style_from_name(a.style);
    if (!s) return make_error(Errc::invalid_argument, "unknown --style '" + a.style + "' (standard, heldout or varied)");
    if (*s == world::SurfaceStyle::heldout && a.split == "train") {
        return make_error(Errc::invalid_argument, "--style heldout is for --split dev or test: no training data is written in it");
    }
    return *s;
}

void add_gen_flags(CLI::App & cmd, GenArgs & a) {
    cmd.add_option("--split", a.split, "train, dev or test (test uses the held-out lexicon)")
        ->check(CLI::IsMember({ "train", "dev", "test" }))
        ->capture_default_str();
    cmd.add_option("--count", a.count, "number of inputs")->capture_default_str();
    cmd.add_option("--seed", a.seed, "seed; item i depends only on (split, seed, i)")->capture_default_str();
    cmd.add_option("--domains", a.domains, "comma-separated subset of arith,sort,reverse,count,compare,format,lookup,list,safety");
    cmd.add_option("--level", a.level, "1-3 only (0: levels 1-3 in rotation)")->check(CLI::Range(0, 3))->capture_default_str();
    cmd.add_option("--n", a.n, "responses per input (0: the spec's mix of 1-4)")->check(CLI::Range(0, 4))->capture_default_str();
}

Result<world::GenParams> gen_params(const GenArgs & a) {
    world::GenParams p;
    p.split = *world::split_from_name(a.split);
    p.count = a.count;
    p.seed  = a.seed;
    p.level = a.level;
    p.n     = a.n;
    std::stringstream ss(a.domains);
    for (std::string d; std::getline(ss, d, ',');) {
        if (d.empty()) continue;
        auto dom = world::domain_from_name(d);
        if (!dom) return make_error(Errc::invalid_argument, "unknown domain '" + d + "'");
        p.domains.push_back(*dom);
    }
    return p;
}

int fail(const std::string & what, const Error & e) {
    std::cerr << "grm world " << what << ": " << e.to_string() << "\n";
    return 1;
}

int run_gen(const GenArgs & a) {
    auto p = gen_params(a);
    if (!p) return fail("gen", p.error());
    auto style = surface_style(a);
    if (!style) return fail("gen", style.error());
    std::vector<nlohmann::json> lines;
    for (const auto & item : world::generate(*p, *style)) {
        if (auto st = validate_sample(item.sample); !st) return fail("gen", st.error());
        lines.push_back(sample_to_json(item.sample));
    }
    if (auto st = world::write_jsonl(a.out, lines); !st) return fail("gen", st.error());
    std::cerr << "wrote " << lines.size() << " samples (" << a.split << ", " << a.style << " style, seed " << a.seed << ") to " << a.out << "\n";
    return 0;
}

struct RftArgs {
    GenArgs     gen;
    double      fallibility = 0.15;
    int         samples     = 3;
    bool        no_hinted   = false;
    bool        no_principles = false;
    bool        quote         = false;
    bool        match_words   = false;
    double      answers     = 1.0;
    std::string report;
};

int run_rft(const RftArgs & a) {
    auto p = gen_params(a.gen);
    if (!p) return fail("rft", p.error());
    auto style = surface_style(a.gen);
    if (!style) return fail("rft", style.error());
    world::RftParams rp;
    rp.gen                 = *p;
    rp.style               = *style;
    rp.teacher.fallibility = a.fallibility;
    rp.teacher.principles  = !a.no_principles;
    rp.teacher.quote       = a.quote;
    rp.teacher.match_words = a.match_words;
    rp.samples             = a.samples;
    rp.hinted              = !a.no_hinted;
    rp.answers             = a.answers;
    auto rep               = world::write_rft(rp, a.gen.out);
    if (!rep) return fail("rft", rep.error());
    const std::string md = rep->markdown(rp);
    std::cout << md;
    if (!a.report.empty()) {
        if (auto st = write_text_atomic(a.report, md); !st) return fail("rft", st.error());
    }
    return 0;
}

struct CorpusArgs {
    int         count = 10000;
    uint64_t    seed  = 1;
    std::string out;
    std::string format = "jsonl";
    bool        quote_drill = false;
    bool        repeat_drill = false;
    bool        match_drill  = false;
};

int run_corpus(const CorpusArgs & a) {
    world::CorpusParams p;
    p.count = a.count;
    p.seed  = a.seed;
    const auto recs = a.quote_drill    ? world::make_quote_drill(p)
                      : a.repeat_drill ? world::make_repeat_drill(p)
                      : a.match_drill  ? world::make_match_drill(p)
                                       : world::make_corpus(p);
    if (a.format == "jsonl") {
        std::vector<nlohmann::json> lines;
        for (const auto & r : recs) {
            lines.push_back({ { "prompt", r.prompt }, { "completion", r.completion }, { "skill", r.skill }, { "domain", r.domain } });
        }
        if (auto st = world::write_jsonl(a.out, lines); !st) return fail("corpus", st.error());
    } else {
        // Plain text for tokenizer training: prompt and completion, a blank line between records.
        auto st = write_file_atomic(a.out, [&](std::ostream & out) {
            for (const auto & r : recs) out << r.prompt << "\n" << r.completion << "\n\n";
        });
        if (!st) return fail("corpus", st.error());
    }
    std::cerr << "wrote " << recs.size() << " records to " << a.out << "\n";
    return 0;
}

struct TeacherArgs {
    GenArgs gen;
    double  fallibility = 0.15;
    int     samples     = 1;
    bool    no_principles = false;
};

int run_teacher(const TeacherArgs & a) {
    auto p = gen_params(a.gen);
    if (!p) return fail("teacher", p.error());
    auto style = surface_style(a.gen);
    if (!style) return fail("teacher", style.error());
    world::TeacherParams tp;
    tp.fallibility = a.fallibility;
    tp.principles  = !a.no_principles;
    const auto items = world::generate(*p, *style);
    const auto ev    = world::evaluate_teacher(items, tp, a.gen.seed, a.samples);
    std::printf("# Teacher accuracy (correctness rule, ties wrong): split %s, %s style, count %d, seed %llu, fallibility %.3f, %d sample(s) per input\n\n",
                a.gen.split.c_str(), a.gen.style.c_str(), a.gen.count, (unsigned long long) a.gen.seed, a.fallibility, a.samples);
    std::cout << ev.markdown();
    return 0;
}

}  // namespace

void register_world(CLI::App & app) {
    CLI::App * world = app.add_subcommand("world", "the judge world: generate splits, RFT data, curriculum corpus");
    world->require_subcommand(1);

    auto       ga  = std::make_shared<GenArgs>();
    CLI::App * gen = world->add_subcommand("gen", "write a split as JSONL samples");
    add_gen_flags(*gen, *ga);
    add_style_flag(*gen, *ga);
    gen->add_option("--out", ga->out, "output JSONL")->required();
    gen->callback([ga]() { std::exit(run_gen(*ga)); });

    auto       ra  = std::make_shared<RftArgs>();
    CLI::App * rft = world->add_subcommand("rft", "write rejective fine-tuning data (SPCT stage 1) from the train split");
    // --split dev/test: the same trajectories on held-out items, for teacher-forced probes only.
    add_gen_flags(*rft, ra->gen);
    add_style_flag(*rft, ra->gen);
    rft->add_option("--out", ra->gen.out, "output JSONL of {prompt, completion, ...}")->required();
    rft->add_option("--report", ra->report, "also write the kept/rejected/dropped table (Markdown) here");
    rft->add_option("--fallibility", ra->fallibility, "teacher mistake rate per level (p = fallibility * level)")->capture_default_str();
    rft->add_option("--samples", ra->samples, "N_RFT teacher samples per input")->check(CLI::Range(1, 64))->capture_default_str();
    rft->add_flag("--no-hinted", ra->no_hinted, "no hinted sample");
    rft->add_flag("--no-principles", ra->no_principles, "trajectories without criteria (the ablation)");
    research_flag(rft->add_flag("--quote", ra->quote, "quote each response verbatim (as the prompt frames it) before its line"));
    research_flag(rft->add_flag("--match-words", ra->match_words,
                                "say 'same' or 'different' (restated vs computed answer) before each verdict, as the match skill does"));
    rft->add_option("--answers", ra->answers, "plain answers per input (general instruction data)")->capture_default_str();
    rft->callback([ra]() { std::exit(run_rft(*ra)); });

    auto       ca     = std::make_shared<CorpusArgs>();
    CLI::App * corpus = world->add_subcommand("corpus", "write the curriculum corpus (skills as plain tasks, train lexicon)");
    corpus->add_option("--count", ca->count, "records")->capture_default_str();
    corpus->add_option("--seed", ca->seed, "seed")->capture_default_str();
    corpus->add_option("--out", ca->out, "output file")->required();
    corpus->add_option("--format", ca->format, "jsonl ({prompt, completion, skill}) or text (for tokenizer training)")
        ->check(CLI::IsMember({ "jsonl", "text" }))
        ->capture_default_str();
    auto * quote = research_flag(
        corpus->add_flag("--quote-drill", ca->quote_drill, "instead: judge prompts whose completion quotes every response back"));
    auto * repeat = research_flag(
        corpus->add_flag("--repeat-drill", ca->repeat_drill, "instead: random text to repeat back (forms in-context copying)")
            ->excludes(quote));
    research_flag(corpus->add_flag("--match-drill", ca->match_drill, "instead: random answer pairs to copy and call same or different")
                      ->excludes(quote)
                      ->excludes(repeat));
    corpus->callback([ca]() { std::exit(run_corpus(*ca)); });

    auto       ta      = std::make_shared<TeacherArgs>();
    CLI::App * teacher = world->add_subcommand("teacher", "measure the teacher's accuracy on a split (per domain and level)");
    ta->gen.split = "test";
    add_gen_flags(*teacher, ta->gen);
    add_style_flag(*teacher, ta->gen);
    teacher->add_option("--fallibility", ta->fallibility, "teacher mistake rate per level")->capture_default_str();
    teacher->add_option("--samples", ta->samples, "teacher samples per input")->capture_default_str();
    teacher->add_flag("--no-principles", ta->no_principles, "trajectories without criteria");
    teacher->callback([ta]() { std::exit(run_teacher(*ta)); });
}

}  // namespace grm::cli
