// Names of finish reasons, as they appear in JSON output and the OpenAI wire format.
#include "core/engine.h"

namespace grm {

const char * finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::stop:   return "stop";
        case FinishReason::length: return "length";
        case FinishReason::error:  return "error";
    }
    return "unknown";
}

}  // namespace grm
