// safetensors: header parsing with bounds checks, f32/f16/bf16 tensor reads, sharded directories.
#include "scaling/safetensors.h"

#include "ggml.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace grm::scaling {

namespace {

// Bytes per element, 0 for a dtype whose size this reader does not know (its size is then not checked).
size_t dtype_size(const std::string & dtype) {
    static const std::pair<const char *, size_t> sizes[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
        {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (const auto & [name, size] : sizes)
        if (dtype == name) return size;
    return 0;
}

Error bad(const std::string & path, const std::string & what) {
    return make_error(Errc::invalid_argument, "safetensors file '" + path + "': " + what);
}

// 8 bytes of little-endian u64, whatever the host's byte order.
uint64_t le_u64(const unsigned char * b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
    return v;
}

}  // namespace

int64_t SafetensorsTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

const SafetensorsTensor * SafetensorsFile::find(const std::string & name) const {
    for (const auto & t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

Result<SafetensorsFile> read_safetensors_header(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot open safetensors file '" + path + "'");
    in.seekg(0, std::ios::end);
    const uint64_t size = uint64_t(in.tellg());
    in.seekg(0);
    unsigned char len_bytes[8];
    if (size < 8 || !in.read(reinterpret_cast<char *>(len_bytes), 8))
        return bad(path, "shorter than the 8-byte header length (" + std::to_string(size) + " bytes)");
    const uint64_t n = le_u64(len_bytes);
    if (n > size - 8)
        return bad(path, "header length " + std::to_string(n) + " runs past the end of the file (" +
                             std::to_string(size) + " bytes; truncated?)");
    std::string header(n, '\0');
    if (!in.read(header.data(), std::streamsize(n))) return make_error(Errc::io, "cannot read '" + path + "'");
    const uint64_t data_start = 8 + n, data_size = size - data_start;

    SafetensorsFile f;
    f.path = path;
    try {
        const auto j = nlohmann::json::parse(header);
        if (!j.is_object()) return bad(path, "the header is not a JSON object");
        for (const auto & [name, v] : j.items()) {
            if (name == "__metadata__") continue;
            SafetensorsTensor t;
            t.name  = name;
            t.dtype = v.at("dtype").get<std::string>();
            t.shape = v.at("shape").get<std::vector<int64_t>>();
            const auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
            if (std::any_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d < 0; }))
                return bad(path, "tensor '" + name + "' has a negative dimension");
            if (off.size() != 2 || off[0] > off[1] || off[1] > data_size)
                return bad(path, "tensor '" + name + "': data_offsets out of range (the data holds " +
                                     std::to_string(data_size) + " bytes; truncated?)");
            const size_t es = dtype_size(t.dtype);
            if (es != 0 && off[1] - off[0] != uint64_t(t.numel()) * es)
                return bad(path, "tensor '" + name + "': data_offsets span " + std::to_string(off[1] - off[0]) +
                                     " bytes, but a " + t.dtype + " tensor of that shape needs " +
                                     std::to_string(uint64_t(t.numel()) * es));
            t.begin = data_start + off[0];
            t.end   = data_start + off[1];
            f.tensors.push_back(std::move(t));
        }
    } catch (const nlohmann::json::exception & e) {
        return bad(path, std::string("malformed header: ") + e.what());
    }
    // Tensors share no bytes: sorted by start, each ends before the next begins.
    std::vector<const SafetensorsTensor *> by_start;
    for (const auto & t : f.tensors)
        if (t.end > t.begin) by_start.push_back(&t);
    std::sort(by_start.begin(), by_start.end(), [](auto * a, auto * b) { return a->begin < b->begin; });
    for (size_t i = 1; i < by_start.size(); ++i)
        if (by_start[i]->begin < by_start[i - 1]->end)
            return bad(path, "tensors '" + by_start[i - 1]->name + "' and '" + by_start[i]->name + "' overlap (data_offsets)");
    return f;
}

Result<std::vector<float>> read_safetensors_f32(const SafetensorsFile & f, const SafetensorsTensor & t) {
    const size_t es = t.dtype == "F32" ? 4 : t.dtype == "F16" || t.dtype == "BF16" ? 2 : 0;
    if (es == 0)
        return bad(f.path, "tensor '" + t.name + "' has dtype " + t.dtype + "; only F32, F16 and BF16 can be read");
    std::string bytes(t.end - t.begin, '\0');
    std::ifstream in(f.path, std::ios::binary);
    in.seekg(std::streamoff(t.begin));
    if (!in.read(bytes.data(), std::streamsize(bytes.size()))) return make_error(Errc::io, "cannot read '" + f.path + "'");
    // safetensors is little-endian, as are the hosts grm runs on (x86-64, arm64).
    std::vector<float> out(size_t(t.numel()));
    if (t.dtype == "F32") std::copy_n(reinterpret_cast<const float *>(bytes.data()), out.size(), out.begin());
    else if (t.dtype == "F16") ggml_fp16_to_fp32_row(reinterpret_cast<const ggml_fp16_t *>(bytes.data()), out.data(), int64_t(out.size()));
    else ggml_bf16_to_fp32_row(reinterpret_cast<const ggml_bf16_t *>(bytes.data()), out.data(), int64_t(out.size()));
    return out;
}

Result<std::vector<SafetensorsFile>> open_safetensors_dir(const std::string & dir) {
    namespace fs = std::filesystem;
    const fs::path single = fs::path(dir) / "model.safetensors", index = fs::path(dir) / "model.safetensors.index.json";
    std::vector<std::string> files;
    if (fs::exists(index)) {
        std::ifstream in(index);
        try {
            const auto             j = nlohmann::json::parse(in);
            std::set<std::string>  seen;
            for (const auto & [name, file] : j.at("weight_map").items())
                if (seen.insert(file.get<std::string>()).second) files.push_back((fs::path(dir) / file.get<std::string>()).string());
        } catch (const nlohmann::json::exception & e) {
            return make_error(Errc::invalid_argument, index.string() + ": " + e.what());
        }
        for (const auto & f : files)
            if (!fs::exists(f)) return make_error(Errc::not_found, index.string() + " lists the shard '" + f + "', which does not exist");
    } else if (fs::exists(single)) {
        files.push_back(single.string());
    } else {
        return make_error(Errc::not_found, "'" + dir + "' has neither model.safetensors nor model.safetensors.index.json");
    }
    std::vector<SafetensorsFile> out;
    for (const auto & f : files) {
        auto h = read_safetensors_header(f);
        if (!h) return h.error();
        out.push_back(std::move(*h));
    }
    return out;
}

}  // namespace grm::scaling
