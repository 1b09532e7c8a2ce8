#include "engines/exact_attention.h"

#include "engines/decode_matmul.h"
#include "engines/simd.h"

#include "ggml-backend-impl.h"  // the device interface (installed by scripts/setup.sh from the pinned tree)
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace grm {
namespace {

using namespace simd;

constexpr int kBlock = 64;  // cells converted to F32 at a time: K and V blocks stay in L1

// e^x for x <= 0, 16 lanes (glibc's expf does not vectorize): 2^n * 2^f with t = x log2(e) = n + f,
// n rounded by the 1.5 * 2^23 trick (which also leaves n in the sum's low bits), f in [-0.5, 0.5],
// 2^f by its degree-6 Taylor polynomial (relative error below 2e-7).
inline vf exp_nonpos(vf x) {
    x           = x < -87.0f ? -87.0f : x;
    const vf t  = x * 1.44269504f;
    const vf u  = t + 12582912.0f;
    const vf f  = t - (u - 12582912.0f);
    vf       p  = f * 1.540353e-4f + 1.3333558e-3f;
    p           = p * f + 9.6181291e-3f;
    p           = p * f + 5.55041087e-2f;
    p           = p * f + 2.40226507e-1f;
    p           = p * f + 6.93147181e-1f;
    p           = p * f + 1.0f;
    const vi e  = ((vi) u - 0x4B400000 + 127) << 23;
    return p * (vf) e;
}

// Which cells each query sees, from the mask (F16 0 or -inf; other finite values are biases).
// Cells seen with bias 0 by the same set of queries form a group (a judgment's prompt: its k
// samples; the cells every query sees), computed densely for all the group's rows at once; cells of
// small groups and biased cells are (cell, query) pairs, in cell order.
struct Visibility {
    struct Group {
        std::vector<int> queries, cells;
    };
    struct Pair {
        int   cell, query;
        float bias;
    };
    std::vector<Group> groups;
    std::vector<Pair>  pairs;
};

Visibility visibility(const ggml_tensor * mask, int n_q, int n_kv, int G) {
    constexpr uint16_t kNegInf = 0xFC00;
    const int          W       = (n_q + 63) / 64;
    std::vector<const uint16_t *> rows(n_q);
    for (int i = 0; i < n_q; i++) rows[i] = (const uint16_t *) ((const char *) mask->data + i * mask->nb[1]);
    Visibility                              vis;
    std::map<std::vector<uint64_t>, int>    index;  // query set -> group
    std::vector<uint64_t>                   set(W), prev;
    int                                     prev_group = -1;
    for (int c = 0; c < n_kv; c++) {
        std::fill(set.begin(), set.end(), 0);
        bool any = false;
        for (int i = 0; i < n_q; i++) {
            const uint16_t m = rows[i][c];
            if ((m & 0x7FFF) == 0) {  // +0 or -0
                set[i / 64] |= 1ull << (i % 64);
                any = true;
            } else if (m != kNegInf) {
                vis.pairs.push_back({ c, i, ggml_fp16_to_fp32(m) });
            }
        }
        if (!any) continue;
        int g = prev_group;
        if (set != prev) {  // runs of cells share a set: look it up once per run
            auto it = index.find(set);
            if (it == index.end()) {
                it = index.emplace(set, (int) vis.groups.size()).first;
                vis.groups.emplace_back();
                for (int i = 0; i < n_q; i++)
                    if (set[i / 64] >> (i % 64) & 1) vis.groups.back().queries.push_back(i);
            }
            g          = it->second;
            prev       = set;
            prev_group = g;
        }
        vis.groups[g].cells.push_back(c);
    }
    // A group of fewer than 6 rows is cheaper as pairs (a dot each) than as vectors of 16 rows.
    std::vector<Visibility::Group> dense;
    for (auto & g : vis.groups) {
        if (G * (int) g.queries.size() >= 6 && g.cells.size() >= 8) {
            dense.push_back(std::move(g));
            continue;
        }
        for (int c : g.cells)
            for (int i : g.queries) vis.pairs.push_back({ c, i, 0.0f });
    }
    vis.groups = std::move(dense);
    std::sort(vis.pairs.begin(), vis.pairs.end(), [](const Visibility::Pair & x, const Visibility::Pair & y) {
        return x.cell != y.cell ? x.cell < y.cell : x.query < y.query;
    });
    return vis;
}

// Whether computing the node here beats ggml's kernel, in row x cell dot products per KV head:
// ggml's tiled kernel (64 or more queries) is dense over all cells; here groups cost their padded
// rows, a pair about 3 dots (its own conversion and reduction). ggml's kernel for fewer queries
// goes one query at a time and is always slower.
bool pays(const Visibility & vis, int n_q, int n_kv, int G) {
    if (n_q < 64) return true;
    double here = 3.0 * G * (double) vis.pairs.size();
    for (const auto & g : vis.groups) here += (double) g.cells.size() * whole_vectors(G * (int) g.queries.size());
    return here <= (double) n_kv * n_q * G;
}

// The KV cache streams from memory (each decode step's weights evict it from the caches) and its
// rows are strided (all heads of a cell side by side), so rows are fetched a block ahead.
inline void prefetch_row(const ggml_fp16_t * row, int n) {
    for (int b = 0; b < n * (int) sizeof(ggml_fp16_t); b += 64) __builtin_prefetch((const char *) row + b);
}

template <class Row> void prefetch_rows(const Row & row, const std::vector<int> & cells, int j0, int n) {
    for (int j = j0; j < std::min<int>(j0 + kBlock, (int) cells.size()); j++) prefetch_row(row(cells[j]), n);
}

// out[u][d0 + :NC*16] += sum over the block's nb cells j of p[j * Rp + u] * v[j * DVp + :NC*16], for
// the 4 rows u whose out is set (the others are padding): 4 x NC accumulators stay in registers.
template <int NC>
void weigh_values(const float * p, int Rp, const float * v, int DVp, int nb, float * const out[4], int d0) {
    vf a[4][NC];
    for (int u = 0; u < 4; u++)
        for (int c = 0; c < NC; c++) a[u][c] = out[u] ? vload(out[u] + d0 + c * kW) : vf{};
    for (int j = 0; j < nb; j++) {
        vf x[NC];
        for (int c = 0; c < NC; c++) x[c] = vload(v + (size_t) j * DVp + c * kW);
        for (int u = 0; u < 4; u++)
            for (int c = 0; c < NC; c++) a[u][c] += p[(size_t) j * Rp + u] * x[c];
    }
    for (int u = 0; u < 4; u++)
        if (out[u])
            for (int c = 0; c < NC; c++) vstore(out[u] + d0 + c * kW, a[u][c]);
}

// One KV head: its G query heads x n_q queries are the rows r = g * n_q + i (head h * G + g).
// A group's rows are its queries' (local row l = g * |queries| + x for query queries[x]); its scores
// and weighted values are computed for all of them at once (vectors across 16 rows), a pair's for
// the G rows of its query. Softmax runs per row across its groups and pairs.
void attend_head(const ggml_tensor * dst, const Visibility & vis, int h, float scale, float softcap) {
    const ggml_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2];
    const int DK = (int) k->ne[0], DV = (int) v->ne[0], n_q = (int) q->ne[1], n_head = (int) q->ne[2];
    const int G = n_head / (int) k->ne[2], R = G * n_q, DKp = whole_vectors(DK), DVp = whole_vectors(DV);
    const int nP = (int) vis.pairs.size(), nG = (int) vis.groups.size();
    auto krow = [&](int c) { return (const ggml_fp16_t *) ((const char *) k->data + c * k->nb[1] + h * k->nb[2]); };
    auto vrow = [&](int c) { return (const ggml_fp16_t *) ((const char *) v->data + c * v->nb[1] + h * v->nb[2]); };
    if (nG > 0) prefetch_rows(krow, vis.groups[0].cells, 0, DK);

    thread_local std::vector<float> qr, qt, s, so, kb, vb, acc, mx, sum, tmp, lm;
    thread_local std::vector<size_t> at;  // group -> offset of its scores in s
    thread_local std::vector<int>    glob; // a group's local rows -> global rows
    qr.assign((size_t) R * DKp, 0.0f);  // [R][DKp] scaled queries, padded with zeros
    for (int r = 0; r < R; r++) {
        const int     g = r / n_q, i = r % n_q;
        const float * src = (const float *) ((const char *) q->data + i * q->nb[1] + (h * G + g) * q->nb[2]);
        for (int d = 0; d < DK; d++) qr[(size_t) r * DKp + d] = scale * src[d];
    }
    auto rp   = [&](const Visibility::Group & gr) { return whole_vectors(G * (int) gr.queries.size()); };
    auto rows = [&](const Visibility::Group & gr) {  // glob[l] for l < padded rows; -1 = padding
        const int nq = (int) gr.queries.size();
        glob.assign(rp(gr), -1);
        for (int l = 0; l < G * nq; l++) glob[l] = (l / nq) * n_q + gr.queries[l % nq];
    };
    at.resize(nG + 1);
    at[0] = 0;
    for (int gi = 0; gi < nG; gi++) at[gi + 1] = at[gi] + vis.groups[gi].cells.size() * rp(vis.groups[gi]);
    s.resize(at[nG]);                                     // per group [cells][padded rows]: scores, then weights
    so.assign(whole_vectors(nP * G), 0.0f);  // [nP][G] the same for the pairs
    kb.resize((size_t) kBlock * DK);
    vb.assign((size_t) kBlock * DVp, 0.0f);  // value rows padded to whole vectors with zeros
    tmp.assign(std::max(DKp, DVp), 0.0f);  // one K or V row, padded with zeros
    mx.assign(R, -INFINITY);
    sum.assign(R, 0.0f);

    // 1. groups: scores for all their rows at once, 8 cells per pass (independent accumulators)
    for (int gi = 0; gi < nG; gi++) {
        const auto & gr = vis.groups[gi];
        const int    Rp = rp(gr), nC = (int) gr.cells.size();
        float *      sg = &s[at[gi]];
        rows(gr);
        qt.assign((size_t) DK * Rp, 0.0f);  // [DK][Rp] the group's queries, transposed
        for (int l = 0; l < Rp; l++)
            if (glob[l] >= 0)
                for (int d = 0; d < DK; d++) qt[(size_t) d * Rp + l] = qr[(size_t) glob[l] * DKp + d];
        for (int j0 = 0; j0 < nC; j0 += kBlock) {
            const int nb = std::min(kBlock, nC - j0);
            for (int j = 0; j < nb; j++) to_f32(krow(gr.cells[j0 + j]), &kb[(size_t) j * DK], DK);
            if (j0 + kBlock < nC) prefetch_rows(krow, gr.cells, j0 + kBlock, DK);
            else if (gi + 1 < nG) prefetch_rows(krow, vis.groups[gi + 1].cells, 0, DK);
            for (int r0 = 0; r0 < Rp; r0 += kW) {
                int j = 0;
                for (; j + 8 <= nb; j += 8) {
                    vf a[8] = {};
                    for (int d = 0; d < DK; d++) {
                        const vf qv = vload(&qt[(size_t) d * Rp + r0]);
                        for (int u = 0; u < 8; u++) a[u] += kb[(size_t) (j + u) * DK + d] * qv;
                    }
                    for (int u = 0; u < 8; u++) vstore(&sg[(size_t) (j0 + j + u) * Rp + r0], a[u]);
                }
                for (; j < nb; j++) {
                    vf a = {};
                    for (int d = 0; d < DK; d++) a += kb[(size_t) j * DK + d] * vload(&qt[(size_t) d * Rp + r0]);
                    vstore(&sg[(size_t) (j0 + j) * Rp + r0], a);
                }
            }
        }
        if (softcap != 0.0f)  // Gemma 2: softcap * tanh(q.k * scale / softcap), the division in `scale`
            for (size_t x = 0; x < (size_t) nC * Rp; x++) sg[x] = softcap * std::tanh(sg[x]);
        for (int r0 = 0; r0 < Rp; r0 += kW) {
            vf m = -INFINITY - vf{};
            for (int j = 0; j < nC; j++) {
                const vf x = vload(&sg[(size_t) j * Rp + r0]);
                m          = m > x ? m : x;
            }
            for (int l = r0; l < r0 + kW; l++)
                if (glob[l] >= 0) mx[glob[l]] = std::max(mx[glob[l]], m[l - r0]);
        }
    }
    // 2. pairs, for the G rows of their query
    for (int x = 0; x < nP; x++) {
        const auto & o = vis.pairs[x];
        if (x + 16 < nP) prefetch_row(krow(vis.pairs[x + 16].cell), DK);
        to_f32(krow(o.cell), tmp.data(), DK);
        for (int g = 0; g < G; g++) {
            const float * qv = &qr[(size_t) (g * n_q + o.query) * DKp];
            vf            a  = {};
            for (int d = 0; d < DKp; d += kW) a += vload(qv + d) * vload(&tmp[d]);
            const float dot = hsum(a);
            float & y = so[(size_t) x * G + g];
            y         = (softcap != 0.0f ? softcap * std::tanh(dot) : dot) + o.bias;
            mx[g * n_q + o.query] = std::max(mx[g * n_q + o.query], y);
        }
    }
    // 3. weights exp(score - row max) and their sums (meanwhile the first V block arrives)
    if (nG > 0) prefetch_rows(vrow, vis.groups[0].cells, 0, DV);
    for (int gi = 0; gi < nG; gi++) {
        const auto & gr = vis.groups[gi];
        const int    Rp = rp(gr), nC = (int) gr.cells.size();
        float *      sg = &s[at[gi]];
        rows(gr);
        lm.assign(Rp, 0.0f);  // padding rows: any finite value
        for (int l = 0; l < Rp; l++)
            if (glob[l] >= 0) lm[l] = mx[glob[l]];
        for (int r0 = 0; r0 < Rp; r0 += kW) {
            const vf m = vload(&lm[r0]);
            vf       z = {};
            for (int j = 0; j < nC; j++) {
                const vf p = exp_nonpos(vload(&sg[(size_t) j * Rp + r0]) - m);
                vstore(&sg[(size_t) j * Rp + r0], p);
                z += p;
            }
            for (int l = r0; l < r0 + kW; l++)
                if (glob[l] >= 0) sum[glob[l]] += z[l - r0];
        }
    }
    for (int x = 0; x < nP; x++)
        for (int g = 0; g < G; g++) so[(size_t) x * G + g] -= mx[g * n_q + vis.pairs[x].query];
    for (size_t i = 0; i < so.size(); i += kW) vstore(&so[i], exp_nonpos(vload(&so[i])));  // so is padded to whole vectors
    for (int x = 0; x < nP; x++)
        for (int g = 0; g < G; g++) sum[g * n_q + vis.pairs[x].query] += so[(size_t) x * G + g];
    // 4. weighted values: a group's block of V rows shared by all its rows
    acc.assign((size_t) R * DVp, 0.0f);
    for (int gi = 0; gi < nG; gi++) {
        const auto & gr = vis.groups[gi];
        const int    Rp = rp(gr), nC = (int) gr.cells.size();
        const float * sg = &s[at[gi]];
        rows(gr);
        for (int j0 = 0; j0 < nC; j0 += kBlock) {
            const int nb = std::min(kBlock, nC - j0);
            for (int j = 0; j < nb; j++) to_f32(vrow(gr.cells[j0 + j]), &vb[(size_t) j * DVp], DV);
            if (j0 + kBlock < nC) prefetch_rows(vrow, gr.cells, j0 + kBlock, DV);
            else if (gi + 1 < nG) prefetch_rows(vrow, vis.groups[gi + 1].cells, 0, DV);
            for (int l0 = 0; l0 < Rp && glob[l0] >= 0; l0 += 4) {  // tiles of 4 rows x up to 4 vectors
                float * out[4];
                for (int u = 0; u < 4; u++) out[u] = glob[l0 + u] >= 0 ? &acc[(size_t) glob[l0 + u] * DVp] : nullptr;
                for (int d0 = 0; d0 < DVp; d0 += 4 * kW) {
                    const float * p = &sg[(size_t) j0 * Rp + l0];
                    switch (std::min(4, (DVp - d0) / kW)) {
                        case 4: weigh_values<4>(p, Rp, &vb[d0], DVp, nb, out, d0); break;
                        case 3: weigh_values<3>(p, Rp, &vb[d0], DVp, nb, out, d0); break;
                        case 2: weigh_values<2>(p, Rp, &vb[d0], DVp, nb, out, d0); break;
                        default: weigh_values<1>(p, Rp, &vb[d0], DVp, nb, out, d0); break;
                    }
                }
            }
        }
    }
    for (int x = 0; x < nP; x++) {
        const auto & o = vis.pairs[x];
        if (x + 16 < nP) prefetch_row(vrow(vis.pairs[x + 16].cell), DV);
        to_f32(vrow(o.cell), tmp.data(), DV);
        for (int g = 0; g < G; g++) {
            float *     a = &acc[(size_t) (g * n_q + o.query) * DVp];
            const float p = so[(size_t) x * G + g];
            for (int d = 0; d < DVp; d += kW) vstore(a + d, vload(a + d) + p * vload(&tmp[d]));
        }
    }
    // 5. dst[:, head, i] = acc / sum (a row that sees no cell gets zeros, as ggml's kernel does)
    for (int r = 0; r < R; r++) {
        const int   g = r / n_q, i = r % n_q;
        float *     out = (float *) ((char *) dst->data + ((size_t) i * n_head + h * G + g) * dst->nb[1]);
        const float inv = sum[r] > 0 ? 1.0f / sum[r] : 0.0f;
        for (int d = 0; d < DV; d++) out[d] = acc[(size_t) r * DVp + d] * inv;
    }
}

struct Node {  // a flash-attention node's parameters
    float scale, softcap;
    int   n_q, n_kv, n_head_kv, G;
};

Node node_of(const ggml_tensor * dst) {
    float params[3];  // scale, max_bias (0), logit_softcap
    std::memcpy(params, dst->op_params, sizeof params);
    const ggml_tensor *q = dst->src[0], *k = dst->src[1];
    Node               n;
    n.softcap   = params[2];
    n.scale     = n.softcap != 0.0f ? params[0] / n.softcap : params[0];
    n.n_q       = (int) q->ne[1];
    n.n_kv      = (int) k->ne[1];
    n.n_head_kv = (int) k->ne[2];
    n.G         = (int) q->ne[2] / n.n_head_kv;
    return n;
}

void attend(ggml_tensor * dst, const Node & n, const Visibility & vis, int n_threads) {
#pragma omp parallel for num_threads(std::max(1, std::min(n_threads, n.n_head_kv))) schedule(static)
    for (int h = 0; h < n.n_head_kv; h++) attend_head(dst, vis, h, n.scale, n.softcap);
}

// ---- the ggml device: claims the flash-attention nodes exact_attention_supports accepts and the
// matmuls decode_matmul_supports accepts ----

std::atomic<long> g_nodes{ 0 }, g_scans{ 0 };

// Every layer of a decode step reads the same mask, so a scan is kept with a copy of the mask it
// came from [n_q rows of n_kv F16] and reused while the mask is unchanged (two entries: models with
// sliding-window layers alternate two masks). Comparing the copy costs a memcmp; the scan, a map
// lookup per run of cells and a sort of the pairs.
struct VisibilityCache {
    struct Entry {
        int                   n_q = -1, n_kv = -1, G = -1;
        std::vector<uint16_t> mask;
        Visibility            vis;
        bool                  pays = false;
    };
    Entry entries[2];
    int   next = 0;  // the entry replaced next

    const Entry & get(const ggml_tensor * mask, const Node & n) {
        const size_t row = (size_t) n.n_kv * sizeof(uint16_t);
        auto same = [&](const Entry & e) {
            if (e.n_q != n.n_q || e.n_kv != n.n_kv || e.G != n.G) return false;
            for (int i = 0; i < n.n_q; i++)
                if (std::memcmp(&e.mask[(size_t) i * n.n_kv], (const char *) mask->data + i * mask->nb[1], row) != 0) return false;
            return true;
        };
        for (const Entry & e : entries)
            if (same(e)) return e;
        Entry & e = entries[next];
        next      = 1 - next;
        e.n_q = n.n_q, e.n_kv = n.n_kv, e.G = n.G;
        e.mask.resize((size_t) n.n_q * n.n_kv);
        for (int i = 0; i < n.n_q; i++) std::memcpy(&e.mask[(size_t) i * n.n_kv], (const char *) mask->data + i * mask->nb[1], row);
        e.vis  = visibility(mask, n.n_q, n.n_kv, n.G);
        e.pays = pays(e.vis, n.n_q, n.n_kv, n.G);
        g_scans++;
        return e;
    }
};

struct BackendCtx {
    int             n_threads = 1;
    ggml_backend_t  cpu       = ggml_backend_cpu_init();  // for the nodes ggml's kernel does better
    VisibilityCache seen;
    ~BackendCtx() { ggml_backend_free(cpu); }
};

// One node on ggml's CPU backend: a graph of just that node (its inputs are computed already).
ggml_status on_cpu(BackendCtx & ctx, ggml_tensor * node) {
    ggml_init_params ip{ ggml_graph_overhead_custom(1, false), nullptr, true };
    ggml_context *   gctx = ggml_init(ip);
    ggml_cgraph *    g    = ggml_new_graph_custom(gctx, 1, false);
    ggml_graph_add_node(g, node);
    ggml_backend_cpu_set_n_threads(ctx.cpu, ctx.n_threads);
    const ggml_status st = ggml_backend_graph_compute(ctx.cpu, g);
    ggml_free(gctx);
    return st;
}

const char * backend_name(ggml_backend_t) { return "grm-attn"; }

void backend_free(ggml_backend_t b) {
    delete (BackendCtx *) b->context;
    delete b;
}

ggml_status backend_compute(ggml_backend_t b, ggml_cgraph * g) {
    BackendCtx & ctx = *(BackendCtx *) b->context;
    for (int i = 0; i < ggml_graph_n_nodes(g); i++) {
        ggml_tensor * node = ggml_graph_node(g, i);
        switch (node->op) {
            case GGML_OP_FLASH_ATTN_EXT: {
                const Node                     n = node_of(node);
                const VisibilityCache::Entry & e = ctx.seen.get(node->src[3], n);
                if (e.pays) {
                    attend(node, n, e.vis, ctx.n_threads);
                    g_nodes++;
                } else if (ggml_status st = on_cpu(ctx, node); st != GGML_STATUS_SUCCESS) {
                    return st;
                }
                break;
            }
            case GGML_OP_MUL_MAT: decode_matmul(node, ctx.n_threads); break;
            case GGML_OP_NONE:
            case GGML_OP_RESHAPE:
            case GGML_OP_VIEW:
            case GGML_OP_PERMUTE:
            case GGML_OP_TRANSPOSE: break;
            default: return GGML_STATUS_FAILED;
        }
    }
    return GGML_STATUS_SUCCESS;
}

const ggml_backend_i kBackendIface = {
    /* .get_name            = */ backend_name,
    /* .free                = */ backend_free,
    /* .set_tensor_async    = */ nullptr,
    /* .get_tensor_async    = */ nullptr,
    /* .set_tensor_2d_async = */ nullptr,
    /* .get_tensor_2d_async = */ nullptr,
    /* .cpy_tensor_async    = */ nullptr,
    /* .synchronize         = */ nullptr,
    /* .graph_plan_create   = */ nullptr,
    /* .graph_plan_free     = */ nullptr,
    /* .graph_plan_update   = */ nullptr,
    /* .graph_plan_compute  = */ nullptr,
    /* .graph_compute       = */ backend_compute,
    /* .event_record        = */ nullptr,
    /* .event_wait          = */ nullptr,
    /* .graph_optimize      = */ nullptr,
};

ggml_guid_t backend_guid() {
    static ggml_guid guid = { 0x67, 0x72, 0x6d, 0x2d, 0x61, 0x74, 0x74, 0x6e, 0x2d, 0x65, 0x78, 0x61, 0x63, 0x74, 0x00, 0x01 };
    return &guid;
}

void set_n_threads(ggml_backend_t b, int n) {
    if (b && ggml_guid_matches(b->guid, backend_guid())) ((BackendCtx *) b->context)->n_threads = std::max(1, n);
}

ggml_backend_reg_t reg();

const char * dev_name(ggml_backend_dev_t) { return "grm-attn"; }
const char * dev_description(ggml_backend_dev_t) { return "grm: decode attention over the cells each query sees, decode-sized matmuls"; }
void         dev_memory(ggml_backend_dev_t, size_t * free, size_t * total) { *free = *total = 0; }
enum ggml_backend_dev_type dev_type(ggml_backend_dev_t) { return GGML_BACKEND_DEVICE_TYPE_ACCEL; }

void dev_props(ggml_backend_dev_t dev, ggml_backend_dev_props * props) {
    props->name        = dev_name(dev);
    props->description = dev_description(dev);
    props->type        = dev_type(dev);
    dev_memory(dev, &props->memory_free, &props->memory_total);
    props->caps = { /* async */ false, /* host_buffer */ false, /* buffer_from_host_ptr */ true, /* events */ false, /* mmap */ true };
}

ggml_backend_t dev_init(ggml_backend_dev_t dev, const char *) {
    return new ggml_backend{ backend_guid(), kBackendIface, dev, new BackendCtx };
}

ggml_backend_buffer_type_t dev_buft(ggml_backend_dev_t) { return ggml_backend_cpu_buffer_type(); }

ggml_backend_buffer_t dev_from_host_ptr(ggml_backend_dev_t, void * ptr, size_t size, size_t) { return ggml_backend_cpu_buffer_from_ptr(ptr, size); }

bool dev_supports_op(ggml_backend_dev_t, const ggml_tensor * op) {
    switch (op->op) {
        case GGML_OP_NONE:
        case GGML_OP_RESHAPE:
        case GGML_OP_VIEW:
        case GGML_OP_PERMUTE:
        case GGML_OP_TRANSPOSE: return true;
        case GGML_OP_FLASH_ATTN_EXT: return exact_attention_supports(op);
        case GGML_OP_MUL_MAT: return decode_matmul_supports(op);
        default: return false;
    }
}

bool dev_supports_buft(ggml_backend_dev_t, ggml_backend_buffer_type_t buft) { return ggml_backend_buft_is_host(buft); }

const ggml_backend_device_i kDeviceIface = {
    /* .get_name             = */ dev_name,
    /* .get_description      = */ dev_description,
    /* .get_memory           = */ dev_memory,
    /* .get_type             = */ dev_type,
    /* .get_props            = */ dev_props,
    /* .init_backend         = */ dev_init,
    /* .get_buffer_type      = */ dev_buft,
    /* .get_host_buffer_type = */ nullptr,
    /* .buffer_from_host_ptr = */ dev_from_host_ptr,
    /* .supports_op          = */ dev_supports_op,
    /* .supports_buft        = */ dev_supports_buft,
    /* .offload_op           = */ nullptr,
    /* .event_new            = */ nullptr,
    /* .event_free           = */ nullptr,
    /* .event_synchronize    = */ nullptr,
};

const char * reg_name(ggml_backend_reg_t) { return "grm-attn"; }
size_t       reg_count(ggml_backend_reg_t) { return 1; }

ggml_backend_dev_t reg_device(ggml_backend_reg_t r, size_t) {
    static ggml_backend_device device = { kDeviceIface, r, nullptr };
    return &device;
}

void * reg_proc(ggml_backend_reg_t, const char * name) {
    return std::strcmp(name, "ggml_backend_set_n_threads") == 0 ? (void *) set_n_threads : nullptr;
}

ggml_backend_reg_t reg() {
    static ggml_backend_reg r = { GGML_BACKEND_API_VERSION, { reg_name, reg_count, reg_device, reg_proc }, nullptr };
    return &r;
}

}  // namespace

bool exact_attention_supports(const ggml_tensor * op) {
    const ggml_tensor *q = op->src[0], *k = op->src[1], *v = op->src[2], *mask = op->src[3];
    float              params[3];
    std::memcpy(params, op->op_params, sizeof params);  // scale, max_bias, logit_softcap
    return op->op == GGML_OP_FLASH_ATTN_EXT && op->type == GGML_TYPE_F32 && q->type == GGML_TYPE_F32 && k->type == GGML_TYPE_F16 &&
           v->type == GGML_TYPE_F16 && mask && mask->type == GGML_TYPE_F16 && mask->ne[2] == 1 && mask->ne[3] == 1 && !op->src[4] &&
           params[1] == 0.0f && q->ne[3] == 1 && k->ne[3] == 1 && v->ne[3] == 1 && q->nb[0] == sizeof(float) && k->nb[0] == sizeof(ggml_fp16_t) && v->nb[0] == sizeof(ggml_fp16_t) && q->ne[2] % k->ne[2] == 0 &&
           k->ne[2] == v->ne[2] && v->ne[1] == k->ne[1] && mask->ne[0] >= k->ne[1] && mask->ne[1] >= q->ne[1] && op->ne[0] == v->ne[0] && op->nb[1] == (size_t) v->ne[0] * sizeof(float);
}

void exact_attention(ggml_tensor * dst, int n_threads) {
    const Node n = node_of(dst);
    attend(dst, n, visibility(dst->src[3], n.n_q, n.n_kv, n.G), n_threads);
}

long exact_attention_nodes() { return g_nodes.load(); }
long exact_attention_scans() { return g_scans.load(); }

void register_exact_attention() {
    static std::once_flag once;
    std::call_once(once, [] { ggml_backend_register(reg()); });
}

}  // namespace grm
