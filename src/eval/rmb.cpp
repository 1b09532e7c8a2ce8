// RMB loader and per-file averaged accuracy.
#include "eval/rmb.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace grm {

namespace fs = std::filesystem;
using json   = nlohmann::json;

namespace {

std::vector<Message> conversation_of(const json & c) {
    std::vector<Message> out;
    for (const json & m : c) out.push_back({ m.at("role").get<std::string>(), m.at("content").get<std::string>() });
    return out;
}

}  // namespace

Result<std::vector<Sample>> load_rmb(const std::string & dir) {
    const fs::path root = fs::path(dir) / "rmb" / "RMB_dataset";
    if (!fs::is_directory(root)) return make_error(Errc::not_found, "no RMB data in " + root.string());
    std::vector<fs::path> files;
    for (const auto & e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<Sample> out;
    for (const fs::path & f : files) {
        auto doc = read_json_file(f.string());
        if (!doc) return doc.error();
        std::string rel = fs::relative(f, root).replace_extension("").generic_string();
        bool        bon = rel.rfind("BoN_set/", 0) == 0;
        if (!doc->is_array()) return make_error(Errc::invalid_argument, f.string() + ": expected an array");
        for (size_t i = 0; i < doc->size(); i++) {
            const json & it    = (*doc)[i];
            std::string  where = f.string() + " item " + std::to_string(i) + ": ";
            try {
                Sample s;
                std::string path = it.value("category_path", rel);
                std::string uid  = bon ? it.at("bon_uid").get<std::string>() : it.at("pair_uid").get<std::string>();
                s.id             = "rmb/" + path + "/" + uid;
                s.source         = "rmb";
                s.domain         = path.substr(0, path.find('/', path.find('/') + 1));
                s.conversation   = conversation_of(it.at("conversation_input"));
                if (bon) {
                    s.responses.push_back(it.at("bon_best").at("answer").get<std::string>());
                    for (const json & l : it.at("loser_list")) s.responses.push_back(l.at("answer").get<std::string>());
                } else {
                    s.responses = { it.at("chosen").at("answer").get<std::string>(),
                                    it.at("reject").at("answer").get<std::string>() };
                }
                s.best = 0;
                if (auto st = validate_sample(s); !st) return make_error(Errc::invalid_argument, where + st.error().message);
                out.push_back(std::move(s));
            } catch (const json::exception & e) {
                return make_error(Errc::invalid_argument, where + e.what());
            }
        }
    }
    return out;
}

RmbScores rmb_scores(const std::vector<RmbExample> & examples) {
    std::map<std::string, std::pair<double, int>> files;
    for (const RmbExample & e : examples) {
        files[e.category_path].first += e.credit;
        files[e.category_path].second += 1;
    }
    RmbScores                                     r;
    std::map<std::string, std::pair<double, int>> groups;
    for (const auto & [path, v] : files) {
        double acc      = v.first / v.second;
        r.per_file[path] = acc;
        // "Pairwise_set/Helpfulness/..." -> "Helpfulness pairwise"
        size_t      a     = path.find('/');
        std::string set   = path.substr(0, a);
        std::string topic = path.substr(a + 1, path.find('/', a + 1) - a - 1);
        std::string group = topic + (set == "BoN_set" ? " best-of-N" : " pairwise");
        groups[group].first += acc;
        groups[group].second += 1;
    }
    double sum = 0;
    for (const auto & [g, v] : groups) {
        r.groups[g] = v.first / v.second;
        sum += r.groups[g];
    }
    r.overall = groups.empty() ? 0.0 : sum / groups.size();
    return r;
}

std::vector<RmbExample> rmb_examples(const std::vector<BenchPrediction> & predictions, TiePolicy tie) {
    std::vector<RmbExample> out;
    for (const BenchPrediction & p : predictions) {
        if (p.truth->source != "rmb" || !p.truth->best) continue;
        out.push_back({ id_group(p.truth->id), win_credit(p.rewards, p.truth->n, *p.truth->best, tie, p.tie_seed) });
    }
    return out;
}

}  // namespace grm
