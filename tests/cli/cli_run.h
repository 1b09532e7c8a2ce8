// Runs the real grm binary (<build>/tools/grm/grm), or another program of the build, as a user
// would; a missing binary fails the test.
#pragma once

#include "common/fixtures.h"
#include "gguf/gguf_llama.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <sys/wait.h>

namespace grm::test {

struct CliRun {
    int         code = -1;
    std::string out;  // stdout and stderr together
};

// Any program of the build (e.g. "examples/best_of_n"), with `args` as a shell would split them.
inline CliRun run_program(const std::string & program, const std::string & args, const std::string & stdin_text = "") {
    std::string in = temp_dir() + "/stdin";
    std::ofstream(in) << stdin_text;
    std::string cmd = built_program(program) + " " + args + " < " + in + " 2>&1";
    CliRun      r;
    FILE *      p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t                 n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.code     = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline CliRun run_grm(const std::string & args, const std::string & stdin_text = "") {
    return run_program("tools/grm/grm", args, stdin_text);
}

// A GGUF model's tensors by name (a read failure fails the test and gives none).
inline std::map<std::string, NamedTensor> gguf_tensors(const std::string & path) {
    auto m = read_gguf_llama(path);
    EXPECT_TRUE(m) << m.error().to_string();
    std::map<std::string, NamedTensor> out;
    if (m)
        for (auto & t : m->tensors) out[t.name] = t;
    return out;
}

}  // namespace grm::test
