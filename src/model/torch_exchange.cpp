// Token files and raw parameter directories: see torch_exchange.h for the layouts.
#include "model/torch_exchange.h"

#include "core/atomic_file.h"
#include "model/config.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grm::model {

namespace {

constexpr char k_token_magic[8] = {'G', 'R', 'M', 'T', 'O', 'K', '0', '1'};

template <typename T> void put(std::ostream & out, T v) {
    out.write(reinterpret_cast<const char *>(&v), sizeof v);
}

template <typename T> bool get(std::ifstream & in, T & v) {
    return static_cast<bool>(in.read(reinterpret_cast<char *>(&v), sizeof v));
}


}  // namespace

Status write_token_file(const std::string & path, const std::vector<Example> & examples, int32_t n_vocab) {
    const uint32_t width    = n_vocab <= 65536 ? 2 : 4;
    uint64_t       n_tokens = 0;
    for (const auto & ex : examples) {
        if (ex.tokens.size() > UINT32_MAX) return make_error(Errc::invalid_argument, "an example exceeds 2^32 tokens");
        for (int32_t t : ex.tokens)
            if (t < 0 || t >= n_vocab)
                return make_error(Errc::invalid_argument, "token id " + std::to_string(t) + " is outside the vocab of " +
                                                              std::to_string(n_vocab));
        n_tokens += ex.tokens.size();
    }
    return write_file_atomic(path, [&](std::ostream & out) {
        out.write(k_token_magic, sizeof k_token_magic);
        put<uint32_t>(out, width);
        put<uint32_t>(out, (uint32_t) n_vocab);
        put<uint64_t>(out, examples.size());
        put<uint64_t>(out, n_tokens);
        for (const auto & ex : examples) put<uint32_t>(out, (uint32_t) ex.tokens.size());
        for (const auto & ex : examples) put<uint32_t>(out, (uint32_t) ex.n_prompt);
        for (const auto & ex : examples) {
            if (width == 2) {
                std::vector<uint16_t> ids(ex.tokens.begin(), ex.tokens.end());
                out.write(reinterpret_cast<const char *>(ids.data()), (std::streamsize) (ids.size() * 2));
            } else {
                out.write(reinterpret_cast<const char *>(ex.tokens.data()), (std::streamsize) (ex.tokens.size() * 4));
            }
        }
    });
}

Result<std::vector<Example>> read_token_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot open token file " + path);
    char     magic[8];
    uint32_t width = 0, n_vocab = 0;
    uint64_t n_examples = 0, n_tokens = 0;
    if (!in.read(magic, 8) || std::memcmp(magic, k_token_magic, 8) != 0)
        return make_error(Errc::invalid_argument, path + " is not a grm token file (magic GRMTOK01)");
    if (!get(in, width) || !get(in, n_vocab) || !get(in, n_examples) || !get(in, n_tokens) || (width != 2 && width != 4))
        return make_error(Errc::invalid_argument, path + ": truncated or invalid header");
    const auto expect = 32 + n_examples * 8 + n_tokens * width;
    if (fs::file_size(path) != expect)
        return make_error(Errc::invalid_argument, path + ": " + std::to_string(fs::file_size(path)) +
                                                      " bytes, the header implies " + std::to_string(expect));
    std::vector<uint32_t> len(n_examples), n_prompt(n_examples);
    in.read(reinterpret_cast<char *>(len.data()), (std::streamsize) (n_examples * 4));
    in.read(reinterpret_cast<char *>(n_prompt.data()), (std::streamsize) (n_examples * 4));
    std::vector<Example> out(n_examples);
    uint64_t             total = 0;
    for (uint64_t i = 0; i < n_examples; ++i) {
        total += len[i];
        if (n_prompt[i] > len[i] || total > n_tokens)
            return make_error(Errc::invalid_argument, path + ": example " + std::to_string(i) + " has inconsistent lengths");
        auto & ex = out[i];
        ex.n_prompt = (int32_t) n_prompt[i];
        if (width == 2) {
            std::vector<uint16_t> ids(len[i]);
            in.read(reinterpret_cast<char *>(ids.data()), (std::streamsize) (ids.size() * 2));
            ex.tokens.assign(ids.begin(), ids.end());
        } else {
            ex.tokens.resize(len[i]);
            in.read(reinterpret_cast<char *>(ex.tokens.data()), (std::streamsize) (len[i] * 4));
        }
    }
    if (total != n_tokens || !in) return make_error(Errc::invalid_argument, path + ": token count differs from the header");
    return out;
}

Result<LlamaConfig> read_raw_params_config(const std::string & dir) {
    const auto    path = fs::path(dir) / "manifest.json";
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open " + path.string());
    try {
        return config_from_json(nlohmann::json::parse(in).at("config"));
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, path.string() + ": " + e.what());
    }
}

Status load_raw_params(const std::string & dir, torch::nn::Module & model) {
    const auto     mpath = fs::path(dir) / "manifest.json";
    const auto     wpath = fs::path(dir) / "weights.bin";
    nlohmann::json m;
    try {
        std::ifstream in(mpath);
        if (!in) return make_error(Errc::not_found, "cannot open " + mpath.string());
        m = nlohmann::json::parse(in).at("params");
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, mpath.string() + ": " + e.what());
    }
    auto params = model.named_parameters();
    if (!m.is_array() || m.size() != params.size())
        return make_error(Errc::invalid_argument, mpath.string() + " lists " + std::to_string(m.size()) +
                                                      " parameters, the model has " + std::to_string(params.size()));
    uint64_t total = 0;
    size_t   i     = 0;
    for (const auto & p : params) {  // names, order and shapes first: the clearest error
        std::vector<int64_t> shape;
        std::string          name;
        try {
            name  = m[i].at("name").get<std::string>();
            shape = m[i].at("shape").get<std::vector<int64_t>>();
        } catch (const nlohmann::json::exception & e) {
            return make_error(Errc::invalid_argument, mpath.string() + ": parameter " + std::to_string(i) + ": " + e.what());
        }
        if (name != p.key() || shape != p.value().sizes().vec())
            return make_error(Errc::invalid_argument, mpath.string() + ": parameter " + std::to_string(i) + " is '" + name +
                                                          "' " + c10::str(torch::IntArrayRef(shape)) + ", the model expects '" +
                                                          p.key() + "' " + c10::str(p.value().sizes()));
        total += (uint64_t) p.value().numel() * 4;
        ++i;
    }
    std::ifstream in(wpath, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot open " + wpath.string());
    if (fs::file_size(wpath) != total)
        return make_error(Errc::invalid_argument, wpath.string() + " has " + std::to_string(fs::file_size(wpath)) +
                                                      " bytes, the parameters need " + std::to_string(total));
    torch::NoGradGuard no_grad;
    for (auto & p : params) {
        auto buf = torch::empty(p.value().sizes(), torch::kFloat32);
        in.read(reinterpret_cast<char *>(buf.data_ptr<float>()), (std::streamsize) (buf.numel() * 4));
        if (!in) return make_error(Errc::io, "read failed: " + wpath.string());
        p.value().copy_(buf);
    }
    return ok_status();
}

Status write_raw_params(const std::string & dir, const LlamaConfig & cfg, torch::nn::Module & model) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, "cannot create " + dir + ": " + ec.message());
    nlohmann::json m{{"config", config_to_json(cfg)}, {"params", nlohmann::json::array()}};
    for (const auto & p : model.named_parameters())
        m["params"].push_back({{"name", p.key()}, {"shape", p.value().sizes().vec()}});
    auto st = write_file_atomic((fs::path(dir) / "weights.bin").string(), [&](std::ostream & out) {
        for (const auto & p : model.named_parameters()) {
            auto t = p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
            out.write(reinterpret_cast<const char *>(t.data_ptr<float>()), (std::streamsize) (t.numel() * 4));
        }
    });
    if (!st) return st;
    return write_text_atomic((fs::path(dir) / "manifest.json").string(), m.dump(1) + "\n");
}

}  // namespace grm::model
