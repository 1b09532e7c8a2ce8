// Writes the server tests' "boxed seven" GGUF (any prompt -> "\boxed{7}") to argv[1], so the
// Python integration driver can start a real `grm serve` with a model whose judgments are known.
#include "common/fixtures.h"

#include <cstdio>
#include <filesystem>

int main(int argc, char ** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT.gguf\n", argv[0]);
        return 2;
    }
    std::error_code ec;
    std::filesystem::copy_file(grm::test::boxed_seven_model(), argv[1], std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
        std::fprintf(stderr, "%s: %s\n", argv[1], ec.message().c_str());
        return 1;
    }
    return 0;
}
