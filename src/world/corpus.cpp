// Curriculum corpus generation: one skill per record, rotating through skills and domains.
#include "world/corpus.h"

#include "core/prompt.h"
#include "core/vote.h"
#include "world/generator.h"
#include "world/rng.h"
#include "world/work.h"

#include <algorithm>
#include <cctype>

namespace grm::world {

std::vector<CorpusRecord> make_corpus(const CorpusParams & p) {
    std::vector<CorpusRecord> out;
    const std::vector<Domain> doms = all_domains();
    for (int i = 0; i < p.count; i++) {
        Rng          rng(derive_seed(derive_seed(p.seed, 0x636f72707573ull + (uint64_t) p.split), (uint64_t) i));
        const Domain d     = doms[(size_t) (i % (int) doms.size())];
        const int    level = 1 + (i / (int) doms.size()) % 3;
        const Task   t     = make_task(d, level, p.split, rng);
        CorpusRecord r;
        r.domain = domain_name(d);
        // Skills in rotation; the worked steps get the largest share since they are the hardest.
        const int skill = rng.weighted({ 0.10, 0.45, 0.15, 0.10, 0.20 });
        if (skill == 1 && d == Domain::list) {
            r.skill = "answer";
        } else {
            const char * names[] = { "copy", "work", "restate", "match", "answer" };
            r.skill              = names[skill];
        }
        if (r.skill == "copy") {
            // copying is what small models lack: words, number lists, whole responses
            const Reply rep = correct_reply(t, rng);
            r.prompt        = "Copy: " + rep.text;
            r.completion    = rep.text;
        } else if (r.skill == "work") {
            r.prompt     = "Work: " + t.query;
            r.completion = task_work(t).text;
        } else if (r.skill == "restate") {
            const Kind kinds[] = { Kind::correct, Kind::padded, Kind::wrong_format, Kind::partial, Kind::wrong };
            std::optional<Reply> rep;
            while (!rep) rep = make_reply(t, kinds[rng.below(5)], rng);
            r.prompt     = "Query: " + t.query + "\nResponse: " + rep->text + "\nThe response's answer:";
            r.completion = show_items(t, rep->items);
        } else if (r.skill == "match") {
            const bool                     same  = rng.chance(0.5);
            const std::vector<std::string> other = same ? t.truth : near_miss(t, rng);
            const std::string              a = show_items(t, other), b = show_items(t, t.truth);
            r.prompt     = "Compare the answer " + a + " with the computed " + b + ":";
            r.completion = a == b ? "same -> correct" : "different -> wrong";
        } else {
            r.prompt     = t.query;
            r.completion = correct_reply(t, rng).text;
        }
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

// Every letter becomes a random letter of the same case; digits, spaces and punctuation stay, so
// the text keeps its shape but no word is one the model knows.
std::string scramble_words(const std::string & text, Rng & rng) {
    std::string out = text;
    for (char & c : out) {
        if (c >= 'a' && c <= 'z') c = (char) ('a' + rng.below(26));
        else if (c >= 'A' && c <= 'Z') c = (char) ('A' + rng.below(26));
    }
    return out;
}

}  // namespace

std::vector<CorpusRecord> make_quote_drill(const CorpusParams & p) {
    std::vector<CorpusRecord> out;
    const std::vector<Domain> doms = all_domains();
    const PromptTemplate      tmpl{ "Quote the {n} responses to the query below exactly, each between its own [Response k] "
                                    "and [End of Response k] lines.\n\n{conversation}[Query]\n{query}\n[End of Query]\n\n{responses}",
                                    "", "" };
    for (int i = 0; i < p.count; i++) {
        const uint64_t seed = derive_seed(derive_seed(p.seed, 0x71756f7465ull + (uint64_t) p.split), (uint64_t) i);
        Rng            rng(seed);
        const Domain   d     = doms[(size_t) (i % (int) doms.size())];
        const int      level = 1 + (i / (int) doms.size()) % 3;
        const int      n     = 2 + rng.below(3);
        WorldItem      item  = generate_item(d, level, n, p.split, rng.next(), "quote-" + std::to_string(i));
        const bool     scrambled = rng.chance(0.5);
        if (scrambled) {
            for (auto & r : item.sample.responses) r = scramble_words(r, rng);
        }
        const std::vector<int> order = shuffle_order(n, rng.next());
        CorpusRecord           r;
        r.skill  = "quote";
        r.domain = domain_name(d);
        r.prompt = render_prompt(tmpl, item.sample, order);
        r.completion = render_responses(item.sample, order);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<CorpusRecord> make_repeat_drill(const CorpusParams & p) {
    std::vector<CorpusRecord> out;
    for (int i = 0; i < p.count; i++) {
        Rng         rng(derive_seed(derive_seed(p.seed, 0x726570656174ull), (uint64_t) i));
        const auto  word = [&rng] {
            if (rng.chance(0.15)) return std::to_string(rng.below(1000));
            std::string w((size_t) (1 + rng.below(8)), ' ');
            for (char & c : w) c = (char) ('a' + rng.below(26));
            if (rng.chance(0.2)) w[0] = (char) (w[0] - 'a' + 'A');
            if (rng.chance(0.15)) w += ",.;:!?"[rng.below(6)];
            return w;
        };
        std::string text;
        for (int k = 0, n = 3 + rng.below(12); k < n; k++) text += (k ? " " : "") + word();
        out.push_back({ "repeat", "none", "Repeat:\n" + text + "\n", text + "\n" });
    }
    return out;
}

namespace {

// A random answer in one of the world's shapes; lists are 3-7 numbers joined by ", ".
std::string random_answer(Rng & rng) {
    const auto letters = [&rng](int n, char base) {
        std::string w((size_t) n, ' ');
        for (char & c : w) c = (char) (base + rng.below(26));
        return w;
    };
    switch (rng.below(7)) {
        case 0: return std::to_string(rng.range(0, 9999));
        case 1: return std::to_string(rng.range(0, 99)) + "." + std::to_string(rng.range(0, 999));
        case 2: return letters(3 + rng.below(7), 'a');
        case 3: return letters(3 + rng.below(7), 'A');
        case 4: {
            const std::string w = letters(3 + rng.below(7), 'a');
            std::string       out;
            for (char c : w) out += (out.empty() ? "" : "-") + std::string(1, c);
            return out;
        }
        case 5: return letters(1, 'A') + letters(2 + rng.below(6), 'a');
        default: {
            std::string out;
            for (int k = 0, n = 3 + rng.below(5); k < n; k++) out += (k ? ", " : "") + std::to_string(rng.below(100));
            return out;
        }
    }
}

// A random character of c's class (digit, lower or upper letter) other than c.
char other_of_class(char c, Rng & rng) {
    const char base = std::isdigit((unsigned char) c) ? '0' : std::isupper((unsigned char) c) ? 'A' : 'a';
    const int  span = base == '0' ? 10 : 26;
    return (char) (base + (c - base + 1 + rng.below(span - 1)) % span);
}

// s with one edit, never s itself: an alphanumeric character changed, dropped or doubled, or two
// adjacent alphanumerics swapped (in a list, two adjacent items).
std::string one_edit(const std::string & s, Rng & rng) {
    std::vector<size_t> at;
    for (size_t i = 0; i < s.size(); i++) {
        if (std::isalnum((unsigned char) s[i])) at.push_back(i);
    }
    for (;;) {
        std::string  out = s;
        const size_t i   = at[(size_t) rng.below((int) at.size())];
        switch (rng.below(4)) {
            case 0: out[i] = other_of_class(s[i], rng); break;
            case 1: out.erase(i, 1); break;
            case 2: out.insert(i, 1, s[i]); break;
            default: {
                const size_t list = s.find(", ");
                if (list != std::string::npos) {
                    std::vector<std::string> items;
                    for (size_t b = 0, e; b <= s.size(); b = e + 2) {
                        e = std::min(s.find(", ", b), s.size());
                        items.push_back(s.substr(b, e - b));
                    }
                    const size_t k = (size_t) rng.below((int) items.size() - 1);
                    std::swap(items[k], items[k + 1]);
                    out.clear();
                    for (const auto & it : items) out += (out.empty() ? "" : ", ") + it;
                } else if (i + 1 < s.size() && std::isalnum((unsigned char) s[i + 1])) {
                    std::swap(out[i], out[i + 1]);
                }
            }
        }
        if (out != s && !out.empty()) return out;
    }
}

}  // namespace

std::vector<CorpusRecord> make_match_drill(const CorpusParams & p) {
    std::vector<CorpusRecord> out;
    for (int i = 0; i < p.count; i++) {
        Rng               rng(derive_seed(derive_seed(p.seed, 0x6d61746368ull), (uint64_t) i));
        const std::string b = random_answer(rng);
        const bool        same = rng.chance(0.5);
        const std::string a    = same ? b : one_edit(b, rng);
        out.push_back({ "match-drill", "none", "Repeat and compare:\n" + a + "\n" + b + "\n",
                        a + ", computed " + b + (same ? ": same\n" : ": different\n") });
    }
    return out;
}

}  // namespace grm::world
