#pragma once
// Errors as values at module boundaries (STYLE.md §3). A Result<T> holds either a T or an Error; an Error carries
// a kind (what the caller switches on), a human sentence, and optionally the attribute or key it concerns (what a
// problem+json body or a config diagnostic names).

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace herald {

enum class Errc {
    invalid_argument,        // input broke a rule; `attribute` names what
    not_found,               // no such topic, offset, file
    conflict,                // state forbids the operation
    payload_too_large,       // size limit exceeded
    unsupported_media_type,  // content type not understood
    io_error,                // the OS refused a read/write/fsync
    no_space,                // ENOSPC / EDQUOT: storage is full
    corrupt,                 // stored bytes failed a check
    unavailable,             // temporarily cannot serve (shutting down, overloaded)
    gone,                    // the data existed but was removed (retention)
    unprocessable,           // well-formed, but breaks a contract (schema, naming rule, topic's accepted types)
};

std::string_view to_string(Errc code) noexcept;

struct Error {
    Errc code;
    std::string message;
    std::string attribute;  // the attribute, header or key the error concerns; may be empty
    // Machine-readable particulars as a JSON value's text (e.g. a list of schema violations); may be empty.
    std::string details;
};

inline Error make_error(Errc code, std::string message, std::string attribute = {}) {
    return Error{code, std::move(message), std::move(attribute), {}};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(v_); }
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { assert(!has_value()); return std::get<1>(v_); }
    Error&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    const Error& error() const& { assert(failed_); return error_; }
    Error&& error() && { assert(failed_); return std::move(error_); }

private:
    Error error_{Errc::invalid_argument, {}, {}, {}};
    bool failed_ = false;
};

inline Result<void> ok() { return {}; }

}  // namespace herald
