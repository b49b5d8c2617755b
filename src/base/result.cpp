#include "base/result.hpp"

namespace herald {

std::string_view to_string(Errc code) noexcept {
    switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::unsupported_media_type: return "unsupported_media_type";
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::corrupt: return "corrupt";
    case Errc::unavailable: return "unavailable";
    case Errc::gone: return "gone";
    case Errc::unprocessable: return "unprocessable";
    }
    return "unknown";
}

}  // namespace herald
