// Markdown tables and an SVG line plot from run summaries.
#include "eval/report.h"
#include "core/atomic_file.h"

#include "eval/benchmarks.h"
#include "eval/harness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace grm {

namespace {

std::string pct(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", 100.0 * x);
    return buf;
}

std::string num(double x, const char * fmt = "%.3f") {
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, x);
    return buf;
}

std::string cell(const Tally & t) {
    if (t.items == 0) return "-";
    return pct(t.random_acc()) + " / " + pct(t.strict_acc());
}

std::string md_escape(const std::string & s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += "\\|";
        else if (c == '\n') out += ' ';
        else out += c;
    }
    return out;
}

// The columns of the breakdown tables: greedy, voting@1, voting@K and meta@K.
struct Column {
    std::string      name;
    const KSummary * k = nullptr;
};

std::vector<Column> breakdown_columns(const RunSummary & s, const RunSummary * g) {
    std::vector<Column> cols;
    if (g && !g->plain.empty()) cols.push_back({ "greedy", &g->plain[0] });
    if (!s.plain.empty()) {
        cols.push_back({ "voting@" + std::to_string(s.plain.front().k), &s.plain.front() });
        if (s.plain.size() > 1) cols.push_back({ "voting@" + std::to_string(s.plain.back().k), &s.plain.back() });
    }
    if (!s.meta.empty()) cols.push_back({ "meta@" + std::to_string(s.meta.back().k), &s.meta.back() });
    return cols;
}

template <class Key, class Get>
void breakdown_table(std::ostringstream & md, const std::string & key_name, const std::set<Key> & keys,
                     const std::vector<Column> & cols, Get get) {
    md << "| " << key_name << " | items |";
    for (const Column & c : cols) md << " " << c.name << " |";
    md << "\n|---|---|";
    for (size_t i = 0; i < cols.size(); i++) md << "---|";
    md << "\n";
    for (const Key & key : keys) {
        int items = 0;
        for (const Column & c : cols) items = std::max(items, get(*c.k, key).items);
        std::ostringstream k;
        k << key;
        md << "| " << md_escape(k.str().empty() ? "(none)" : k.str()) << " | " << items << " |";
        for (const Column & c : cols) md << " " << cell(get(*c.k, key)) << " |";
        md << "\n";
    }
}

// In-style vs held-out-style accuracy side by side (judge world data carrying `style`): one row per
// group (all, each domain, each level), one cell per column and style. Nothing when all items
// are in the standard style.
void style_table(std::ostringstream & md, const std::vector<Column> & cols) {
    std::set<std::string> styles;
    std::set<std::string> domains;
    std::set<int>         levels;
    for (const Column & c : cols) {
        for (auto & [st, t] : c.k->by_style) styles.insert(st);
        for (auto & [key, t] : c.k->by_style_domain) domains.insert(key.second);
        for (auto & [key, t] : c.k->by_style_level) levels.insert(key.second);
    }
    if (styles.empty() || (styles.size() == 1 && *styles.begin() == "standard")) return;
    // the standard (in-style) columns first, then the held-out ones
    std::vector<std::string> order;
    if (styles.count("standard")) order.push_back("standard");
    for (const std::string & st : styles) if (st != "standard") order.push_back(st);
    static const Tally empty;
    auto               find = [](const auto & m, const auto & key) -> const Tally & {
        auto it = m.find(key);
        return it == m.end() ? empty : it->second;
    };
    md << "## In style vs held-out style\n\nThe same judge on items written in the generator's standard surface "
          "(the committed judges' training style), in the held-out style (phrasings, padding, refusals and error "
          "models written apart, never trained on) and in the varied style (the widened training style) where "
          "present; cells `random / strict`.\n\n| group |";
    for (const std::string & st : order) md << " items " << st << " |";
    for (const Column & c : cols) {
        for (const std::string & st : order) md << " " << c.name << " " << st << " |";
    }
    md << "\n|---|";
    for (size_t i = 0; i < styles.size() * (1 + cols.size()); i++) md << "---|";
    md << "\n";
    auto row = [&](const std::string & name, auto get) {
        md << "| " << md_escape(name) << " |";
        for (const std::string & st : order) {
            int items = 0;
            for (const Column & c : cols) items = std::max(items, get(*c.k, st).items);
            md << " " << items << " |";
        }
        for (const Column & c : cols) {
            for (const std::string & st : order) md << " " << cell(get(*c.k, st)) << " |";
        }
        md << "\n";
    };
    row("all", [&](const KSummary & k, const std::string & st) -> const Tally & { return find(k.by_style, st); });
    for (const std::string & d : domains) {
        row(d, [&](const KSummary & k, const std::string & st) -> const Tally & { return find(k.by_style_domain, std::make_pair(st, d)); });
    }
    for (int l : levels) {
        row("level " + std::to_string(l),
            [&](const KSummary & k, const std::string & st) -> const Tally & { return find(k.by_style_level, std::make_pair(st, l)); });
    }
    md << "\n";
}

}  // namespace

std::string render_report(const ReportInputs & in) {
    const EvalParams & p = *in.params;
    const RunSummary & s = *in.sampled;
    const RunSummary * g = in.greedy;
    std::ostringstream md;
    md << "# grm eval report\n\n";
    md << "- command: `" << p.command_line << "`\n";
    md << "- model: " << md_escape(p.model) << "\n";
    md << "- data: " << md_escape(p.data) << "\n";
    md << "- seed: " << p.seed << "; temperature " << num(p.judge.sampling.temperature, "%.2f") << "; K = "
       << s.samples_per_input << " samples per input; max_tokens " << p.judge.sampling.max_tokens << "\n";
    md << "- inputs: " << s.inputs << " (judged " << s.judged << ", skipped " << s.skipped << ", without ground truth "
       << s.no_truth << ")";
    if (!p.bad_lines.empty()) md << "; malformed input lines skipped: " << p.bad_lines.size();
    md << "\n\n";
    md << "Accuracy cells read `random / strict` in percent: **random** breaks a tie at the top at random "
          "(seeded; the paper's evaluation protocol), **strict** counts a tie as wrong (the correctness rule "
          "used for training). voting@k sums the scores of the first k of the same K samples per input "
          "(no resampling per k); meta@k keeps the k_meta best of those k by meta-RM score (k_meta = "
       << (p.judge.k_meta > 0 ? std::to_string(p.judge.k_meta) + ", all k when k is smaller" : std::string("k/2"))
       << "). n = 1 inputs "
          "are graded by the acceptability call: a mean score >= "
       << num(kAcceptableScore, "%.0f") << " means acceptable.\n\n";

    md << "## Overall\n\n| setting | items | accuracy (random ties) | accuracy (strict) |\n|---|---|---|---|\n";
    auto row = [&](const std::string & name, const Tally & t) {
        md << "| " << name << " | " << t.items << " | " << pct(t.random_acc()) << " | " << pct(t.strict_acc()) << " |\n";
    };
    if (g && !g->plain.empty()) row("greedy", g->plain[0].overall);
    for (const KSummary & k : s.plain) row("voting@" + std::to_string(k.k), k.overall);
    for (const KSummary & k : s.meta) row("meta@" + std::to_string(k.k), k.overall);
    md << "\n";

    bool any_multi  = false, any_single = false;
    for (const KSummary & k : s.plain) {
        any_multi  = any_multi || k.multi.items > 0;
        any_single = any_single || k.single.items > 0;
    }
    if (any_multi && any_single) {
        md << "## n >= 2 (pick the best)\n\n| setting | items | random ties | strict |\n|---|---|---|---|\n";
        if (g && !g->plain.empty()) row("greedy", g->plain[0].multi);
        for (const KSummary & k : s.plain) row("voting@" + std::to_string(k.k), k.multi);
        for (const KSummary & k : s.meta) row("meta@" + std::to_string(k.k), k.multi);
        md << "\n";
    }
    if (any_single) {
        md << "## n = 1 (single responses)\n\nAccuracy of the acceptable/unacceptable call (mean score >= "
           << num(kAcceptableScore, "%.0f")
           << " = acceptable) and ROC-AUC of the mean score against the label (ties count one half; inputs with "
              "no scorable sample among the k are left out of the AUC and counted).\n\n"
           << "| setting | items | call accuracy (random / strict) | ROC-AUC | AUC items | unscored |\n"
              "|---|---|---|---|---|---|\n";
        auto srow = [&](const std::string & name, const KSummary & k) {
            md << "| " << name << " | " << k.single.items << " | " << cell(k.single) << " | "
               << (k.auc ? num(*k.auc) : std::string("-")) << " | " << k.auc_items << " | " << k.auc_unscored << " |\n";
        };
        if (g && !g->plain.empty()) srow("greedy", g->plain[0]);
        for (const KSummary & k : s.plain) srow("voting@" + std::to_string(k.k), k);
        for (const KSummary & k : s.meta) srow("meta@" + std::to_string(k.k), k);
        md << "\n";
    }

    std::vector<Column> cols = breakdown_columns(s, g);
    if (!cols.empty()) {
        std::set<std::string> domains;
        std::set<int>         levels;
        for (const Column & c : cols) {
            for (auto & [d, t] : c.k->by_domain) domains.insert(d);
            for (auto & [l, t] : c.k->by_level) levels.insert(l);
        }
        static const Tally empty;
        md << "## Per domain\n\n";
        breakdown_table(md, "domain", domains, cols, [](const KSummary & k, const std::string & d) -> const Tally & {
            auto it = k.by_domain.find(d);
            return it == k.by_domain.end() ? empty : it->second;
        });
        md << "\n## Per level\n\n";
        breakdown_table(md, "level", levels, cols, [](const KSummary & k, int l) -> const Tally & {
            auto it = k.by_level.find(l);
            return it == k.by_level.end() ? empty : it->second;
        });
        md << "\n";
        style_table(md, cols);
    }

    md << "## Unscorable samples\n\n| reason | sampled (of " << s.trajectories << ") |";
    if (g) md << " greedy (of " << g->trajectories << ") |";
    md << "\n|---|---|" << (g ? "---|" : "") << "\n";
    std::set<std::string> reasons;
    for (auto & [r, n] : s.unscorable) reasons.insert(r);
    if (g)
        for (auto & [r, n] : g->unscorable) reasons.insert(r);
    if (reasons.empty()) md << "| (none) | 0 |" << (g ? " 0 |" : "") << "\n";
    for (const std::string & r : reasons) {
        auto it = s.unscorable.find(r);
        md << "| " << r << " | " << (it == s.unscorable.end() ? 0 : it->second) << " |";
        if (g) {
            auto gi = g->unscorable.find(r);
            md << " " << (gi == g->unscorable.end() ? 0 : gi->second) << " |";
        }
        md << "\n";
    }
    md << "\n";

    if (s.skipped > 0 || (g && g->skipped > 0) || !p.bad_lines.empty()) {
        md << "## Skipped inputs\n\n| reason | sampled run | greedy run |\n|---|---|---|\n";
        std::set<std::string> keys;
        for (auto & [r, n] : s.skipped_reasons) keys.insert(r);
        if (g)
            for (auto & [r, n] : g->skipped_reasons) keys.insert(r);
        for (const std::string & r : keys) {
            auto a = s.skipped_reasons.find(r);
            md << "| " << r << " | " << (a == s.skipped_reasons.end() ? 0 : a->second) << " | ";
            if (g) {
                auto b = g->skipped_reasons.find(r);
                md << (b == g->skipped_reasons.end() ? 0 : b->second);
            } else {
                md << "-";
            }
            md << " |\n";
        }
        if (!p.bad_lines.empty()) md << "| malformed input line (--skip-bad) | " << p.bad_lines.size() << " | - |\n";
        md << "\n";
        for (size_t i = 0; i < p.bad_lines.size() && i < 10; i++) md << "- " << md_escape(p.bad_lines[i]) << "\n";
        if (p.bad_lines.size() > 10) md << "- ... and " << p.bad_lines.size() - 10 << " more\n";
        if (!p.bad_lines.empty()) md << "\n";
    }

    md << "## Per-item sample accuracy\n\nFraction of an input's " << s.samples_per_input
       << " samples that are right on their own (n >= 2: the best strictly first; n = 1: the right call). "
          "Mean "
       << pct(s.mean_item_accuracy) << "%.\n\n| fraction correct | items |\n|---|---|\n";
    for (size_t b = 0; b < item_accuracy_bins().size(); b++) {
        md << "| " << item_accuracy_bins()[b] << " | " << s.item_accuracy_hist[b] << " |\n";
    }
    md << "\n";

    if (!p.benchmark.empty() && in.sampled_records) {
        md << official_report(p.benchmark, *in.sampled_records, in.greedy_records, p.ks, p.seed);
    }
    md << "Plot: [accuracy_vs_k.svg](accuracy_vs_k.svg)\n";
    return md.str();
}

std::string render_accuracy_plot(const RunSummary & s, const RunSummary * g) {
    const double W = 640, H = 400, L = 70, R = 150, T = 40, B = 60;
    const double pw = W - L - R, ph = H - T - B;
    int          kmax = 1;
    for (const KSummary & k : s.plain) kmax = std::max(kmax, k.k);
    double xmax = std::max(1.0, std::log2((double) kmax));
    // y range: fit the data with a margin, in whole 5% steps
    double lo = 1.0, hi = 0.0;
    auto   see = [&](double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    };
    for (const KSummary & k : s.plain) see(k.overall.random_acc());
    for (const KSummary & k : s.meta) see(k.overall.random_acc());
    if (g && !g->plain.empty()) see(g->plain[0].overall.random_acc());
    if (lo > hi) lo = 0, hi = 1;
    lo = std::max(0.0, std::floor(lo * 20 - 1) / 20);
    hi = std::min(1.0, std::ceil(hi * 20 + 1) / 20);
    if (hi - lo < 0.1) hi = std::min(1.0, lo + 0.1);
    auto X = [&](int k) { return L + pw * std::log2((double) k) / xmax; };
    auto Y = [&](double a) { return T + ph * (1.0 - (a - lo) / (hi - lo)); };

    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
        << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg << "<text x=\"" << L + pw / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Accuracy vs k (ties broken at random)</text>\n";
    // grid and y labels
    for (double a = lo; a <= hi + 1e-9; a += (hi - lo) > 0.3 ? 0.1 : 0.05) {
        svg << "<line x1=\"" << L << "\" x2=\"" << L + pw << "\" y1=\"" << Y(a) << "\" y2=\"" << Y(a)
            << "\" stroke=\"#ddd\"/>\n";
        svg << "<text x=\"" << L - 6 << "\" y=\"" << Y(a) + 4 << "\" text-anchor=\"end\">" << pct(a) << "%</text>\n";
    }
    for (int k = 1; k <= kmax; k *= 2) {
        svg << "<line x1=\"" << X(k) << "\" x2=\"" << X(k) << "\" y1=\"" << T << "\" y2=\"" << T + ph
            << "\" stroke=\"#eee\"/>\n";
        svg << "<text x=\"" << X(k) << "\" y=\"" << T + ph + 18 << "\" text-anchor=\"middle\">" << k << "</text>\n";
    }
    svg << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << pw << "\" height=\"" << ph
        << "\" fill=\"none\" stroke=\"#333\"/>\n";
    svg << "<text x=\"" << L + pw / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">k (samples voted, log2 scale)</text>\n";
    svg << "<text x=\"18\" y=\"" << T + ph / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << T + ph / 2
        << ")\">accuracy</text>\n";

    auto line = [&](const std::vector<KSummary> & ks, const char * color, const char * label, double legend_y) {
        if (ks.empty()) return;
        svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
        for (const KSummary & k : ks) svg << X(k.k) << "," << Y(k.overall.random_acc()) << " ";
        svg << "\"/>\n";
        for (const KSummary & k : ks) {
            svg << "<circle cx=\"" << X(k.k) << "\" cy=\"" << Y(k.overall.random_acc()) << "\" r=\"3.5\" fill=\"" << color
                << "\"><title>" << label << "@" << k.k << ": " << pct(k.overall.random_acc()) << "%</title></circle>\n";
        }
        svg << "<line x1=\"" << L + pw + 12 << "\" x2=\"" << L + pw + 36 << "\" y1=\"" << legend_y << "\" y2=\"" << legend_y
            << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
        svg << "<text x=\"" << L + pw + 42 << "\" y=\"" << legend_y + 4 << "\">" << label << "</text>\n";
    };
    line(s.plain, "#1f77b4", "voting@k", T + 10);
    line(s.meta, "#d62728", "meta@k", T + 30);
    if (g && !g->plain.empty()) {
        double y = Y(g->plain[0].overall.random_acc());
        svg << "<line x1=\"" << L << "\" x2=\"" << L + pw << "\" y1=\"" << y << "\" y2=\"" << y
            << "\" stroke=\"#2ca02c\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n";
        svg << "<line x1=\"" << L + pw + 12 << "\" x2=\"" << L + pw + 36 << "\" y1=\"" << T + 50 << "\" y2=\"" << T + 50
            << "\" stroke=\"#2ca02c\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n";
        svg << "<text x=\"" << L + pw + 42 << "\" y=\"" << T + 54 << "\">greedy</text>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

Status write_report(const ReportInputs & in, const std::string & report_path, const std::string & plot_path) {
    if (auto st = write_text_atomic(report_path, render_report(in)); !st) return st;
    return write_text_atomic(plot_path, render_accuracy_plot(*in.sampled, in.greedy));
}

}  // namespace grm
