// RM-Bench loader and style-matrix accuracies.
#include "eval/rm_bench.h"

#include <nlohmann/json.hpp>

namespace grm {

using json = nlohmann::json;

Result<std::vector<Sample>> load_rm_bench(const std::string & dir) {
    std::vector<Sample> out;
    for (const char * domain : { "chat", "code", "safety-refuse", "safety-response" }) {
        std::string path = dir + "/rm-bench/data/" + domain + "_filtered.json";
        auto        doc  = read_json_file(path);
        if (!doc) return doc.error();
        if (!doc->is_array()) return make_error(Errc::invalid_argument, path + ": expected an array");
        for (size_t i = 0; i < doc->size(); i++) {
            const json & it    = (*doc)[i];
            std::string  where = path + " item " + std::to_string(i) + ": ";
            try {
                auto chosen   = it.at("chosen").get<std::vector<std::string>>();
                auto rejected = it.at("rejected").get<std::vector<std::string>>();
                if ((int) chosen.size() != kRmBenchStyles || (int) rejected.size() != kRmBenchStyles) {
                    return make_error(Errc::invalid_argument, where + "expected 3 chosen and 3 rejected responses");
                }
                std::string prompt = it.at("prompt").get<std::string>();
                std::string base   = std::string("rm-bench/") + domain + "/" + it.at("id").dump();
                for (int c = 0; c < kRmBenchStyles; c++) {
                    for (int r = 0; r < kRmBenchStyles; r++) {
                        Sample s;
                        s.id        = base + "/c" + std::to_string(c) + "r" + std::to_string(r);
                        s.source    = "rm-bench";
                        s.domain    = domain;
                        s.level     = c > r ? 1 : c == r ? 2 : 3;
                        s.conversation.push_back({ "user", prompt });
                        s.responses = { chosen[c], rejected[r] };
                        s.best      = 0;
                        if (auto st = validate_sample(s); !st) {
                            return make_error(Errc::invalid_argument, where + st.error().message);
                        }
                        out.push_back(std::move(s));
                    }
                }
            } catch (const json::exception & e) {
                return make_error(Errc::invalid_argument, where + e.what());
            }
        }
    }
    return out;
}

RmBenchScores rm_bench_scores(const std::vector<RmBenchPrompt> & prompts) {
    std::map<std::string, std::pair<std::array<std::array<double, 3>, 3>, int>> sums;
    for (const RmBenchPrompt & p : prompts) {
        std::string d = p.domain.rfind("safety", 0) == 0 ? "safety" : p.domain;
        auto &      s = sums[d];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) s.first[i][j] += p.m[i][j];
        s.second++;
    }
    RmBenchScores r;
    for (const auto & [d, s] : sums) {
        double up = 0, diag = 0, low = 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double a = s.first[i][j] / s.second;
                (i < j ? up : i == j ? diag : low) += a;
            }
        }
        RmBenchAccuracy a;
        a.hard   = up / 3;
        a.normal = diag / 3;
        a.easy   = low / 3;
        a.avg    = (a.hard + a.normal + a.easy) / 3;
        r.domains[d] = a;
        r.overall.hard += a.hard;
        r.overall.normal += a.normal;
        r.overall.easy += a.easy;
        r.overall.avg += a.avg;
    }
    if (!r.domains.empty()) {
        double n = (double) r.domains.size();
        r.overall.hard /= n;
        r.overall.normal /= n;
        r.overall.easy /= n;
        r.overall.avg /= n;
    }
    return r;
}

std::vector<RmBenchPrompt> rm_bench_prompts(const std::vector<BenchPrediction> & predictions, TiePolicy tie) {
    struct Acc {
        RmBenchPrompt p;
        int           seen = 0;
    };
    std::map<std::string, Acc> by_prompt;
    for (const BenchPrediction & pr : predictions) {
        const Truth & t = *pr.truth;
        if (t.source != "rm-bench" || !t.best) continue;
        size_t cut = t.id.rfind('/');
        if (cut == std::string::npos || t.id.size() != cut + 5) continue;
        int c = t.id[cut + 2] - '0', r = t.id[cut + 4] - '0';
        if (c < 0 || c > 2 || r < 0 || r > 2) continue;
        Acc & a     = by_prompt[t.id.substr(0, cut)];
        a.p.domain  = t.domain;
        a.p.m[c][r] = win_credit(pr.rewards, t.n, *t.best, tie, pr.tie_seed);
        a.seen++;
    }
    std::vector<RmBenchPrompt> out;
    for (auto & [id, a] : by_prompt) {
        if (a.seen == kRmBenchStyles * kRmBenchStyles) out.push_back(a.p);
    }
    return out;
}

}  // namespace grm
