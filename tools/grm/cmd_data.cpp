// `grm data import`: public preference data (pairwise, listwise, preference strength, attribute
// ratings, single 0/1) into grm's sample JSONL, with a counts report per file.
#include "commands.h"

#include "core/atomic_file.h"
#include "data/preference_import.h"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace grm::cli {

namespace {

struct DataImportArgs {
    std::vector<std::string> files;
    std::string              out;
    std::string              shape = "auto";
    std::string              source;  // default: each file's stem
    bool                     skip_bad = false;
    data::ImportParams       params;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm data import: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(DataImportArgs & a) {
    if (a.shape != "auto") {
        a.params.shape = data::row_shape_from_name(a.shape);
        if (!a.params.shape) return fail(make_error(Errc::invalid_argument, "--shape '" + a.shape + "' (known: auto, pairwise, listwise, strength, ratings, single)"));
    }
    std::string lines;
    long        total = 0;
    for (const std::string & f : a.files) {
        data::ImportParams p = a.params;
        p.source             = a.source.empty() ? std::filesystem::path(f).stem().string() : a.source;
        auto r               = data::import_file(f, p, a.skip_bad);
        if (!r) return fail(r.error());
        for (const auto & im : r->samples) lines += data::imported_to_json(im).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
        total += (long) r->samples.size();
        // One report line per file: what came in, what went out, and why the rest did not.
        std::string shapes, dropped;
        for (const auto & [k, v] : r->rows_by_shape) shapes += (shapes.empty() ? "" : ", ") + k + " " + std::to_string(v);
        for (const auto & [k, v] : r->dropped_by_reason) dropped += (dropped.empty() ? "" : ", ") + k + " " + std::to_string(v);
        const std::string drop = std::to_string(r->dropped) + (dropped.empty() ? "" : " (" + dropped + ")");
        std::fprintf(stderr, "grm data import: %s (source %s): %ld rows (%s) -> %zu samples; dropped %s; malformed %zu\n",
                     f.c_str(), p.source.c_str(), r->rows, shapes.empty() ? "none" : shapes.c_str(), r->samples.size(),
                     drop.c_str(), r->skipped.size());
        for (const auto & s : r->skipped) std::fprintf(stderr, "  skipped %s\n", s.c_str());
    }
    if (auto st = write_text_atomic(a.out, lines); !st) return fail(st.error());
    std::fprintf(stderr, "grm data import: %ld samples -> %s\n", total, a.out.c_str());
    return 0;
}

}  // namespace

void register_data(CLI::App & app) {
    auto * data = app.add_subcommand("data", "training data for SPCT from public preference sets");
    data->require_subcommand(1);
    auto   a   = std::make_shared<DataImportArgs>();
    auto * cmd = data->add_subcommand("import", "preference rows (JSONL or a JSON array) -> grm samples with best, ratings or label");
    cmd->add_option("files", a->files, "input files")->required()->check(CLI::ExistingFile);
    cmd->add_option("-o,--out", a->out, "output sample JSONL (written whole or not at all)")->required();
    cmd->add_option("--shape", a->shape, "row shape: auto (by keys), pairwise, listwise, strength, ratings, single")->capture_default_str();
    cmd->add_option("--source", a->source, "the samples' source (default: each file's stem)");
    cmd->add_option("--overall", a->params.overall, "ratings rows: the attribute, or WEIGHT*ATTR + ..., that ranks responses")->capture_default_str();
    cmd->add_option("--rating-max", a->params.rating_max, "ratings rows: attribute scale 0..MAX, mapped onto 1..10")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_flag("--skip-bad", a->skip_bad, "skip malformed rows (listed and counted) instead of stopping at the first");
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
