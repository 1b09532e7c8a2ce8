// The one error shape every endpoint answers with: {"error": {"code", "message", "type"}}.
#pragma once

#include "core/error.h"

#include <string>

namespace grm::server {

struct ApiError {
    int         status = 400;  // HTTP status
    std::string code;          // machine-readable: "invalid_json", "missing_field", "queue_full", ...
    std::string message;       // names the problem (field, index, limit)
    std::string type;          // OpenAI-style class: "invalid_request_error", "rate_limit_error", ...

    std::string to_json() const;
};

ApiError bad_request(std::string code, std::string message);
// Maps a pipeline/engine error to HTTP: context_overflow and invalid_argument are the client's (400),
// timeout 504, unavailable/cancelled 503, anything else 500.
ApiError from_error(const Error & e, const std::string & where = "");

}  // namespace grm::server
