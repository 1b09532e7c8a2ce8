// A reader of Hugging Face safetensors checkpoints: one file is 8 bytes of little-endian header
// length N, N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"}
// and the tensors' bytes (offsets relative to the end of the header). A sharded checkpoint lists
// its files in model.safetensors.index.json ({"weight_map": {name: file}}). Used to import a
// classification head (scaling/hf_meta_import.h); the backbone goes through llama.cpp's converter.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace grm::scaling {

struct SafetensorsTensor {
    std::string          name;
    std::string          dtype;  // "F32", "BF16", ... as written
    std::vector<int64_t> shape;
    uint64_t             begin = 0, end = 0;  // absolute byte offsets in the file
    int64_t              numel() const;
};

struct SafetensorsFile {
    std::string                    path;
    std::vector<SafetensorsTensor> tensors;  // in header order
    const SafetensorsTensor *      find(const std::string & name) const;  // nullptr when absent
};

// Reads and checks the header: errors name a file shorter than 8 bytes, a header length beyond
// the file, malformed JSON or fields, data_offsets out of the file or overlapping another tensor,
// and a byte size that disagrees with dtype and shape (for the dtypes whose size is known).
Result<SafetensorsFile> read_safetensors_header(const std::string & path);

// One tensor's values as f32, row-major; dtypes F32, F16 and BF16 (others are an error naming it).
Result<std::vector<float>> read_safetensors_f32(const SafetensorsFile & f, const SafetensorsTensor & t);

// A checkpoint directory: its model.safetensors, or every shard model.safetensors.index.json
// names (a shard that is missing is an error).
Result<std::vector<SafetensorsFile>> open_safetensors_dir(const std::string & dir);

}  // namespace grm::scaling
