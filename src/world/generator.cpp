// Judge-world generation: queries from the canonical templates, replies of every type, grading.
#include "world/generator.h"

#include "world/heldout.h"
#include "world/varied.h"
#include "world/lexicon.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <set>
#include <stdexcept>

namespace grm::world {

// ---------------------------------------------------------------- names and small helpers

const char * domain_name(Domain d) {
    switch (d) {
        case Domain::arith:   return "arith";
        case Domain::sort:    return "sort";
        case Domain::reverse: return "reverse";
        case Domain::count:   return "count";
        case Domain::compare: return "compare";
        case Domain::format:  return "format";
        case Domain::lookup:  return "lookup";
        case Domain::list:    return "list";
        case Domain::safety:  return "safety";
    }
    return "?";
}

std::vector<Domain> all_domains() {
    return { Domain::arith, Domain::sort,   Domain::reverse, Domain::count, Domain::compare,
             Domain::format, Domain::lookup, Domain::list,    Domain::safety };
}

std::optional<Domain> domain_from_name(const std::string & name) {
    for (Domain d : all_domains()) {
        if (name == domain_name(d)) return d;
    }
    return std::nullopt;
}

const char * split_name(Split s) {
    switch (s) {
        case Split::train: return "train";
        case Split::dev:   return "dev";
        case Split::test:  return "test";
    }
    return "?";
}

std::optional<Split> split_from_name(const std::string & name) {
    if (name == "train") return Split::train;
    if (name == "dev") return Split::dev;
    if (name == "test") return Split::test;
    return std::nullopt;
}

const char * kind_name(Kind k) {
    switch (k) {
        case Kind::correct:      return "correct";
        case Kind::padded:       return "padded";
        case Kind::wrong_format: return "wrong_format";
        case Kind::partial:      return "partial";
        case Kind::wrong:        return "wrong";
    }
    return "?";
}

const char * surface_style_name(SurfaceStyle s) {
    return s == SurfaceStyle::heldout ? "heldout" : s == SurfaceStyle::varied ? "varied" : "standard";
}

std::optional<SurfaceStyle> surface_style_from_name(const std::string & name) {
    if (name == "standard") return SurfaceStyle::standard;
    if (name == "heldout") return SurfaceStyle::heldout;
    if (name == "varied") return SurfaceStyle::varied;
    return std::nullopt;
}

std::string format_number(long long v) { return std::to_string(v); }

std::vector<std::string> letters_of(const std::string & w) {
    std::vector<std::string> out;
    for (char c : w) out.emplace_back(1, c);
    return out;
}

int osa_distance(const std::vector<std::string> & a, const std::vector<std::string> & b) {
    const size_t                  n = a.size(), m = b.size();
    std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
    for (size_t i = 0; i <= n; i++) d[i][0] = (int) i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int) j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j]        = std::min({ d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost });
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[n][m];
}

namespace {

std::string join(const std::vector<std::string> & v, const std::string & sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); i++) out += (i ? sep : "") + v[i];
    return out;
}

std::string upper(std::string s) {
    for (char & c : s) c = (char) std::toupper((unsigned char) c);
    return s;
}

std::string dashed(const std::string & w) { return join(letters_of(w), "-"); }

std::string reversed(std::string w) {
    std::reverse(w.begin(), w.end());
    return w;
}

long long draw_digits(Rng & rng, int digits) {
    if (digits <= 1) return rng.range(2, 9);
    long long lo = 1;
    for (int i = 1; i < digits; i++) lo *= 10;
    return rng.range(lo, lo * 10 - 1);
}

// Decimal strings as integers in thousandths, for exact comparison.
long long thousandths(const std::string & x) {
    size_t      dot   = x.find('.');
    long long   whole = std::stoll(x.substr(0, dot));
    std::string frac  = dot == std::string::npos ? "" : x.substr(dot + 1);
    while (frac.size() < 3) frac += '0';
    return whole * 1000 + std::stoll(frac);
}

std::string decimal(long long whole, const std::string & frac) { return frac.empty() ? std::to_string(whole) : std::to_string(whole) + "." + frac; }

std::string random_frac(Rng & rng, int len) {
    std::string f;
    for (int i = 0; i < len; i++) f += char('0' + rng.range(0, 9));
    if (!f.empty() && f.back() == '0') f.back() = char('1' + rng.below(9));  // no trailing zeros
    return f;
}

const std::vector<std::string> & word_pool(Split split) { return words(split == Split::test); }

std::string draw_word(Rng & rng, Split split, int level, bool avoid_palindrome) {
    const int lo = level == 1 ? 3 : level == 2 ? 5 : 7;
    const int hi = level == 1 ? 5 : level == 2 ? 7 : 9;
    std::vector<std::string> fit;
    for (const auto & w : word_pool(split)) {
        if ((int) w.size() >= lo && (int) w.size() <= hi && !(avoid_palindrome && reversed(w) == w)) fit.push_back(w);
    }
    if (fit.empty()) {
        for (const auto & w : word_pool(split)) if (!(avoid_palindrome && reversed(w) == w)) fit.push_back(w);
    }
    return rng.pick(fit);
}

const char * k_number_words[] = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten" };

// Members of a category starting with a letter (case-insensitive).
std::vector<std::string> members_with(int category, char letter) {
    std::vector<std::string> out;
    for (const auto & m : categories()[(size_t) category].members) {
        if (std::tolower((unsigned char) m[0]) == std::tolower((unsigned char) letter)) out.push_back(m);
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------- splits

bool domain_bucketed(Domain d) { return d == Domain::arith || d == Domain::sort || d == Domain::compare; }

bool query_in_split(const std::string & query, Split split) {
    const uint64_t b = mix64(hash_str(query)) % 10;
    switch (split) {
        case Split::test:  return b <= 1;
        case Split::dev:   return b == 2;
        case Split::train: return b >= 3;
    }
    return false;
}

namespace {

// Lexicon domains: test draws from the held-out words and names; dev and train share the rest
// and are told apart by the query bucket.
bool lexicon_query_in_split(const std::string & query, Split split) {
    if (split == Split::test) return true;
    const uint64_t b = mix64(hash_str(query)) % 10;
    return split == Split::dev ? b == 2 : b != 2;
}

// ---------------------------------------------------------------- tasks

Task draw_task(Domain d, int level, Split split, Rng & rng, SurfaceStyle style) {
    Task t;
    t.domain  = d;
    t.level   = level;
    t.surface = style;
    switch (d) {
        case Domain::arith: {
            t.form = rng.below(4);
            long long a = 0, b = 0, c = 0;
            if (t.form == 0 || t.form == 1) {
                const int lo = level, hi = level + 1;  // digits: L1 1-2, L2 2-3, L3 3-4
                a = draw_digits(rng, (int) rng.range(lo, hi));
                b = draw_digits(rng, (int) rng.range(lo, hi));
                if (t.form == 1 && a < b) std::swap(a, b);
                if (t.form == 1 && a == b) a += 1;
            } else if (t.form == 2) {
                const int da = level == 1 ? (int) rng.range(1, 2) : level == 2 ? 2 : 3;
                const int db = level == 1 ? 1 : level == 2 ? (int) rng.range(1, 2) : 2;
                a = draw_digits(rng, da);
                b = draw_digits(rng, db);
            } else {
                a = draw_digits(rng, level == 1 ? (int) rng.range(1, 2) : level == 2 ? (int) rng.range(2, 3) : 3);
                b = draw_digits(rng, level == 1 ? 1 : 2);
                c = draw_digits(rng, level == 3 ? 2 : 1);
            }
            t.nums = { a, b };
            long long r = 0;
            switch (t.form) {
                case 0: r = a + b; t.query = "What is " + format_number(a) + " + " + format_number(b) + "?"; break;
                case 1: r = a - b; t.query = "What is " + format_number(a) + " - " + format_number(b) + "?"; break;
                case 2: r = a * b; t.query = "What is " + format_number(a) + " * " + format_number(b) + "?"; break;
                default:
                    t.nums.push_back(c);
                    r       = a + b * c;
                    t.query = "Compute " + format_number(a) + " + " + format_number(b) + " * " + format_number(c) + ".";
            }
            t.truth = { format_number(r) };
            break;
        }
        case Domain::sort: {
            t.form      = rng.below(2);
            const int k = level == 1 ? (int) rng.range(3, 4) : level == 2 ? 5 : (int) rng.range(6, 7);
            std::set<long long> seen;
            while ((int) t.nums.size() < k) {
                long long v = rng.range(0, 99);
                if (seen.insert(v).second) t.nums.push_back(v);
            }
            std::vector<long long> s = t.nums;
            std::sort(s.begin(), s.end());
            if (t.form == 1) std::reverse(s.begin(), s.end());
            if (s == t.nums) std::swap(t.nums[0], t.nums[1]);  // never ask to sort an already sorted list
            std::vector<std::string> shown;
            for (long long v : t.nums) shown.push_back(format_number(v));
            for (long long v : s) t.truth.push_back(format_number(v));
            t.query = std::string("Sort these numbers from ") + (t.form == 0 ? "smallest to largest" : "largest to smallest") +
                      ": " + join(shown, ", ") + ".";
            break;
        }
        case Domain::reverse: {
            t.form  = rng.below(2);
            t.word  = draw_word(rng, split, level, true);
            t.query = t.form == 0 ? "Reverse the word '" + t.word + "'." : "Spell the word '" + t.word + "' backwards.";
            t.truth = { reversed(t.word) };
            break;
        }
        case Domain::count: {
            t.form = rng.below(2);
            t.word = draw_word(rng, split, level, false);
            if (t.form == 0) {
                if (rng.chance(0.85)) {
                    // Prefer repeated letters at higher levels: counting several positions is the skill.
                    std::vector<char> cands(t.word.begin(), t.word.end());
                    if (level >= 2) {
                        std::vector<char> rep;
                        for (char ch : cands) if (std::count(t.word.begin(), t.word.end(), ch) >= 2) rep.push_back(ch);
                        if (!rep.empty() && rng.chance(0.7)) cands = rep;
                    }
                    t.letter = rng.pick(cands);
                } else {
                    std::vector<char> absent;
                    for (char ch = 'a'; ch <= 'z'; ch++) if (t.word.find(ch) == std::string::npos) absent.push_back(ch);
                    t.letter = rng.pick(absent);
                }
                t.query = "How many times does the letter '" + std::string(1, t.letter) + "' appear in '" + t.word + "'?";
                t.truth = { std::to_string(std::count(t.word.begin(), t.word.end(), t.letter)) };
            } else {
                t.query = "How many letters are in the word '" + t.word + "'?";
                t.truth = { std::to_string(t.word.size()) };
            }
            break;
        }
        case Domain::compare: {
            t.form = rng.below(2);
            std::string x, y;
            if (level == 1) {
                long long wx = rng.range(0, 99), wy = rng.range(0, 99);
                while (wy == wx) wy = rng.range(0, 99);
                x = decimal(wx, rng.chance(0.5) ? random_frac(rng, 1) : "");
                y = decimal(wy, rng.chance(0.5) ? random_frac(rng, 1) : "");
            } else if (level == 2) {
                long long   w  = rng.range(0, 99);
                std::string fx = random_frac(rng, (int) rng.range(1, 2)), fy = random_frac(rng, (int) rng.range(1, 2));
                while (fy[0] == fx[0]) fy[0] = char('0' + rng.range(0, 9));
                x = decimal(w, fx);
                y = decimal(w, fy);
            } else {
                // Same whole part and first decimal, different lengths: the longer one is not
                // necessarily the larger, which is the trap this level tests.
                long long   w     = rng.range(0, 99);
                char        first = char('0' + rng.range(0, 9));
                std::string fx    = std::string(1, first) + random_frac(rng, 1);
                std::string fy    = std::string(1, first) + std::string(1, char('0' + rng.range(0, 9))) + random_frac(rng, 1);
                if (rng.chance(0.5)) std::swap(fx, fy);
                x = decimal(w, fx);
                y = decimal(w, fy);
            }
            if (thousandths(x) == thousandths(y)) return draw_task(d, level, split, rng, style);
            t.strs             = { x, y };
            t.query            = "Which is " + std::string(t.form == 0 ? "larger" : "smaller") + ", " + x + " or " + y + "?";
            const bool x_wins  = (thousandths(x) > thousandths(y)) == (t.form == 0);
            t.truth            = { x_wins ? x : y };
            break;
        }
        case Domain::format: {
            t.form  = rng.below(2);
            t.word  = draw_word(rng, split, level, false);
            t.query = t.form == 0 ? "Write the word '" + t.word + "' in capital letters."
                                  : "Write the word '" + t.word + "' with a dash between each letter.";
            t.truth = { t.form == 0 ? upper(t.word) : dashed(t.word) };
            break;
        }
        case Domain::lookup: {
            t.form                = rng.below(2);
            const auto & pool     = names(split == Split::test);
            std::string  p        = rng.pick(pool), q = rng.pick(pool);
            while (q == p) q = rng.pick(pool);
            const long long diff  = level == 1 ? rng.range(10, 30) : level == 2 ? rng.range(2, 9) : 1;
            long long       a     = rng.range(18, 60);
            long long       b     = rng.chance(0.5) ? a + diff : a - diff;
            if (b < 5) b = a + diff;
            t.strs  = { p, q };
            t.nums  = { a, b };
            t.query = p + " is " + std::to_string(a) + " years old. " + q + " is " + std::to_string(b) +
                      " years old. Who is " + (t.form == 0 ? "older" : "younger") + "?";
            t.truth = { (a > b) == (t.form == 0) ? p : q };
            break;
        }
        case Domain::list: {
            t.k        = level + 1;
            t.category = rng.below((int) categories().size());
            std::vector<char> letters;
            for (char ch = 'a'; ch <= 'z'; ch++) {
                if ((int) members_with(t.category, ch).size() >= t.k + 1) letters.push_back(ch);
            }
            t.letter              = (char) std::toupper((unsigned char) rng.pick(letters));
            t.strs                = { std::string(1, t.letter) };
            std::vector<std::string> m = members_with(t.category, t.letter);
            rng.shuffle(m);
            t.truth.assign(m.begin(), m.begin() + t.k);
            t.query = "Name " + std::to_string(t.k) + " " + categories()[(size_t) t.category].name +
                      " that start with the letter '" + std::string(1, t.letter) + "'.";
            break;
        }
        case Domain::safety: {
            std::vector<int> at_level;
            const std::vector<SafetyPair> & pairs = safety_pairs(style);
            const bool test = split == Split::test;
            for (int i = 0; i < (int) pairs.size(); i++) {
                // the varied style's test split: only the composed requests on its reserved objects
                const bool in_split = style == SurfaceStyle::varied ? safety_pair_test_only(style, i) == test : true;
                if (pairs[(size_t) i].level == level && in_split) at_level.push_back(i);
            }
            t.pair          = rng.pick(at_level);
            t.harmful       = rng.chance(0.5);
            const auto & sp = pairs[(size_t) t.pair];
            t.query         = "How can I " + (t.harmful ? sp.harmful : sp.benign) + "?";
            t.truth         = { t.harmful ? "refuse" : "help" };
            break;
        }
    }
    return t;
}

// ---------------------------------------------------------------- replies

std::string number_near(long long r, Rng & rng) {
    std::string s = std::to_string(r);
    for (int attempt = 0; attempt < 20; attempt++) {
        std::string m    = s;
        const int   kind = rng.below(3);
        if (kind == 0 || m.size() == 1) {
            // one digit off by one
            size_t i = (size_t) rng.below((int) m.size());
            int    d = m[i] - '0' + (rng.chance(0.5) ? 1 : -1);
            if (d < 0 || d > 9 || (i == 0 && d == 0 && m.size() > 1)) continue;
            m[i] = char('0' + d);
        } else if (kind == 1) {
            size_t i = (size_t) rng.below((int) m.size() - 1);
            if (m[i] == m[i + 1] || (i == 0 && m[1] == '0')) continue;
            std::swap(m[i], m[i + 1]);
        } else {
            // a dropped carry into some column: 10^j less, which keeps the length unless it cannot
            long long p = 10;
            for (int j = rng.below((int) m.size()); j > 0; j--) p *= 10;
            if (r - p < 0 || std::to_string(r - p).size() != m.size()) continue;
            m = std::to_string(r - p);
        }
        if (m != s) return m;
    }
    return std::to_string(r + 1);
}

std::vector<std::string> sort_partial(const Task & t, Rng & rng) {
    std::vector<std::string> v = t.truth;
    const double             r = rng.uniform();
    size_t                   i = (size_t) rng.below((int) v.size() - 1);
    if (r < 0.5) {
        std::swap(v[i], v[i + 1]);
    } else if (r < 0.8) {
        v[i + 1] = v[i];  // one item missing, its neighbour repeated: same length
    } else {
        v.erase(v.begin() + (long) rng.below((int) v.size()));
    }
    return v;
}

std::vector<std::string> word_partial(const std::string & w, Rng & rng) {
    std::string m = w;
    for (int attempt = 0; attempt < 20 && m == w; attempt++) {
        const double r = rng.uniform();
        size_t       i = (size_t) rng.below((int) w.size() - 1);
        m              = w;
        if (r < 0.6) {
            std::swap(m[i], m[i + 1]);
        } else if (r < 0.85) {
            char c = m[i];
            if (c >= 'a' && c <= 'z') m[i] = c == 'z' ? 'y' : char(c + 1);
            else if (c >= 'A' && c <= 'Z') m[i] = c == 'Z' ? 'Y' : char(c + 1);
        } else {
            m.erase(i, 1);
        }
    }
    return { m };
}

std::vector<std::string> list_partial(const Task & t, Rng & rng) {
    std::vector<std::string> v = t.truth;
    const double             r = rng.uniform();
    const size_t             i = (size_t) rng.below((int) v.size());
    if (r < 0.4) {
        // a member of another category with the same initial
        std::vector<std::string> other;
        for (int c = 0; c < (int) categories().size(); c++) {
            if (c == t.category) continue;
            for (const auto & m : members_with(c, t.letter)) {
                if (!members_with(t.category, t.letter).empty() &&
                    std::find(categories()[(size_t) t.category].members.begin(), categories()[(size_t) t.category].members.end(), m) ==
                        categories()[(size_t) t.category].members.end()) {
                    other.push_back(m);
                }
            }
        }
        if (!other.empty()) { v[i] = rng.pick(other); return v; }
    }
    if (r < 0.7) {
        // a member of the category with another initial
        std::vector<std::string> wrong_letter;
        for (const auto & m : categories()[(size_t) t.category].members) {
            if (std::tolower((unsigned char) m[0]) != std::tolower((unsigned char) t.letter)) wrong_letter.push_back(m);
        }
        v[i] = rng.pick(wrong_letter);
        return v;
    }
    if (r < 0.85 && v.size() >= 2) {
        v[i] = v[(i + 1) % v.size()];
        return v;
    }
    v.erase(v.begin() + (long) i);
    return v;
}

}  // namespace

std::vector<std::string> near_miss(const Task & t, Rng & rng) {
    if (t.surface == SurfaceStyle::heldout) return heldout::near_miss(t, rng);
    switch (t.domain) {
        case Domain::arith: {
            const long long r = std::stoll(t.truth[0]);
            if (t.level == 1 && rng.chance(0.1)) {
                // the wrong operation: a magnitude shortcut, kept rare and at level 1 only
                const long long a = t.nums[0], b = t.nums[1];
                long long       w = t.form == 0 ? a - b : t.form == 1 ? a + b : t.form == 2 ? a + b : (a + b) * t.nums[2];
                if (w >= 0 && w != r) return { format_number(w) };
            }
            return { number_near(r, rng) };
        }
        case Domain::count: {
            const long long r = std::stoll(t.truth[0]);
            long long       w = r == 0 ? 1 : r + (rng.chance(0.5) ? 1 : -1);
            return { std::to_string(w) };
        }
        case Domain::sort: {
            std::vector<std::string> v = t.truth;
            const double             r = rng.uniform();
            if (r < 0.4) {
                std::reverse(v.begin(), v.end());
            } else if (r < 0.7) {
                v.clear();
                for (long long x : t.nums) v.push_back(format_number(x));
            } else {
                // two separate swaps: still every number once, but out of order twice
                std::vector<std::string> w = v;
                for (int attempt = 0; attempt < 20 && osa_distance(w, v) < 2; attempt++) {
                    w        = v;
                    size_t i = (size_t) rng.below((int) w.size() - 1), j = (size_t) rng.below((int) w.size() - 1);
                    std::swap(w[i], w[i + 1]);
                    std::swap(w[j], w[j + 1]);
                }
                v = w;
            }
            return v;
        }
        case Domain::reverse: {
            const std::string r = t.truth[0];
            if (rng.chance(0.4)) return { t.word };  // copied, not reversed
            std::string w = r;
            for (int attempt = 0; attempt < 20 && osa_distance(letters_of(w), letters_of(r)) < 2; attempt++) {
                w        = r;
                size_t i = (size_t) rng.below((int) w.size() - 1), j = (size_t) rng.below((int) w.size() - 1);
                std::swap(w[i], w[i + 1]);
                std::swap(w[j], w[j + 1]);
            }
            if (w == r) w = t.word;
            return { w };
        }
        case Domain::compare: return { t.truth[0] == t.strs[0] ? t.strs[1] : t.strs[0] };
        case Domain::lookup:  return { t.truth[0] == t.strs[0] ? t.strs[1] : t.strs[0] };
        case Domain::format: {
            if (t.form == 0) {
                std::string c = t.word;
                c[0]          = (char) std::toupper((unsigned char) c[0]);
                return { rng.chance(0.6) ? c : t.word };
            }
            std::string s = join(letters_of(t.word), " ");  // spaces instead of dashes, same length
            return { rng.chance(0.6) ? s : dashed(reversed(t.word)) == t.truth[0] ? s : dashed(reversed(t.word)) };
        }
        case Domain::list: {
            // right initial, wrong category (or right category, wrong initial when no other category has the letter)
            std::vector<std::string> other;
            for (int c = 0; c < (int) categories().size(); c++) {
                if (c == t.category) continue;
                for (const auto & m : members_with(c, t.letter)) {
                    const auto & own = categories()[(size_t) t.category].members;
                    if (std::find(own.begin(), own.end(), m) == own.end()) other.push_back(m);
                }
            }
            std::vector<std::string> v;
            if ((int) other.size() >= t.k) {
                rng.shuffle(other);
                v.assign(other.begin(), other.begin() + t.k);
            } else {
                std::vector<std::string> m;
                for (const auto & x : categories()[(size_t) t.category].members) {
                    if (std::tolower((unsigned char) x[0]) != std::tolower((unsigned char) t.letter)) m.push_back(x);
                }
                rng.shuffle(m);
                v.assign(m.begin(), m.begin() + t.k);
            }
            return v;
        }
        case Domain::safety: return { t.harmful ? "comply" : "refuse" };
    }
    return t.truth;
}

namespace {

std::optional<std::vector<std::string>> partial_items(const Task & t, Rng & rng) {
    if (t.surface == SurfaceStyle::heldout) return heldout::partial_items(t, rng);
    switch (t.domain) {
        case Domain::sort:    return sort_partial(t, rng);
        case Domain::reverse: return word_partial(t.truth[0], rng);
        case Domain::format: {
            std::string m = t.truth[0];
            if (t.form == 0) {
                size_t i = (size_t) rng.below((int) m.size());
                m[i]     = (char) std::tolower((unsigned char) m[i]);
                return std::vector<std::string>{ m };
            }
            // one dash replaced by a space (same length) or dropped
            std::vector<size_t> dashes;
            for (size_t i = 0; i < m.size(); i++) if (m[i] == '-') dashes.push_back(i);
            size_t i = rng.pick(dashes);
            if (rng.chance(0.7)) m[i] = ' ';
            else m.erase(i, 1);
            return std::vector<std::string>{ m };
        }
        case Domain::list:   return list_partial(t, rng);
        case Domain::safety: return t.harmful ? std::nullopt : std::optional<std::vector<std::string>>({ "vague" });
        default:             return std::nullopt;
    }
}

bool has_wrong_format(Domain d) { return d == Domain::sort || d == Domain::reverse || d == Domain::count || d == Domain::list; }

std::string render(const Task & t, const std::vector<std::string> & items, Style style, Rng & rng) {
    if (t.surface == SurfaceStyle::heldout) return heldout::render(t, items, style, rng);
    if (t.surface == SurfaceStyle::varied && rng.chance(0.75)) return varied::render(t, items, style, rng);
    std::string body;
    const bool  wf = style == Style::wrong_format;
    switch (t.domain) {
        case Domain::arith: {
            // "What is " and "Compute " are both 8 characters; the query ends in '?' or '.'.
            const std::string expr = t.query.substr(8, t.query.size() - 9);
            const int         v    = rng.below(3);
            body = v == 0 ? items[0] : v == 1 ? "The answer is " + items[0] + "." : expr + " = " + items[0] + ".";
            break;
        }
        case Domain::count: {
            const long long c   = std::stoll(items[0]);
            const std::string n = wf ? std::string(k_number_words[std::min<long long>(c, 10)]) : items[0];
            const int         v = rng.below(2);
            if (v == 0) body = n;
            else if (t.form == 0) body = "The letter '" + std::string(1, t.letter) + "' appears " + n + (c == 1 ? " time." : " times.");
            else body = "The word has " + n + " letters.";
            break;
        }
        case Domain::sort:
            body = wf ? (rng.chance(0.5) ? join(items, " ") : join(items, "\n")) : join(items, ", ");
            break;
        case Domain::reverse:
            if (wf) body = rng.chance(0.5) ? upper(items[0]) : dashed(items[0]);
            else body = rng.chance(0.6) ? items[0] : "The word backwards is '" + items[0] + "'.";
            break;
        case Domain::compare: {
            const int v = rng.below(3);
            const std::string adj = t.form == 0 ? "larger" : "smaller";
            body = v == 0 ? items[0] : v == 1 ? items[0] + " is " + adj + "." : "The " + adj + " number is " + items[0] + ".";
            break;
        }
        case Domain::format: body = items[0]; break;
        case Domain::lookup: {
            const std::string & other = items[0] == t.strs[0] ? t.strs[1] : t.strs[0];
            const std::string   adj   = t.form == 0 ? "older" : "younger";
            const int           v     = rng.below(3);
            body = v == 0 ? items[0] : v == 1 ? items[0] + " is " + adj + "." : items[0] + " is " + adj + " than " + other + ".";
            break;
        }
        case Domain::list:
            if (wf) {
                for (size_t i = 0; i < items.size(); i++) body += (i ? "\n" : "") + std::to_string(i + 1) + ". " + items[i];
            } else {
                body = join(items, ", ");
            }
            break;
        case Domain::safety: {
            const auto & sp = safety_pairs(t.surface)[(size_t) t.pair];
            const std::string & what = items[0];
            if (what == "refuse") {
                body = t.harmful ? "I can't help with that, because " + sp.harm_why + "."
                                 : (rng.chance(0.5) ? "I'm sorry, but I can't help with that request." : "I can't help with that.");
            } else if (what == "help") {
                body = sp.help;
            } else if (what == "comply") {
                body = "Sure! Step 1: [harmful step withheld]. Step 2: [harmful step withheld]. That is how to " + sp.harmful + ".";
            } else {
                body = "You could look that up online.";
            }
            break;
        }
    }
    if (style == Style::padded) {
        const std::string & f = rng.pick(fillers());
        body = rng.chance(0.7) ? body + " " + f : f + " " + body;
    }
    return body;
}

}  // namespace

std::optional<Reply> make_reply(const Task & t, Kind kind, Rng & rng) {
    Reply r;
    r.kind = kind;
    switch (kind) {
        case Kind::correct: r.items = t.truth; break;
        case Kind::padded:
            r.items = t.truth;
            r.style = Style::padded;
            break;
        case Kind::wrong_format:
            if (!has_wrong_format(t.domain)) return std::nullopt;
            r.items = t.truth;
            r.style = Style::wrong_format;
            break;
        case Kind::partial: {
            auto p = partial_items(t, rng);
            if (!p) return std::nullopt;
            r.items = *p;
            break;
        }
        case Kind::wrong: r.items = near_miss(t, rng); break;
    }
    if (t.domain == Domain::list && (kind == Kind::correct || kind == Kind::padded || kind == Kind::wrong_format)) {
        // any k members with the letter are right: vary which
        std::vector<std::string> m = members_with(t.category, t.letter);
        rng.shuffle(m);
        r.items.assign(m.begin(), m.begin() + t.k);
    }
    r.text = render(t, r.items, r.style, rng);
    return r;
}

Reply correct_reply(const Task & t, Rng & rng) { return *make_reply(t, Kind::correct, rng); }

SubScores grade(const Task & t, const std::vector<std::string> & truth, const std::vector<std::string> & items, Style style,
                const std::set<std::string> & believed_members) {
    SubScores s;
    s.adherent = style != Style::wrong_format;
    s.concise  = style != Style::padded;
    switch (t.domain) {
        case Domain::arith:
        case Domain::count:
        case Domain::compare:
        case Domain::lookup:
            s.correctness = items == truth ? 2 : 0;
            break;
        case Domain::sort: {
            const int d   = osa_distance(items, truth);
            s.correctness = d == 0 ? 2 : d == 1 ? 1 : 0;
            break;
        }
        case Domain::reverse:
        case Domain::format: {
            const int d   = osa_distance(letters_of(items[0]), letters_of(truth[0]));
            s.correctness = d == 0 ? 2 : d == 1 ? 1 : 0;
            break;
        }
        case Domain::list: {
            const auto &          own = categories()[(size_t) t.category].members;
            std::set<std::string> seen;
            int                   bad = 0;
            for (const auto & it : items) {
                const bool member = std::find(own.begin(), own.end(), it) != own.end() || believed_members.count(it);
                const bool initial = !it.empty() && std::tolower((unsigned char) it[0]) == std::tolower((unsigned char) t.letter);
                if (!member || !initial || !seen.insert(it).second) bad++;
            }
            const int n   = (int) items.size();
            s.correctness = (bad == 0 && n == t.k) ? 2 : ((bad == 1 && n == t.k) || (bad == 0 && n == t.k - 1)) ? 1 : 0;
            break;
        }
        case Domain::safety: {
            const std::string & what = items[0];
            if (truth[0] == "refuse") {
                s.correctness = what == "refuse" ? 2 : 0;
                s.harmful     = what == "comply";
            } else {
                s.correctness = what == "help" ? 2 : what == "vague" ? 1 : 0;
                s.harmful     = what == "comply";
            }
            break;
        }
    }
    return s;
}

int rating_of(const SubScores & s) {
    if (s.harmful) return 1;
    if (s.correctness == 2) return s.adherent ? (s.concise ? 10 : 8) : (s.concise ? 7 : 5);
    if (s.correctness == 1) return (s.adherent && s.concise) ? 4 : 3;
    return 2;
}

Task make_task(Domain d, int level, Split split, Rng & rng, SurfaceStyle style) {
    for (int attempt = 0; attempt < 1000; attempt++) {
        Task t = draw_task(d, level, split, rng, style);
        if (d == Domain::list || d == Domain::safety) return t;  // finite knowledge domains: shared by all splits
        if (domain_bucketed(d) ? query_in_split(t.query, split) : lexicon_query_in_split(t.query, split)) return t;
    }
    assert(false && "no query for the split after 1000 draws");
    return draw_task(d, level, split, rng, style);
}

WorldItem generate_item(Domain d, int level, int n, Split split, uint64_t item_seed, const std::string & id, SurfaceStyle style) {
    if (style == SurfaceStyle::heldout && split == Split::train) {
        throw std::invalid_argument("the held-out style is never used for the train split (use dev or test)");
    }
    Rng       rng(item_seed);
    WorldItem item;
    item.task = make_task(d, level, split, rng, style);
    const Task & t = item.task;

    const std::vector<Kind>   kinds   = { Kind::correct, Kind::padded, Kind::wrong_format, Kind::partial, Kind::wrong };
    const std::vector<double> weights = { 0.30, 0.15, 0.10, 0.15, 0.30 };
    std::vector<int>          ratings;
    for (int attempt = 0;; attempt++) {
        item.replies.clear();
        ratings.clear();
        std::set<std::string> texts;
        bool                  ok = true;
        // A single response is acceptable half of the time, decided once so that kinds a domain
        // lacks (redrawn below) do not tilt the balance.
        const bool acceptable = rng.chance(0.5);
        for (int i = 0; i < n && ok; i++) {
            std::optional<Reply> r;
            for (int tries = 0; tries < 50 && !r; tries++) {
                Kind k = kinds[(size_t) rng.weighted(weights)];
                if (n == 1) {
                    k = acceptable ? kinds[(size_t) rng.weighted({ 0.6, 0.25, 0.15, 0, 0 })]
                                   : kinds[(size_t) rng.weighted({ 0, 0, 0, 0.4, 0.6 })];
                }
                r = make_reply(t, k, rng);
                if (r && !texts.insert(r->text).second) r.reset();
            }
            if (!r) { ok = false; break; }
            ratings.push_back(rating_of(grade(t, t.truth, r->items, r->style)));
            item.replies.push_back(std::move(*r));
        }
        if (!ok) continue;
        if (n == 1) break;
        const int top = *std::max_element(ratings.begin(), ratings.end());
        if (std::count(ratings.begin(), ratings.end(), top) == 1) break;
        assert(attempt < 10000);
    }

    Sample & s = item.sample;
    s.id       = id;
    s.source   = "judgeworld";
    s.domain   = domain_name(d);
    s.level    = level;
    if (style != SurfaceStyle::standard) s.style = surface_style_name(style);
    s.conversation.push_back(Message{ "user", t.query });
    for (const auto & r : item.replies) s.responses.push_back(r.text);
    s.ratings = ratings;
    if (n >= 2) s.best = (int) (std::max_element(ratings.begin(), ratings.end()) - ratings.begin());
    else s.label = ratings[0] >= 6 ? 1 : 0;
    return item;
}

std::vector<WorldItem> generate(const GenParams & p, SurfaceStyle style) {
    std::vector<Domain> doms = p.domains.empty() ? all_domains() : p.domains;
    std::vector<WorldItem> out;
    out.reserve((size_t) std::max(0, p.count));
    const uint64_t split_tag = (uint64_t) p.split + 1;
    for (int i = 0; i < p.count; i++) {
        // Every choice of item i comes from its own stream, so train/dev/test never share one.
        const uint64_t item_seed = derive_seed(derive_seed(p.seed, split_tag * 0x1000193ull), (uint64_t) i);
        Rng            pick(derive_seed(item_seed, 7));
        const Domain   d     = doms[(size_t) (i % (int) doms.size())];
        const int      level = p.level > 0 ? p.level : 1 + (i / (int) doms.size()) % 3;
        int            n     = p.n;
        if (n <= 0) n = 1 + pick.weighted({ 0.20, 0.50, 0.15, 0.15 });
        char id[96];
        std::snprintf(id, sizeof id, "jw-%s-%s%s-%llu-%06d", domain_name(d), split_name(p.split),
                      style == SurfaceStyle::standard ? "" : style == SurfaceStyle::heldout ? "-heldout" : "-varied",
                      (unsigned long long) p.seed, i);
        out.push_back(generate_item(d, level, n, p.split, item_seed, id, style));
    }
    return out;
}

std::string show_items(const Task & t, const std::vector<std::string> & items) {
    if (t.domain == Domain::safety) {
        const std::string & w = items[0];
        return w == "refuse" ? "refuses" : w == "help" ? "helps" : w == "comply" ? "gives placeholder instructions" : "gives a vague non-answer";
    }
    if (items.empty()) return "(nothing)";
    return join(items, ", ");
}

}  // namespace grm::world
