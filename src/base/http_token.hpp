#pragma once
// RFC 9110 §5.6.2 `tchar`: the characters of an HTTP token (header field names, methods, media type and
// parameter names, unquoted parameter values). Shared by the CloudEvents media-type checks and the webhook client.

namespace herald {

constexpr bool is_http_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            return true;
        default:
            return false;
    }
}

}  // namespace herald
