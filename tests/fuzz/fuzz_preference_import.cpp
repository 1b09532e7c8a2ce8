// Fuzz target: grm data import's row decoder (data::import_file), on the bytes as one file (JSONL,
// or a JSON array when it starts with '['). With --skip-bad nothing may stop the import but the
// file as a whole; every sample it yields is valid and survives the sample format unchanged.
#include "core/sample.h"
#include "data/preference_import.h"
#include "fuzz_check.h"

#include <cstdint>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const std::string path = "/tmp/grm-fuzz-preference-" + std::to_string(getpid()) + ".jsonl";
    std::ofstream(path, std::ios::binary).write((const char *) data, (std::streamsize) size);
    grm::data::ImportParams p;
    p.source = "fuzz";
    auto r   = grm::data::import_file(path, p, /*skip_bad=*/true);
    if (!r) {  // only a whole-file problem (a malformed JSON array) may fail a --skip-bad import
        FUZZ_CHECK(r.error().code == grm::Errc::invalid_argument);
        FUZZ_CHECK(!r.error().message.empty());
        return 0;
    }
    long rows = 0;
    for (const auto & [shape, n] : r->rows_by_shape) rows += n;
    FUZZ_CHECK(rows <= r->rows);
    for (const auto & im : r->samples) {
        FUZZ_CHECK(grm::validate_sample(im.sample).ok());
        auto again = grm::sample_from_json(grm::data::imported_to_json(im));
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(again->responses == im.sample.responses && again->best == im.sample.best &&
                   again->ratings == im.sample.ratings && again->label == im.sample.label);
    }
    return 0;
}
