// Step-by-step work for the judge world's skills, with optional realistic slips.
#include "world/work.h"

#include "world/lexicon.h"

#include <algorithm>
#include <cctype>

namespace grm::world {

namespace {

std::string join(const std::vector<std::string> & v, const std::string & sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); i++) out += (i ? sep : "") + v[i];
    return out;
}

std::vector<int> digits_lsb(long long v) {
    std::vector<int> d;
    do {
        d.push_back((int) (v % 10));
        v /= 10;
    } while (v > 0);
    return d;
}

long long from_digits_lsb(const std::vector<int> & d) {
    long long v = 0;
    for (size_t i = d.size(); i-- > 0;) v = v * 10 + d[i];
    return v;
}

std::string S(long long v) { return std::to_string(v); }

// Picks the column where a slip happens: preferably one where a carry/borrow is passed on
// (dropping it is the classic mistake), else any column (a one-off digit).
struct SlipPlan {
    int  column = -1;
    bool drop   = false;  // drop the carry/borrow passed from this column
};

SlipPlan plan_slip(Rng * slip, const std::vector<int> & passes, int columns) {
    SlipPlan p;
    if (!slip) return p;
    std::vector<int> with;
    for (int i = 0; i < (int) passes.size(); i++) if (passes[(size_t) i]) with.push_back(i);
    if (!with.empty() && slip->chance(0.8)) {
        p.column = slip->pick(with);
        p.drop   = true;
    } else {
        p.column = slip->below(columns);
    }
    return p;
}

}  // namespace

Work add_work(long long a, long long b, Rng * slip) {
    const std::vector<int> da = digits_lsb(a), db = digits_lsb(b);
    const int              cols = (int) std::max(da.size(), db.size());
    // dry run: which columns pass a carry on
    std::vector<int> passes((size_t) cols, 0);
    for (int i = 0, c = 0; i < cols; i++) {
        int s = (i < (int) da.size() ? da[(size_t) i] : 0) + (i < (int) db.size() ? db[(size_t) i] : 0) + c;
        c     = s >= 10;
        passes[(size_t) i] = c;
    }
    const SlipPlan plan = plan_slip(slip, passes, cols);

    Work                     w;
    std::vector<std::string> steps;
    std::vector<int>         out;
    int                      carry = 0;
    for (int i = 0; i < cols; i++) {
        const int   x = i < (int) da.size() ? da[(size_t) i] : 0, y = i < (int) db.size() ? db[(size_t) i] : 0;
        int         s = x + y + carry;
        std::string step = S(x) + " + " + S(y) + (carry ? " + 1" : "");
        if (plan.column == i && !plan.drop) {
            s = s % 10 == 9 ? s - 1 : s + 1;  // a one-off sum in this column
            w.slipped = true;
        }
        step += " = " + S(s) + ", write " + S(s % 10);
        int next = s >= 10 ? 1 : 0;
        if (next) step += " carry 1";
        if (plan.column == i && plan.drop) {
            next      = 0;  // wrote "carry 1" and then forgot it in the next column
            w.slipped = true;
        }
        carry = next;
        out.push_back(s % 10);
        steps.push_back(step);
    }
    if (carry) {
        steps.push_back("carry 1, write 1");
        out.push_back(1);
    }
    const long long r = from_digits_lsb(out);
    w.text            = "Add " + S(a) + " + " + S(b) + " from the right: " + join(steps, "; ") + ". Result " + S(r) + ".";
    w.result          = { S(r) };
    return w;
}

Work sub_work(long long a, long long b, Rng * slip) {
    const std::vector<int> da = digits_lsb(a), db = digits_lsb(b);
    const int              cols = (int) da.size();
    std::vector<int>       passes((size_t) cols, 0);
    for (int i = 0, br = 0; i < cols; i++) {
        int x = da[(size_t) i] - br, y = i < (int) db.size() ? db[(size_t) i] : 0;
        br    = x < y;
        passes[(size_t) i] = br;
    }
    const SlipPlan plan = plan_slip(slip, passes, cols);

    Work                     w;
    std::vector<std::string> steps;
    std::vector<int>         out;
    int                      borrow = 0;
    for (int i = 0; i < cols; i++) {
        const int   x0 = da[(size_t) i], y = i < (int) db.size() ? db[(size_t) i] : 0;
        const int   x  = x0 - borrow;
        std::string step = S(x0) + (borrow ? " - 1" : "") + " - " + S(y);
        int         next = 0, d;
        if (x < y) {
            d    = x + 10 - y;
            next = 1;
            step += " needs a borrow: " + S(x + 10) + " - " + S(y) + " = " + S(d);
        } else {
            d = x - y;
            step += " = " + S(d);
        }
        if (plan.column == i && !plan.drop) {
            d         = d == 9 ? 8 : d + 1;
            w.slipped = true;
            step      = step.substr(0, step.rfind(' ') + 1) + S(d);
        }
        step += ", write " + S(d);
        if (plan.column == i && plan.drop) {
            next      = 0;  // borrowed here, then forgot to take it from the next column
            w.slipped = true;
        }
        borrow = next;
        out.push_back(d);
        steps.push_back(step);
    }
    // A forgotten borrow in the top column can leave a "negative" remainder; keep the written digits.
    const long long r = from_digits_lsb(out);
    w.text            = "Subtract " + S(a) + " - " + S(b) + " from the right: " + join(steps, "; ") + ". Result " + S(r) + ".";
    w.result          = { S(r) };
    return w;
}

namespace {

// a * m for a single digit m, from the right.
Work mul_digit_work(long long a, int m, Rng * slip) {
    const std::vector<int> da = digits_lsb(a);
    const int              cols = (int) da.size();
    std::vector<int>       passes((size_t) cols, 0);
    for (int i = 0, c = 0; i < cols; i++) {
        int p = da[(size_t) i] * m + c;
        c     = p / 10;
        passes[(size_t) i] = c > 0 && i + 1 < cols;
    }
    const SlipPlan plan = plan_slip(slip, passes, cols);

    Work                     w;
    std::vector<std::string> steps;
    std::string              digits;  // most significant first, built backwards
    int                      carry = 0;
    for (int i = 0; i < cols; i++) {
        int         p    = da[(size_t) i] * m + carry;
        std::string step = S(da[(size_t) i]) + " * " + S(m) + (carry ? " + " + S(carry) : "");
        if (plan.column == i && !plan.drop) {
            p         = p + 1;
            w.slipped = true;
        }
        step += " = " + S(p);
        int next;
        if (i + 1 < cols) {
            step += ", write " + S(p % 10);
            next = p / 10;
            if (next) step += " carry " + S(next);
            digits.insert(digits.begin(), char('0' + p % 10));
        } else {
            step += ", write " + S(p);
            digits.insert(0, S(p));
            next = 0;
        }
        if (plan.column == i && plan.drop) {
            next      = 0;
            w.slipped = true;
        }
        carry = next;
        steps.push_back(step);
    }
    long long r = std::stoll(digits);
    w.text      = S(a) + " * " + S(m) + " from the right: " + join(steps, "; ") + ". Result " + S(r) + ".";
    w.result    = { S(r) };
    return w;
}

}  // namespace

Work mul_work(long long a, long long b, Rng * slip) {
    // Multiply by the shorter operand, digit by digit.
    if (S(b).size() > S(a).size()) std::swap(a, b);
    const std::vector<int> db = digits_lsb(b);
    Work                   w;
    if (db.size() == 1) {
        w      = mul_digit_work(a, db[0], slip);
        w.text = "Multiply " + w.text;
        return w;
    }
    // Which part slips: one partial product or the final addition.
    const int                slip_part = slip ? slip->below((int) db.size() + 1) : -1;
    std::vector<std::string> lines;
    std::vector<long long>   partials;
    for (size_t j = 0; j < db.size(); j++) {
        Work        p     = mul_digit_work(a, db[j], slip_part == (int) j ? slip : nullptr);
        w.slipped         = w.slipped || p.slipped;
        long long   v     = std::stoll(p.result[0]);
        std::string shift;
        for (size_t z = 0; z < j; z++) shift += "0";
        std::string line = "Multiply " + p.text;
        if (j > 0) line += " Shifted " + S(j) + ": " + S(v) + shift + ".";
        for (size_t z = 0; z < j; z++) v *= 10;
        partials.push_back(v);
        lines.push_back(line);
    }
    long long acc = partials[0];
    for (size_t j = 1; j < partials.size(); j++) {
        Work s    = add_work(acc, partials[j], slip_part == (int) db.size() ? slip : nullptr);
        w.slipped = w.slipped || s.slipped;
        lines.push_back(s.text);
        acc = std::stoll(s.result[0]);
    }
    w.text   = join(lines, "\n");
    w.result = { S(acc) };
    return w;
}

Work count_work(const std::string & word, char letter, Rng * slip) {
    Work w;
    // A slip skips one letter while listing (or, counting a letter that is absent, claims one).
    int skip = -1;
    if (slip) {
        std::vector<int> cands;
        for (int i = 0; i < (int) word.size(); i++) if (!letter || word[(size_t) i] == letter) cands.push_back(i);
        if (!cands.empty()) skip = slip->pick(cands);
        w.slipped = true;
    }
    std::vector<std::string> listed;
    std::vector<std::string> at;
    int                      pos = 0;
    for (int i = 0; i < (int) word.size(); i++) {
        if (i == skip && !letter) continue;  // lost a letter while listing them
        pos++;
        listed.push_back(std::string(1, word[(size_t) i]) + S(pos));
        if (letter && word[(size_t) i] == letter && i != skip) at.push_back(S(pos));
    }
    if (letter && slip && skip < 0 && !word.empty()) at.push_back("1");  // believed the first letter matched
    w.text = "Letters of '" + word + "': " + join(listed, " ") + ".";
    if (letter) {
        const std::string q = "'" + std::string(1, letter) + "'";
        w.text += at.empty() ? " " + q + " at no position: 0 times." : " " + q + " at " + join(at, ", ") + ": " + S((long long) at.size()) + (at.size() == 1 ? " time." : " times.");
        w.result = { S((long long) at.size()) };
    } else {
        w.text += " " + S(pos) + " letters.";
        w.result = { S(pos) };
    }
    return w;
}

Work reverse_work(const std::string & word, Rng * slip) {
    Work        w;
    std::string r(word.rbegin(), word.rend());
    if (slip) {
        std::vector<size_t> cands;
        for (size_t i = 0; i + 1 < r.size(); i++) if (r[i] != r[i + 1]) cands.push_back(i);
        if (!cands.empty()) {
            size_t i = slip->pick(cands);
            std::swap(r[i], r[i + 1]);
        } else {
            r = word;
        }
        w.slipped = true;
    }
    std::vector<std::string> ls;
    for (char c : r) ls.emplace_back(1, c);
    w.text   = "'" + word + "' from the last letter: " + join(ls, ", ") + " -> " + r + ".";
    w.result = { r };
    return w;
}

Work sort_work(const std::vector<long long> & nums, bool ascending, Rng * slip) {
    Work                   w;
    std::vector<long long> left = nums, out;
    const int              slip_step = slip && nums.size() >= 2 ? slip->below((int) nums.size() - 1) : -1;
    std::vector<std::string> steps;
    for (int step = 0; !left.empty(); step++) {
        std::vector<long long> sorted = left;
        std::sort(sorted.begin(), sorted.end());
        if (!ascending) std::reverse(sorted.begin(), sorted.end());
        long long pick = sorted[0];
        if (step == slip_step && sorted.size() >= 2) {
            pick      = sorted[1];  // took the runner-up for the extreme
            w.slipped = true;
        }
        std::vector<std::string> shown;
        for (long long v : left) shown.push_back(S(v));
        if (left.size() == 1) steps.push_back("Last: " + S(pick) + ".");
        else steps.push_back(std::string(ascending ? "Smallest" : "Largest") + " of " + join(shown, ", ") + ": " + S(pick) + ".");
        out.push_back(pick);
        left.erase(std::find(left.begin(), left.end(), pick));
    }
    std::vector<std::string> res;
    for (long long v : out) res.push_back(S(v));
    w.text   = join(steps, " ") + " Order: " + join(res, ", ") + ".";
    w.result = res;
    return w;
}

Work compare_work(const std::string & x, const std::string & y, bool larger, Rng * slip) {
    auto split = [](const std::string & v, std::string & whole, std::string & frac) {
        size_t d = v.find('.');
        whole    = v.substr(0, d);
        frac     = d == std::string::npos ? "" : v.substr(d + 1);
    };
    std::string wx, fx, wy, fy;
    split(x, wx, fx);
    split(y, wy, fy);
    Work                     w;
    std::vector<std::string> steps;
    int                      cmp = 0;  // >0: x larger
    const long long          ix = std::stoll(wx), iy = std::stoll(wy);
    steps.push_back("whole " + wx + (ix == iy ? " = " : ix > iy ? " > " : " < ") + wy);
    if (ix != iy) cmp = ix > iy ? 1 : -1;
    const char * place[] = { "tenths", "hundredths", "thousandths" };
    const size_t len     = std::max(fx.size(), fy.size());
    for (size_t i = 0; cmp == 0 && i < len; i++) {
        const char a = i < fx.size() ? fx[i] : '0', b = i < fy.size() ? fy[i] : '0';
        steps.push_back(std::string(place[std::min<size_t>(i, 2)]) + " " + a + (a == b ? " = " : a > b ? " > " : " < ") + b);
        if (a != b) cmp = a > b ? 1 : -1;
    }
    if (slip) {
        w.slipped = true;
        if (ix == iy && fx.size() != fy.size()) {
            // the classic decimal trap: compare the digits after the point as whole numbers
            steps.assign(1, "whole " + wx + " = " + wy);
            const long long nx = std::stoll(fx), ny = std::stoll(fy);
            steps.push_back("after the point " + fx + (nx == ny ? " = " : nx > ny ? " > " : " < ") + fy);
            cmp = nx == ny ? -cmp : (nx > ny ? 1 : -1);
        } else {
            // misread the deciding digits
            std::string & last = steps.back();
            size_t        op   = last.find(cmp > 0 ? " > " : " < ");
            if (op != std::string::npos) last.replace(op, 3, cmp > 0 ? " < " : " > ");
            cmp = -cmp;
        }
    }
    const bool x_wins = (cmp > 0) == larger;
    w.text            = x + " vs " + y + ": " + join(steps, "; ") + ". " + (larger ? "Larger: " : "Smaller: ") + (x_wins ? x : y) + ".";
    w.result          = { x_wins ? x : y };
    return w;
}

Work task_work(const Task & t, Rng * slip) {
    switch (t.domain) {
        case Domain::arith: {
            const long long a = t.nums[0], b = t.nums[1];
            if (t.form == 0) return add_work(a, b, slip);
            if (t.form == 1) return sub_work(a, b, slip);
            if (t.form == 2) return mul_work(a, b, slip);
            const bool slip_mul = slip && slip->chance(0.5);
            Work       m        = mul_work(b, t.nums[2], slip_mul ? slip : nullptr);
            Work       s        = add_work(a, std::stoll(m.result[0]), slip && !slip_mul ? slip : nullptr);
            Work       w;
            auto       low = [](std::string x) { x[0] = (char) std::tolower((unsigned char) x[0]); return x; };
            w.text    = "First " + low(m.text) + "\nThen " + low(s.text);
            w.result  = s.result;
            w.slipped = m.slipped || s.slipped;
            return w;
        }
        case Domain::sort:    return sort_work(t.nums, t.form == 0, slip);
        case Domain::reverse: return reverse_work(t.word, slip);
        case Domain::count:   return count_work(t.word, t.form == 0 ? t.letter : 0, slip);
        case Domain::compare: return compare_work(t.strs[0], t.strs[1], t.form == 0, slip);
        case Domain::format: {
            Work                     w;
            std::vector<std::string> ls = letters_of(t.word);
            int                      bad = slip ? slip->below((int) ls.size()) : -1;
            w.slipped                    = slip != nullptr;
            std::string out;
            if (t.form == 0) {
                std::vector<std::string> steps;
                for (int i = 0; i < (int) ls.size(); i++) {
                    char up = (char) std::toupper((unsigned char) ls[(size_t) i][0]);
                    if (i == bad) up = ls[(size_t) i][0];  // left one letter as it was
                    steps.push_back(ls[(size_t) i] + "->" + std::string(1, up));
                    out += up;
                }
                w.text = "Capitals of '" + t.word + "': " + join(steps, ", ") + ": " + out + ".";
            } else {
                if (bad >= 0) ls.erase(ls.begin() + bad);  // lost a letter while listing them
                out    = join(ls, "-");
                w.text = "Letters of '" + t.word + "': " + join(ls, ", ") + ", joined by dashes: " + out + ".";
            }
            w.result = { out };
            return w;
        }
        case Domain::lookup: {
            Work      w;
            long long a = t.nums[0], b = t.nums[1];
            if (slip) {
                std::swap(a, b);  // read each person's age from the other's sentence
                w.slipped = true;
            }
            const bool  older = t.form == 0;
            const bool  p_wins = (a > b) == older;
            w.text = t.strs[0] + " " + S(a) + ", " + t.strs[1] + " " + S(b) + ": " + S(a) + (a > b ? " > " : " < ") + S(b) + ". " +
                     (older ? "Older: " : "Younger: ") + (p_wins ? t.strs[0] : t.strs[1]) + ".";
            w.result = { p_wins ? t.strs[0] : t.strs[1] };
            return w;
        }
        case Domain::list: {
            Work         w;
            const auto & c = categories()[(size_t) t.category];
            w.text   = "Need " + S(t.k) + " different " + c.name + " starting with " + t.strs[0] + ".";
            w.result = t.truth;
            return w;
        }
        case Domain::safety: {
            Work         w;
            const auto & sp      = safety_pairs(t.surface)[(size_t) t.pair];
            bool         harmful = t.harmful;
            if (slip) {
                harmful   = !harmful;  // confused the request with its look-alike
                w.slipped = true;
            }
            const std::string & req = t.harmful ? sp.harmful : sp.benign;
            w.text   = harmful ? "'" + req + "' is harmful: " + sp.harm_why + ". A good answer refuses."
                               : "'" + req + "' is harmless. A good answer helps.";
            w.result = { harmful ? "refuse" : "help" };
            return w;
        }
    }
    return Work{};
}

}  // namespace grm::world
