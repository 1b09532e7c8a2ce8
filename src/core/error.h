// grm's one error model: expected failures are returned as values (Result<T>), never thrown
// across a library boundary. Assertions are for programmer errors only.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace grm {

enum class Errc {
    invalid_argument,  // bad user input: a field, a flag, a file's content
    not_found,         // a file or resource that does not exist
    io,                // reading or writing failed
    context_overflow,  // a prompt does not fit the model's context
    unavailable,       // a server could not be reached or kept failing
    timeout,           // a deadline passed
    cancelled,         // the caller gave up (client disconnect, shutdown)
    internal,          // a bug or an engine failure we cannot attribute to the input
};

const char * errc_name(Errc c);

// Which way a named field of the input is wrong (Errc::invalid_argument from sample_from_json),
// so that a caller (the HTTP edge) can choose its own code without reading the message.
enum class FieldErrc {
    none,          // not about one field, or not classified
    invalid,       // wrong type, value or range
    missing,       // a required field is absent
    empty,         // `responses` has no entries
    invalid_utf8,  // a string is not valid UTF-8
};

struct Error {
    Errc        code = Errc::internal;
    std::string message;
    FieldErrc   field = FieldErrc::none;

    std::string to_string() const { return std::string(errc_name(code)) + ": " + message; }
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &       value() & { assert(ok()); return std::get<0>(v_); }
    const T & value() const & { assert(ok()); return std::get<0>(v_); }
    T &&      value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T *       operator->() { return &value(); }
    const T * operator->() const { return &value(); }
    T &       operator*() & { return value(); }
    const T & operator*() const & { return value(); }

    const Error & error() const { assert(!ok()); return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace grm
