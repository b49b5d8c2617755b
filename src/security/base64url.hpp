#pragma once
// base64url (RFC 4648 §5) as JOSE uses it (RFC 7515 §2, Appendix C): the URL-safe alphabet, no
// padding, no whitespace, no line breaks. Decoding is strict because a lenient decoder makes two
// different strings decode to the same bytes, and the JWS signing input is the string, not the
// bytes: every non-canonical spelling is refused (characters outside the alphabet, a length of 1
// mod 4, non-zero bits left over in the last character, and '=' unless padding is explicitly
// allowed).

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace herald::security {

enum class Base64Padding : bool {
    forbidden,  // JWS segments: '=' anywhere is an error
    allowed,    // JWK members from sloppy producers: correct trailing padding to a multiple of 4 is
                // accepted
};

// Encodes without padding.
std::string base64url_encode(std::string_view bytes);

// Decodes strictly (see above). Errc::invalid_argument with a message naming the position of the
// first fault.
Result<std::string> base64url_decode(std::string_view text,
                                     Base64Padding padding = Base64Padding::forbidden);

}  // namespace herald::security
