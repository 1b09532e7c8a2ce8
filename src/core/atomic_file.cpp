// Temp file + rename (POSIX rename is atomic within a file system).
#include "core/atomic_file.h"

#include <cstdio>
#include <exception>
#include <fstream>
#include <unistd.h>

namespace grm {

Status write_file_atomic(const std::string & path, const std::function<void(std::ostream &)> & write) {
    const std::string tmp = path + ".tmp-" + std::to_string(getpid());
    std::string       why;
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return make_error(Errc::io, "cannot write " + tmp);
        try {
            write(out);  // may throw, e.g. nlohmann::json on invalid UTF-8
            out.flush();
            if (!out) why = "write failed: " + tmp;
        } catch (const std::exception & e) {
            why = path + ": " + e.what();
        }
    }
    if (!why.empty()) {
        std::remove(tmp.c_str());
        return make_error(Errc::io, why);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error(Errc::io, "cannot rename " + tmp + " onto " + path);
    }
    return ok_status();
}

Status write_text_atomic(const std::string & path, const std::string & text) {
    return write_file_atomic(path, [&](std::ostream & out) { out << text; });
}

}  // namespace grm
