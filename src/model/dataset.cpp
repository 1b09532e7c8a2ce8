// Tokenizing, windowing and packing training examples into batches.
#include "model/dataset.h"

#include "core/seed.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>

namespace grm::model {

Example tokenize_example(const LlamaModel & tok, const std::string & prompt, const std::string & completion,
                         TokenizeStats * stats) {
    Example ex;
    if (prompt.empty()) {
        ex.tokens   = tok.tokenize(completion, /*add_special=*/true);
        ex.n_prompt = 0;
    } else {
        auto p    = tok.tokenize(prompt, true);
        auto full = tok.tokenize(prompt + completion, true);
        ex.tokens = p;
        if (full.size() >= p.size() && std::equal(p.begin(), p.end(), full.begin())) {
            ex.tokens.insert(ex.tokens.end(), full.begin() + p.size(), full.end());
        } else {
            auto c = tok.tokenize(completion, false);
            ex.tokens.insert(ex.tokens.end(), c.begin(), c.end());
            if (stats) ++stats->boundary_retoken;
        }
        ex.n_prompt = int32_t(p.size());
    }
    ex.tokens.push_back(tok.eos());
    if (stats) {
        ++stats->examples;
        stats->tokens += int64_t(ex.tokens.size());
    }
    return ex;
}

namespace {

using CompiledEmphasis = std::vector<std::pair<std::regex, float>>;

Result<CompiledEmphasis> compile_emphasis(const std::vector<Emphasis> & rules) {
    CompiledEmphasis out;
    for (const auto & r : rules) {
        try {
            out.emplace_back(std::regex(r.regex, std::regex::ECMAScript), r.weight);
        } catch (const std::regex_error & e) {
            return make_error(Errc::invalid_argument, "--emphasis '" + r.regex + "': " + e.what());
        }
    }
    return out;
}

void apply_compiled(Example & ex, const LlamaModel & tok, const std::string & completion, const CompiledEmphasis & rules,
                    TokenizeStats * stats) {
    if (rules.empty()) return;
    // Character offset of each completion token (the EOS appended last is not part of the text).
    const size_t        first = size_t(ex.n_prompt), last = ex.tokens.size() - 1;
    std::vector<size_t> begin(last - first + 1, 0);
    std::string         spelled;
    for (size_t j = first; j < last; ++j) {
        begin[j - first] = spelled.size();
        spelled += tok.token_to_piece(ex.tokens[j], /*render_special=*/true);
    }
    begin[last - first] = spelled.size();
    if (spelled != completion) {
        if (stats) ++stats->unaligned;
        return;
    }
    std::vector<float> by_char(completion.size(), 0.0f);  // 0: no match covers the character
    for (const auto & [re, weight] : rules) {
        for (auto it = std::sregex_iterator(completion.begin(), completion.end(), re); it != std::sregex_iterator(); ++it)
            for (size_t c = size_t(it->position()); c < size_t(it->position() + it->length()); ++c)
                by_char[c] = std::max(by_char[c], weight);
    }
    ex.weight.assign(ex.tokens.size(), 1.0f);
    for (size_t j = first; j < last; ++j) {
        float w = 0.0f;
        for (size_t c = begin[j - first]; c < begin[j - first + 1]; ++c) w = std::max(w, by_char[c]);
        if (w > 0.0f) {
            ex.weight[j] = w;
            if (stats) ++stats->emphasized;
        }
    }
}

}  // namespace

Status apply_emphasis(Example & ex, const LlamaModel & tok, const std::string & completion,
                      const std::vector<Emphasis> & rules, TokenizeStats * stats) {
    auto compiled = compile_emphasis(rules);
    if (!compiled) return compiled.error();
    apply_compiled(ex, tok, completion, *compiled, stats);
    return ok_status();
}

Result<std::vector<Example>> load_examples(const std::string & path, const LlamaModel & tok, TokenizeStats * stats,
                                           const std::vector<Emphasis> & emphasis) {
    auto rules = compile_emphasis(emphasis);  // once, not per example
    if (!rules) return rules.error();
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open data file " + path);
    const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
    std::vector<Example> out;
    std::string          line;
    int64_t              lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (!jsonl) {
            out.push_back(tokenize_example(tok, "", line, stats));
            continue;
        }
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception & e) {
            return make_error(Errc::invalid_argument, path + ":" + std::to_string(lineno) + ": " + e.what());
        }
        if (j.contains("text") && j["text"].is_string()) {
            out.push_back(tokenize_example(tok, "", j["text"].get<std::string>(), stats));
        } else if (j.contains("prompt") && j.contains("completion") && j["prompt"].is_string() &&
                   j["completion"].is_string()) {
            const auto completion = j["completion"].get<std::string>();
            out.push_back(tokenize_example(tok, j["prompt"].get<std::string>(), completion, stats));
            apply_compiled(out.back(), tok, completion, *rules, stats);
        } else {
            return make_error(Errc::invalid_argument,
                              path + ":" + std::to_string(lineno) + ": expected {\"text\"} or {\"prompt\",\"completion\"}");
        }
    }
    if (out.empty()) return make_error(Errc::invalid_argument, path + ": no examples");
    return out;
}

uint64_t examples_fingerprint(const std::vector<Example> & examples) {
    uint64_t h   = kFnvOffset;  // checkpoints store it: the value must not change
    auto     mix = [&h](uint64_t x) { h = fnv1a_word(h, x); };
    for (const auto & e : examples) {
        mix(uint64_t(e.n_prompt));
        mix(e.tokens.size());
        for (int32_t t : e.tokens) mix(uint32_t(t));
        for (float w : e.weight) {
            uint32_t bits;
            std::memcpy(&bits, &w, sizeof bits);
            mix(bits);
        }
    }
    return h;
}

PackedDataset::PackedDataset(std::vector<Example> examples, int64_t rows_per_batch, int64_t seq, uint64_t seed)
    : examples_(std::move(examples)), rows_per_batch_(std::max<int64_t>(1, rows_per_batch)), seq_(seq), seed_(seed) {
    for (int64_t i = 0; i < int64_t(examples_.size()); ++i) {
        const auto &  e = examples_[i];
        const int64_t n = int64_t(e.tokens.size());
        // Windows start every seq-1 tokens so the last token of one is the first input of the next.
        for (int64_t s = 0; s + 1 < n; s += seq_ - 1) {
            const int64_t len = std::min(seq_, n - s);
            // Targets of this window are tokens s+1 .. s+len-1; skip it if all are prompt.
            if (s + len - 1 >= e.n_prompt) units_.push_back({i, s, len});
            if (s + len >= n) break;
        }
    }
}

void PackedDataset::ensure_epoch(int64_t epoch) {
    if (epoch == packed_epoch_) return;
    // Fisher-Yates with mt19937_64 (fully specified), not std::shuffle (implementation-defined).
    std::vector<int64_t> order(units_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
    std::mt19937_64 rng(stream_seed(seed_, Stream::train_order, 0, uint64_t(epoch)));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);

    // First-fit over the most recent open rows: near-full rows without an O(n^2) search.
    constexpr size_t        k_open = 64;
    std::vector<int64_t>    room;
    std::vector<size_t>     open;  // indices into rows_
    rows_.clear();
    for (int64_t u : order) {
        const auto & unit = units_[u];
        size_t       k    = 0;
        while (k < open.size() && room[open[k]] < unit.length) ++k;
        if (k == open.size()) {
            rows_.emplace_back();
            room.push_back(seq_);
            open.push_back(rows_.size() - 1);
            if (open.size() > k_open) open.erase(open.begin());
            k = open.size() - 1;
        }
        rows_[open[k]].push_back(unit);
        room[open[k]] -= unit.length;
    }
    packed_epoch_ = epoch;
}

int64_t PackedDataset::batches_in_epoch(int64_t epoch) {
    ensure_epoch(epoch);
    return std::max<int64_t>(1, int64_t(rows_.size()) / rows_per_batch_);
}

Batch PackedDataset::next(DataPosition & pos) {
    if (pos.batch >= batches_in_epoch(pos.epoch)) {
        ++pos.epoch;
        pos.batch = 0;
    }
    ensure_epoch(pos.epoch);
    const int64_t B  = std::min<int64_t>(rows_per_batch_, int64_t(rows_.size()));
    const int64_t T  = seq_;
    const int64_t r0 = pos.batch * rows_per_batch_;

    std::vector<int64_t> tok(B * T, 0), tgt(B * T, 0), posn(B * T, 0), doc(B * T, -1);
    std::vector<float>   mask(B * T, 0.0f);
    Batch                out;
    for (int64_t b = 0; b < B; ++b) {
        int64_t col = 0, d = 0;
        for (const auto & unit : rows_[r0 + b]) {
            const auto & e = examples_[unit.example];
            for (int64_t j = 0; j < unit.length; ++j, ++col) {
                const int64_t i = b * T + col, src = unit.start + j;
                tok[i]  = e.tokens[src];
                posn[i] = j;
                doc[i]  = d;
                if (j + 1 < unit.length) {
                    tgt[i]  = e.tokens[src + 1];
                    if (src + 1 >= e.n_prompt) mask[i] = e.weight.empty() ? 1.0f : e.weight[src + 1];
                }
                out.n_targets += mask[i] > 0.0f;
            }
            ++d;
        }
        out.n_real += col;
    }
    auto l        = torch::TensorOptions().dtype(torch::kLong);
    out.tokens    = torch::from_blob(tok.data(), {B, T}, l).clone();
    out.targets   = torch::from_blob(tgt.data(), {B, T}, l).clone();
    out.positions = torch::from_blob(posn.data(), {B, T}, l).clone();
    out.doc       = torch::from_blob(doc.data(), {B, T}, l).clone();
    out.loss_mask = torch::from_blob(mask.data(), {B, T}, torch::kFloat32).clone();
    ++pos.batch;
    return out;
}

}  // namespace grm::model
