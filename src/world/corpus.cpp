// Curriculum corpus generation: one skill per record, rotating through skills and domains.
#include "world/corpus.h"

#include "world/generator.h"
#include "world/rng.h"
#include "world/work.h"

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

}  // namespace grm::world
