// Names of error codes, as printed in CLI messages and server error bodies.
#include "core/error.h"

namespace grm {

const char * errc_name(Errc c) {
    switch (c) {
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::not_found:        return "not_found";
        case Errc::io:               return "io_error";
        case Errc::context_overflow: return "context_overflow";
        case Errc::unavailable:      return "unavailable";
        case Errc::timeout:          return "timeout";
        case Errc::cancelled:        return "cancelled";
        case Errc::internal:         return "internal";
    }
    return "unknown";
}

}  // namespace grm
