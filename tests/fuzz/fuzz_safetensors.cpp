// Fuzz target: the safetensors reader (grm meta import), on the bytes as one file. A header it
// accepts has every tensor inside the file and none overlapping; reading any accepted F32/F16/BF16
// tensor gives exactly numel values.
#include "fuzz_check.h"
#include "scaling/safetensors.h"

#include <cstdint>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const std::string path = "/tmp/grm-fuzz-safetensors-" + std::to_string(getpid()) + ".safetensors";
    std::ofstream(path, std::ios::binary).write((const char *) data, (std::streamsize) size);
    auto f = grm::scaling::read_safetensors_header(path);
    if (!f) {
        FUZZ_CHECK(!f.error().message.empty());
        return 0;
    }
    for (const auto & t : f->tensors) {
        FUZZ_CHECK(t.begin <= t.end && t.end <= size);
        for (const auto & u : f->tensors) FUZZ_CHECK(&t == &u || t.end <= u.begin || u.end <= t.begin || t.begin == t.end || u.begin == u.end);
        auto v = grm::scaling::read_safetensors_f32(*f, t);
        if (v) FUZZ_CHECK((int64_t) v->size() == t.numel());
    }
    return 0;
}
