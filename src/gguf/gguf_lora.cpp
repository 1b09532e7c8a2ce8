// LoRA adapter GGUF: writer, reader and the check against a base model's file (ggml's gguf API).
#include "gguf/gguf_lora.h"

#include "ggml.h"
#include "gguf.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <unistd.h>

namespace grm {

namespace {

using GgufPtr = std::unique_ptr<gguf_context, void (*)(gguf_context *)>;
using CtxPtr  = std::unique_ptr<ggml_context, void (*)(ggml_context *)>;

bool ends_with(const std::string & s, const std::string & suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string str_key(gguf_context * g, const char * key) {
    const int64_t k = gguf_find_key(g, key);
    return k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_STRING ? gguf_get_val_str(g, k) : "";
}

std::string shape_str(const ggml_tensor * t) {
    return "[" + std::to_string(t->ne[1]) + ", " + std::to_string(t->ne[0]) + "]";  // torch order
}

// The file's metadata and tensor shapes (no data unless with_data).
struct Opened {
    GgufPtr g{nullptr, gguf_free};
    CtxPtr  ctx{nullptr, ggml_free};
};

Result<Opened> open_gguf(const std::string & path, bool with_data) {
    Opened         o;
    ggml_context * raw = nullptr;
    o.g.reset(gguf_init_from_file(path.c_str(), gguf_init_params{/*no_alloc=*/!with_data, /*ctx=*/&raw}));
    o.ctx.reset(raw);
    if (!o.g || !o.ctx) return make_error(Errc::invalid_argument, "not a readable GGUF file: " + path);
    return o;
}

// The adapter's own checks: its type keys and tensor names, pairs complete with one rank each.
// Fills base -> (a, b).
Status check_adapter(const Opened & o, const std::string & path,
                     std::map<std::string, std::pair<ggml_tensor *, ggml_tensor *>> & pairs) {
    const std::string type = str_key(o.g.get(), "general.type");
    if (type != "adapter")
        return make_error(Errc::invalid_argument, path + " is not a LoRA adapter (general.type is '" + type +
                                                      "', an adapter has 'adapter')");
    const std::string atype = str_key(o.g.get(), "adapter.type");
    if (atype != "lora")
        return make_error(Errc::invalid_argument, path + ": adapter.type is '" + atype + "', not 'lora'");
    for (int64_t i = 0; i < gguf_get_n_tensors(o.g.get()); ++i) {
        const std::string name = gguf_get_tensor_name(o.g.get(), i);
        ggml_tensor *     t    = ggml_get_tensor(o.ctx.get(), name.c_str());
        const bool        a = ends_with(name, ".lora_a"), b = ends_with(name, ".lora_b");
        if (t == nullptr || (!a && !b))
            return make_error(Errc::invalid_argument, path + ": tensor '" + name + "' is not a .lora_a or .lora_b");
        if (ggml_n_dims(t) > 2)
            return make_error(Errc::invalid_argument, path + ": tensor '" + name + "' has more than two dimensions");
        auto & pr = pairs[name.substr(0, name.size() - 7)];
        (a ? pr.first : pr.second) = t;
    }
    if (pairs.empty()) return make_error(Errc::invalid_argument, path + ": the adapter has no tensors");
    for (const auto & [base, pr] : pairs) {
        if (pr.first == nullptr || pr.second == nullptr)
            return make_error(Errc::invalid_argument, path + ": '" + base + "' has " + (pr.first ? ".lora_a" : ".lora_b") +
                                                          " but no " + (pr.first ? ".lora_b" : ".lora_a"));
        if (pr.first->ne[1] != pr.second->ne[0])
            return make_error(Errc::invalid_argument, path + ": '" + base + "': lora_a " + shape_str(pr.first) + " and lora_b " +
                                                          shape_str(pr.second) + " disagree in rank");
    }
    return ok_status();
}

}  // namespace

Status write_gguf_lora(const std::string & path, const GgufLoraAdapter & a) {
    size_t bytes = 0;
    for (const auto & t : a.tensors) {
        int64_t n = 1;
        for (int64_t d : t.shape) n *= d;
        if (t.shape.size() != 2 || n != int64_t(t.data.size()))
            return make_error(Errc::invalid_argument, "adapter tensor '" + t.name + "': not a matrix matching its data");
        if (!ends_with(t.name, ".lora_a") && !ends_with(t.name, ".lora_b"))
            return make_error(Errc::invalid_argument, "adapter tensor '" + t.name + "': not a .lora_a or .lora_b");
        bytes += t.data.size() * sizeof(float) + ggml_tensor_overhead();
    }
    CtxPtr  ctx(ggml_init(ggml_init_params{bytes + 1024 * 1024, nullptr, false}), ggml_free);
    GgufPtr g(gguf_init_empty(), gguf_free);
    gguf_set_val_str(g.get(), "general.architecture", a.arch.c_str());
    gguf_set_val_str(g.get(), "general.type", "adapter");
    gguf_set_val_str(g.get(), "general.name", a.name.c_str());
    gguf_set_val_str(g.get(), "adapter.type", "lora");
    gguf_set_val_f32(g.get(), "adapter.lora.alpha", a.alpha);
    for (const auto & t : a.tensors) {
        ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, t.shape[1], t.shape[0]);  // ne {cols, rows}
        ggml_set_name(x, t.name.c_str());
        std::copy(t.data.begin(), t.data.end(), (float *) x->data);
        gguf_add_tensor(g.get(), x);
    }
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    if (!gguf_write_to_file(g.get(), tmp.c_str(), false) || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error(Errc::io, "cannot write '" + path + "'");
    }
    return ok_status();
}

Result<GgufLoraAdapter> read_gguf_lora(const std::string & path) {
    auto o = open_gguf(path, /*with_data=*/true);
    if (!o) return o.error();
    std::map<std::string, std::pair<ggml_tensor *, ggml_tensor *>> pairs;
    if (auto st = check_adapter(*o, path, pairs); !st) return st.error();
    GgufLoraAdapter a;
    a.arch = str_key(o->g.get(), "general.architecture");
    a.name = str_key(o->g.get(), "general.name");
    if (const int64_t k = gguf_find_key(o->g.get(), "adapter.lora.alpha"); k >= 0 && gguf_get_kv_type(o->g.get(), k) == GGUF_TYPE_FLOAT32)
        a.alpha = gguf_get_val_f32(o->g.get(), k);
    for (int64_t i = 0; i < gguf_get_n_tensors(o->g.get()); ++i) {
        const ggml_tensor * x = ggml_get_tensor(o->ctx.get(), gguf_get_tensor_name(o->g.get(), i));
        if (x->type != GGML_TYPE_F32 && x->type != GGML_TYPE_F16)
            return make_error(Errc::invalid_argument, path + ": tensor '" + x->name + "' is " + ggml_type_name(x->type) +
                                                          "; only f32 and f16 adapters can be read");
        NamedTensor t;
        t.name  = x->name;
        t.shape = {x->ne[1], x->ne[0]};
        t.data.resize(size_t(ggml_nelements(x)));
        if (x->type == GGML_TYPE_F16) ggml_fp16_to_fp32_row((const ggml_fp16_t *) x->data, t.data.data(), ggml_nelements(x));
        else std::copy_n((const float *) x->data, t.data.size(), t.data.begin());
        a.tensors.push_back(std::move(t));
    }
    return a;
}

Status check_gguf_lora(const std::string & adapter_path, const std::string & base_path) {
    auto ad = open_gguf(adapter_path, /*with_data=*/false);
    if (!ad) return ad.error();
    std::map<std::string, std::pair<ggml_tensor *, ggml_tensor *>> pairs;
    if (auto st = check_adapter(*ad, adapter_path, pairs); !st) return st;
    auto base = open_gguf(base_path, /*with_data=*/false);
    if (!base) return base.error();
    const std::string arch = str_key(ad->g.get(), "general.architecture");
    const std::string want = str_key(base->g.get(), "general.architecture");
    if (arch != want)
        return make_error(Errc::invalid_argument, adapter_path + ": an adapter for architecture '" + arch + "', the model " +
                                                      base_path + " is '" + want + "'");
    for (const auto & [name, pr] : pairs) {
        const ggml_tensor * w = ggml_get_tensor(base->ctx.get(), name.c_str());
        if (w == nullptr)
            return make_error(Errc::invalid_argument, adapter_path + ": adapts '" + name + "', which the model " + base_path +
                                                          " does not have");
        const auto * a = pr.first;
        const auto * b = pr.second;
        if (a->ne[0] != w->ne[0] || b->ne[1] != w->ne[1])
            return make_error(Errc::invalid_argument, adapter_path + ": '" + name + "' is " + shape_str(w) +
                                                          " in the model, but lora_a is " + shape_str(a) + " and lora_b " +
                                                          shape_str(b) + " (expected [r, " + std::to_string(w->ne[0]) + "] and [" +
                                                          std::to_string(w->ne[1]) + ", r])");
    }
    return ok_status();
}

}  // namespace grm
