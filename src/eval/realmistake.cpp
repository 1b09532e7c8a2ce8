// ReaLMistake loader (temporary extraction) and metrics.
#include "eval/realmistake.h"

#include "eval/metrics.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace grm {

namespace fs = std::filesystem;
using json   = nlohmann::json;

namespace {

std::string shell_quote(const std::string & s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

// Removes the extracted text however the loader exits.
struct TempDir {
    std::string path;
    ~TempDir() {
        if (!path.empty()) {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    }
};

}  // namespace

Result<std::vector<Sample>> load_realmistake(const std::string & dir) {
    const std::string zip = dir + "/realmistake/data.zip";
    if (!fs::exists(zip)) return make_error(Errc::not_found, "cannot find " + zip);
    std::string templ = (fs::temp_directory_path() / "grm-realmistake-XXXXXX").string();
    if (!::mkdtemp(templ.data())) return make_error(Errc::io, "cannot create a temporary directory");
    TempDir tmp{ templ };
    std::string quiet = " >/dev/null 2>&1";
    std::string unzip = "unzip -q -o -P " + std::string(kRealMistakePassword) + " " + shell_quote(zip) + " -d " +
                        shell_quote(tmp.path) + quiet;
    std::string sevenz = "7z x -y -p" + std::string(kRealMistakePassword) + " " + shell_quote("-o" + tmp.path) + " " +
                         shell_quote(zip) + quiet;
    if (std::system(unzip.c_str()) != 0 && std::system(sevenz.c_str()) != 0) {
        return make_error(Errc::unavailable, "cannot extract " + zip + ": need unzip or 7z on PATH");
    }
    std::vector<Sample> out;
    for (const char * task : { "answerability_classification", "finegrained_fact_verification", "math_word_problem_generation" }) {
        for (const char * model : { "gpt-4-0613", "Llama-2-70b-chat-hf" }) {
            std::string   path = tmp.path + "/data/" + task + "/" + model + ".jsonl";
            std::string   shown = std::string("data.zip!data/") + task + "/" + model + ".jsonl";
            std::ifstream in(path);
            if (!in) return make_error(Errc::not_found, "archive lacks " + shown);
            std::string line;
            int         lineno = 0;
            while (std::getline(in, line)) {
                lineno++;
                if (line.empty()) continue;
                std::string where = shown + ":" + std::to_string(lineno) + ": ";
                json        j     = json::parse(line, nullptr, false);
                if (j.is_discarded()) return make_error(Errc::invalid_argument, where + "not valid JSON");
                try {
                    std::string label = j.at("error_label").get<std::string>();
                    if (label != "error" && label != "no_error") {
                        return make_error(Errc::invalid_argument, where + "error_label '" + label + "'");
                    }
                    Sample s;
                    s.id     = std::string("realmistake/") + task + "/" + j.at("metadata").at("id").get<std::string>();
                    s.source = "realmistake";
                    s.domain = task;
                    s.conversation.push_back({ "user", j.at("input").get<std::string>() });
                    s.responses = { j.at("llm_response").get<std::string>() };
                    s.label     = label == "no_error" ? 1 : 0;
                    if (auto st = validate_sample(s); !st) return make_error(Errc::invalid_argument, where + st.error().message);
                    out.push_back(std::move(s));
                } catch (const json::exception & e) {
                    return make_error(Errc::invalid_argument, where + e.what());
                }
            }
        }
    }
    return out;
}

RealMistakeMetrics realmistake_metrics(const std::vector<RealMistakeExample> & ex) {
    RealMistakeMetrics m;
    int tp = 0, tn = 0, fp = 0, fn = 0;
    for (const RealMistakeExample & e : ex) {
        m.total++;
        m.gold_error_num += e.gold_error;
        if (e.prediction == "error") {
            m.prediction_error_num++;
            (e.gold_error ? tp : fp)++;
        } else if (e.prediction == "no_error") {
            (e.gold_error ? fn : tn)++;
        }
    }
    if (m.total == 0) return m;
    double n           = m.total;
    m.accuracy         = (tp + tn) / n;
    m.precision        = m.prediction_error_num ? (double) tp / m.prediction_error_num : 0.0;
    m.recall           = m.gold_error_num ? (double) tp / m.gold_error_num : 0.0;
    m.f1               = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    m.true_negative_rate  = tn / n;
    m.false_positive_rate = fp / n;
    m.false_negative_rate = fn / n;
    m.true_positive_rate  = tp / n;
    return m;
}

std::vector<RealMistakeExample> realmistake_examples(const std::vector<BenchPrediction> & predictions) {
    std::vector<RealMistakeExample> out;
    for (const BenchPrediction & p : predictions) {
        if (p.truth->source != "realmistake" || !p.truth->label) continue;
        RealMistakeExample e;
        e.gold_error = *p.truth->label == 0;
        if (p.n_voted == 0 || p.rewards.empty()) e.prediction = "invalid";
        else e.prediction = p.rewards[0] / p.n_voted >= kAcceptableScore ? "no_error" : "error";
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<double> realmistake_auc(const std::vector<BenchPrediction> & predictions, int * unscored) {
    std::vector<double> scores;
    std::vector<int>    labels;
    int                 missing = 0;
    for (const BenchPrediction & p : predictions) {
        if (p.truth->source != "realmistake" || !p.truth->label) continue;
        if (p.n_voted == 0 || p.rewards.empty()) {
            missing++;
            continue;
        }
        scores.push_back(p.rewards[0] / p.n_voted);
        labels.push_back(*p.truth->label);
    }
    if (unscored) *unscored = missing;
    return roc_auc(scores, labels);
}

}  // namespace grm
