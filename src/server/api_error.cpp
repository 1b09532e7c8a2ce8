// Error shape and the mapping from grm::Errc to HTTP statuses.
#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace grm::server {

std::string ApiError::to_json() const {
    nlohmann::json j = { { "error", { { "code", code }, { "message", message }, { "type", type } } } };
    // replace: a message may quote client bytes; the reply must stay valid UTF-8 and must not throw
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError bad_request(std::string code, std::string message) {
    return ApiError{ 400, std::move(code), std::move(message), "invalid_request_error" };
}

ApiError from_error(const Error & e, const std::string & where) {
    std::string msg = where.empty() ? e.message : where + ": " + e.message;
    switch (e.code) {
        case Errc::invalid_argument: return bad_request("invalid_argument", msg);
        case Errc::context_overflow: return bad_request("context_overflow", msg);
        case Errc::not_found:        return ApiError{ 404, "not_found", msg, "not_found_error" };
        case Errc::timeout:          return ApiError{ 504, "deadline_exceeded", msg, "timeout_error" };
        case Errc::cancelled:        return ApiError{ 503, "cancelled", msg, "unavailable_error" };
        case Errc::unavailable:      return ApiError{ 503, "unavailable", msg, "unavailable_error" };
        case Errc::io:
        case Errc::internal:         break;
    }
    return ApiError{ 500, "internal", msg, "server_error" };
}

}  // namespace grm::server
