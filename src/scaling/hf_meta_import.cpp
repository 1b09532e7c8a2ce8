// Hugging Face classification head -> grm meta RM head file.
#include "scaling/hf_meta_import.h"

#include "core/prompt.h"
#include "llama/llama_model.h"
#include "scaling/safetensors.h"

#include <llama.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace grm::scaling {

namespace {

std::string shape_str(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Tensors outside the backbone ("model.*") or named like a head: what a checkpoint without
// score.weight has instead (lm_head.weight for a causal LM, v_head / classifier for other RMs).
// At most 10 named, then a count (a checkpoint with another prefix has thousands).
std::string head_like(const std::vector<SafetensorsFile> & files) {
    std::string out;
    size_t      n = 0;
    for (const auto & f : files)
        for (const auto & t : f.tensors) {
            const bool backbone = t.name.rfind("model.", 0) == 0;
            bool       named    = false;
            for (const char * w : {"score", "classifier", "head", "reward"}) named |= t.name.find(w) != std::string::npos;
            if ((!backbone || named) && n++ < 10) out += (out.empty() ? "" : ", ") + t.name + " " + shape_str(t.shape);
        }
    if (n > 10) out += " and " + std::to_string(n - 10) + " more";
    return out.empty() ? "none outside model.*" : out;
}

}  // namespace

Result<ScalarHead> read_hf_score_head(const std::string & dir) {
    const std::string cfg_path = (std::filesystem::path(dir) / "config.json").string();
    std::ifstream     in(cfg_path);
    if (!in) return make_error(Errc::not_found, "no " + cfg_path);
    int64_t hidden = 0, labels = -1;
    try {
        const auto cfg = nlohmann::json::parse(in);
        if (!cfg.contains("hidden_size")) return make_error(Errc::invalid_argument, cfg_path + ": no hidden_size");
        hidden = cfg.at("hidden_size").get<int64_t>();
        if (cfg.contains("num_labels")) labels = cfg.at("num_labels").get<int64_t>();
        else if (cfg.contains("id2label")) labels = int64_t(cfg.at("id2label").size());
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, cfg_path + ": " + e.what());
    }
    if (labels != -1 && labels != 1)
        return make_error(Errc::invalid_argument, cfg_path + ": num_labels is " + std::to_string(labels) +
                                                      "; a meta RM has one logit (num_labels 1)");
    auto files = open_safetensors_dir(dir);
    if (!files) return files.error();
    const SafetensorsFile *   wf = nullptr;
    const SafetensorsTensor * w = nullptr, *b = nullptr;
    const SafetensorsFile *   bf = nullptr;
    for (const auto & f : *files) {
        if (auto * t = f.find("score.weight")) w = t, wf = &f;
        if (auto * t = f.find("score.bias")) b = t, bf = &f;
    }
    if (w == nullptr)
        return make_error(Errc::invalid_argument, "'" + dir + "' has no score.weight (the head of a *ForSequenceClassification "
                                                  "model); head-like tensors found: " + head_like(*files));
    if (w->shape != std::vector<int64_t>{1, hidden})
        return make_error(Errc::invalid_argument, wf->path + ": score.weight has shape " + shape_str(w->shape) +
                                                      ", expected [1, " + std::to_string(hidden) + "] (one logit over hidden_size)");
    if (b != nullptr && b->shape != std::vector<int64_t>{1})
        return make_error(Errc::invalid_argument, bf->path + ": score.bias has shape " + shape_str(b->shape) + ", expected [1]");
    ScalarHead head;
    auto       weight = read_safetensors_f32(*wf, *w);
    if (!weight) return weight.error();
    head.weight = std::move(*weight);
    if (b != nullptr) {
        auto bias = read_safetensors_f32(*bf, *b);
        if (!bias) return bias.error();
        head.bias = (*bias)[0];
    }
    return head;
}

Result<ScalarHead> import_hf_meta_rm(const MetaImport & m) {
    auto head = read_hf_score_head(m.hf_dir);
    if (!head) return head.error();
    if (!m.template_path.empty()) {
        std::ifstream in(m.template_path);
        if (!in) return make_error(Errc::not_found, "cannot open template file '" + m.template_path + "'");
        std::stringstream ss;
        ss << in.rdbuf();
        if (auto t = parse_template(ss.str(), m.template_path); !t) return t.error();
        head->chat   = true;
        head->prompt = ss.str();
    }
    auto model = LlamaModel::load(m.gguf);
    if (!model) return model.error();
    const int n_embd = llama_model_n_embd((*model)->get());
    if (n_embd != int(head->weight.size()))
        return make_error(Errc::invalid_argument, "score.weight has " + std::to_string(head->weight.size()) + " columns but '" +
                                                      m.gguf + "' has n_embd " + std::to_string(n_embd) + " (another model's backbone?)");
    if (head->chat)  // the chat layout needs the GGUF's own chat template
        if (auto t = (*model)->apply_chat_template({{"user", "x"}, {"assistant", "y"}}, false); !t) return t.error();
    head->kind = "meta";
    if (auto st = save_head(head_path(m.gguf), *head); !st) return st.error();
    return head;
}

}  // namespace grm::scaling
