// Rule labels: the shown-order ground truth of one judging prompt, as JSON.
#include "scaling/rule_label.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

namespace grm::scaling {

using json = nlohmann::json;

namespace {

Error bad(const std::string & key, const std::string & why) {
    return make_error(Errc::invalid_argument, "key '" + key + "': " + why);
}

}  // namespace

Result<RuleLabel> rule_label_from_json(const json & in, int max_n) {
    json j = in;
    if (in.is_string()) {
        j = json::parse(in.get<std::string>(), nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded()) return make_error(Errc::invalid_argument, "not a JSON object (the string does not parse)");
    }
    if (!j.is_object()) return make_error(Errc::invalid_argument, std::string("expected an object, got ") + j.type_name());
    auto get_int = [&](const char * key) -> std::optional<int> {
        if (!j.contains(key) || j[key].is_null() || !j[key].is_number_integer()) return std::nullopt;
        return (int) std::clamp<long long>(j[key].get<long long>(), -1, 1 << 20);
    };
    RuleLabel l;
    if (!j.contains("n")) return bad("n", "is required");
    auto n = get_int("n");
    if (!n) return bad("n", "expected an integer");
    if (*n < 1 || *n > max_n) return bad("n", std::to_string(*n) + " is outside 1.." + std::to_string(max_n));
    l.n = *n;
    if (l.n >= 2) {
        if (!j.contains("best")) return bad("best", "is required when n >= 2");
        l.best = get_int("best");
        if (!l.best) return bad("best", "expected an integer");
        if (*l.best < 0 || *l.best >= l.n) {
            return bad("best", "position " + std::to_string(*l.best) + " is outside 0.." + std::to_string(l.n - 1));
        }
    } else if (j.contains("label")) {
        if (j.contains("rating")) return bad("label", "give 'rating' (a 1..10 judgment) or 'label' (a 0/1 one), not both");
        l.label = get_int("label");
        if (!l.label) return bad("label", "expected an integer");
        if (*l.label != 0 && *l.label != 1) return bad("label", std::to_string(*l.label) + " is not 0 or 1");
    } else {
        if (!j.contains("rating")) return bad("rating", "is required when n = 1 (or 'label' 0/1 for a 0/1 judgment)");
        l.rating = get_int("rating");
        if (!l.rating) return bad("rating", "expected an integer");
        if (*l.rating < 1 || *l.rating > 10) return bad("rating", std::to_string(*l.rating) + " is outside 1..10");
    }
    return l;
}

Result<json> shown_label_json(const Sample & s, const std::vector<int> & order, bool binary) {
    const std::string who = "sample '" + s.id + "'";
    if (s.n() == 1 && binary) {
        if (!s.label) return make_error(Errc::invalid_argument, who + ": one response and no 'label' (a 0/1 judgment is checked against it)");
        return json{ { "n", 1 }, { "label", *s.label } };
    }
    if (s.n() == 1) {
        if (s.ratings.empty()) return make_error(Errc::invalid_argument, who + ": one response and no 'ratings' (the rule needs its rating)");
        return json{ { "n", 1 }, { "rating", s.ratings[0] } };
    }
    if (!s.best) return make_error(Errc::invalid_argument, who + ": no 'best' (the rule needs the best response)");
    for (int p = 0; p < (int) order.size(); p++) {
        if (order[p] == *s.best) return json{ { "n", s.n() }, { "best", p } };
    }
    return make_error(Errc::internal, who + ": the shuffle order misses the best response");
}

RuleReward label_reward(const RuleLabel & label, const std::string & text, bool stopped) {
    // A stand-in sample holding only what Eq. 10 reads: n responses and the truth in shown order.
    Sample s;
    s.responses.resize((size_t) label.n);
    s.best = label.best;
    if (label.rating) s.ratings = { *label.rating };
    s.label = label.label;
    std::vector<int> identity((size_t) label.n);
    std::iota(identity.begin(), identity.end(), 0);
    return rule_reward(s, identity, text, stopped, label.label.has_value());
}

}  // namespace grm::scaling
