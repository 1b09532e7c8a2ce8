// grm-spm: trains grm's SentencePiece BPE tokenizer, exports it as a vocab-only GGUF for
// llama.cpp, and encodes text with SentencePiece (the reference ids the tokenizer test checks
// llama.cpp against). The only grm process that links SentencePiece.
#include "spm_vocab.h"
#include "../research_flags.h"
#include "core/atomic_file.h"

#include "core/prompt.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace {

std::string default_prefix(const std::string & gguf) {
    const std::string ext = ".gguf";
    if (gguf.size() > ext.size() && gguf.compare(gguf.size() - ext.size(), ext.size(), ext) == 0) {
        return gguf.substr(0, gguf.size() - ext.size());
    }
    return gguf;
}

int fail(const grm::Error & e) {
    std::cerr << "grm-spm: " << e.to_string() << "\n";
    return 1;
}

// One JSON string per line: texts to encode, or word pieces (which may start with a space).
grm::Result<std::vector<std::string>> read_json_strings(const std::string & path) {
    std::ifstream in(path);
    if (!in) return grm::make_error(grm::Errc::not_found, "cannot open '" + path + "'");
    std::vector<std::string> strings;
    int                      line_no = 0;
    for (std::string line; std::getline(in, line);) {
        line_no++;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_string()) {
            return grm::make_error(grm::Errc::invalid_argument, path + ":" + std::to_string(line_no) + ": not a JSON string");
        }
        strings.push_back(j.get<std::string>());
    }
    return strings;
}

// markers > 0: the prompt's response-block markers for up to that many responses, appended; then
// the whole-word pieces of words_path (if given), appended after them.
int export_gguf(const std::string & model, int markers, const std::string & words_path, const std::string & out) {
    auto v = grm::spm::load_vocab(model);
    if (!v) return fail(v.error());
    std::vector<std::string> pieces;
    const auto               add = [&](const std::pair<std::string, std::string> & m) {
        pieces.push_back(m.first);
        pieces.push_back(m.second);
    };
    if (markers > 0) add(grm::response_markers(0, /*single=*/true));
    for (int p = 0; p < markers; p++) add(grm::response_markers(p, /*single=*/false));
    if (!words_path.empty()) {
        auto words = read_json_strings(words_path);
        if (!words) return fail(words.error());
        pieces.insert(pieces.end(), words->begin(), words->end());
    }
    if (auto st = grm::spm::append_user_pieces(*v, pieces); !st) return fail(st.error());
    // Without the space llama.cpp puts after a special piece, a block's text follows its marker
    // exactly as it follows it in a quote (with it, every block would start with the same "▁").
    if (markers > 0 || !words_path.empty()) v->add_space_prefix = false;
    if (auto st = grm::spm::write_vocab_gguf(out, *v); !st) return fail(st.error());
    std::cerr << "wrote " << out << " (" << v->pieces.size() << " pieces)\n";
    return 0;
}

}  // namespace

using grm::cli::research_flag;

int main(int argc, char ** argv) {
    CLI::App app{ "grm-spm: SentencePiece BPE tokenizer for grm (training, GGUF vocab export, reference encoding)" };
    app.require_subcommand(1);

    grm::spm::TrainOptions to;
    std::string            train_out;
    int         markers = 0, word_pieces = 0;
    std::string words_path;
    const char * words_help = "a single-character SentencePiece model (letters never merge, so a word can be spelled "
                              "and reversed by copying) plus the N most frequent words (2+ letters after a space, or "
                              "capitalised at a line start) as whole user-defined pieces; writes PREFIX.words";
    const char * markers_help = "append the prompt's response-block marker lines ([Response], [End of Response], "
                                "[Response k], [End of Response k] for k = 1..N, each with its newline) as "
                                "user-defined pieces after the model's own, and turn off llama.cpp's space prefix: "
                                "each marker is one token, the text after it tokenizes as anywhere else, and every "
                                "other id stays as it is";
    CLI::App *             train = app.add_subcommand("train", "train a BPE tokenizer and write its vocab GGUF");
    train->add_option("--input", to.input, "training text, one sentence per line")->required();
    train->add_option("--vocab-size", to.vocab_size, "pieces in the vocabulary")->capture_default_str();
    train->add_option("--out", train_out, "vocab-only GGUF to write")->required();
    train->add_option("--model-prefix", to.model_prefix, "SentencePiece model prefix (default: --out without .gguf)");
    train->add_option("--threads", to.threads, "training threads")->capture_default_str();
    train->add_option("--max-lines", to.max_lines, "train on the first N lines only (0: all)")->capture_default_str();
    research_flag(train->add_option("--response-markers", markers, markers_help)->check(CLI::Range(0, 64)));
    research_flag(train->add_option("--word-pieces", word_pieces, words_help)->check(CLI::Range(1, 100000)));
    train->callback([&]() {
        if (to.model_prefix.empty()) to.model_prefix = default_prefix(train_out);
        to.single_chars = word_pieces > 0;
        if (auto st = grm::spm::train_bpe(to); !st) std::exit(fail(st.error()));
        if (word_pieces > 0) {
            auto words = grm::spm::frequent_words(to.input, word_pieces, to.max_lines);
            if (!words) std::exit(fail(words.error()));
            words_path = to.model_prefix + ".words";
            auto st = grm::write_file_atomic(words_path, [&](std::ostream & f) {
                for (const auto & w : *words) f << nlohmann::json(w).dump() << "\n";
            });
            if (!st) std::exit(fail(st.error()));
        }
        std::exit(export_gguf(to.model_prefix + ".model", markers, words_path, train_out));
    });

    std::string model, out;
    CLI::App *  exp = app.add_subcommand("export", "write the vocab-only GGUF of a SentencePiece model");
    exp->add_option("--model", model, "SentencePiece .model")->required();
    exp->add_option("--out", out, "GGUF to write")->required();
    research_flag(exp->add_option("--response-markers", markers, markers_help)->check(CLI::Range(0, 64)));
    research_flag(exp->add_option("--words", words_path, "whole-word pieces to append after the markers (a .words file of train --word-pieces)"));
    exp->callback([&]() { std::exit(export_gguf(model, markers, words_path, out)); });

    std::string enc_model, enc_input, enc_text;
    CLI::App *  enc = app.add_subcommand("encode", "print SentencePiece ids as JSON arrays, one line per input");
    enc->add_option("--model", enc_model, "SentencePiece .model")->required();
    enc->add_option("--input", enc_input, "JSONL file, each line a JSON string to encode");
    enc->add_option("--text", enc_text, "a single text to encode");
    enc->callback([&]() {
        std::vector<std::string> texts = { enc_text };
        if (!enc_input.empty()) {
            auto read = read_json_strings(enc_input);
            if (!read) std::exit(fail(read.error()));
            texts = std::move(*read);
        }
        auto ids = grm::spm::encode(enc_model, texts);
        if (!ids) std::exit(fail(ids.error()));
        for (const auto & v : *ids) std::cout << nlohmann::json(v).dump() << "\n";
        std::exit(0);
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    }
    return 0;
}
