#pragma once
// The developer portal's static files (the repository's portal/ directory), compiled into the binary by
// cmake/embed_assets.cmake. Immutable: a table in read-only data, not state.

#include <span>
#include <string_view>

namespace herald::portal {

struct Asset {
    std::string_view name;  // relative to /portal/, e.g. "portal.js"
    std::string_view body;
    std::string_view etag;  // quoted strong ETag derived from the content
};

std::span<const Asset> embedded_assets() noexcept;

}  // namespace herald::portal
