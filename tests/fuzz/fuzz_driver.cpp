// A stand-in for libFuzzer where there is none (gcc, CI): runs every file of a seed corpus through
// LLVMFuzzerTestOneInput, then a fixed number of seeded random mutations of them (byte flips,
// inserts, deletes, splices, tokens from a small dictionary), bounded in count and time. Same
// seed, same inputs. A crash, sanitizer report or failed invariant ends the process non-zero.
//
//   fuzz_TARGET CORPUS_DIR [--runs N] [--seed S] [--max-seconds T] [--max-len L]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

namespace {

// Bytes that matter to the decoders under test: JSON structure, escapes, huge numbers, chat
// markers, the judgment's box.
const char * const k_tokens[] = { "[", "]", "{", "}", "\"", "\\", "\\\"", ":", ",", "1e400", "-1e400", "1e-400",
                                  "18446744073709551616", "-9223372036854775809", "null", "true", "\"k\":",
                                  "\"query\":", "\"responses\":", "\"messages\":", "\"prompt\":", "\"stream\":",
                                  "\"conversation\":", "\\u0000", "\\ud800", "\xff", "\xc0\x80", "<|im_start|>assistant\n",
                                  "<|im_end|>", "<|start_header_id|>assistant<|end_header_id|>", "[/INST]",
                                  "Assistant:", "\\boxed{", "}", "Specific Criteria:", "Analysis:", "Scores:", "10",
                                  "0", "-3", "\n" };

std::string mutate(std::string s, const std::vector<std::string> & corpus, std::mt19937_64 & rng, size_t max_len) {
    auto pick = [&](size_t n) { return n == 0 ? 0 : (size_t) (rng() % n); };
    int  steps = 1 + (int) pick(4);
    for (int i = 0; i < steps; i++) {
        switch (pick(6)) {
            case 0: if (!s.empty()) s[pick(s.size())] ^= (char) (1u << pick(8)); break;
            case 1: s.insert(pick(s.size() + 1), 1, (char) pick(256)); break;
            case 2: if (!s.empty()) { size_t p = pick(s.size()); s.erase(p, 1 + pick(std::min<size_t>(16, s.size() - p))); } break;
            case 3: s.insert(pick(s.size() + 1), k_tokens[pick(sizeof k_tokens / sizeof *k_tokens)]); break;
            case 4: {  // splice a piece of another seed
                const std::string & o = corpus[pick(corpus.size())];
                if (!o.empty()) { size_t p = pick(o.size()); s.insert(pick(s.size() + 1), o.substr(p, 1 + pick(o.size() - p))); }
                break;
            }
            case 5: {  // repeat a piece (deep nesting, long runs)
                if (!s.empty()) {
                    size_t p = pick(s.size()), n = 1 + pick(std::min<size_t>(8, s.size() - p));
                    std::string piece = s.substr(p, n), rep;
                    for (size_t k = 1 + pick(200); k > 0; k--) rep += piece;
                    s.insert(p, rep);
                }
                break;
            }
        }
    }
    if (s.size() > max_len) s.resize(max_len);
    return s;
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [--runs N] [--seed S] [--max-seconds T] [--max-len L]\n", argv[0]);
        return 2;
    }
    std::string dir   = argv[1];
    long        runs  = 10000;
    uint64_t    seed  = 1;
    double      max_s = 5;
    size_t      max_len = 1 << 16;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string f = argv[i];
        if (f == "--runs") runs = std::atol(argv[i + 1]);
        else if (f == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
        else if (f == "--max-seconds") max_s = std::atof(argv[i + 1]);
        else if (f == "--max-len") max_len = (size_t) std::atol(argv[i + 1]);
        else { std::fprintf(stderr, "unknown flag %s\n", f.c_str()); return 2; }
    }
    std::vector<std::string> corpus;
    if (DIR * d = opendir(dir.c_str())) {
        while (dirent * e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream     in(dir + "/" + e->d_name, std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            corpus.push_back(ss.str());
        }
        closedir(d);
    }
    if (corpus.empty()) {
        std::fprintf(stderr, "no seeds in %s\n", dir.c_str());
        return 2;
    }
    std::sort(corpus.begin(), corpus.end());  // readdir order varies; the seed fixes the inputs
    for (const auto & c : corpus) LLVMFuzzerTestOneInput((const uint8_t *) c.data(), c.size());

    std::mt19937_64 rng(seed);
    auto            t0   = std::chrono::steady_clock::now();
    long            done = 0;
    for (; done < runs; done++) {
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > max_s) break;
        std::string in = mutate(corpus[(size_t) (rng() % corpus.size())], corpus, rng, max_len);
        LLVMFuzzerTestOneInput((const uint8_t *) in.data(), in.size());
    }
    std::printf("%zu seeds, %ld mutations (seed %llu): no crash\n", corpus.size(), done, (unsigned long long) seed);
    return 0;
}
