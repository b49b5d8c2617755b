#pragma once
// Serves the developer portal under /portal/ on the data plane.
//
// The files are static and public (no credential, no per-user content: the page fetches everything else with
// the viewer's token), so the data plane answers them before authentication, like the health probes. Every
// answer carries a Content-Security-Policy that allows only the portal's own scripts and styles and connections
// to this origin: the page renders data other people published (events, schemas, descriptions), and the policy is
// the second wall behind building the DOM with textContent only.

#include <span>
#include <string_view>

#include "http/message.hpp"
#include "portal/assets.hpp"

namespace herald::portal {

// True for "/portal" and everything under "/portal/".
bool is_portal_path(std::string_view path) noexcept;

class Site {
public:
    explicit Site(std::span<const Asset> assets = embedded_assets()) : assets_(assets) {}

    // GET/HEAD of a portal path: the file (index.html for the directory), 304 when If-None-Match matches, a
    // redirect from "/portal" to "/portal/" (relative links resolve against the directory), 404 for unknown
    // names, 405 for other methods. `path` is the percent-decoded path; `query` is kept on the redirect.
    http::Response serve(const http::Request& req) const;

private:
    const Asset* find(std::string_view name) const noexcept;
    std::span<const Asset> assets_;
};

// The media type the portal serves a file name with ("application/octet-stream" for unknown extensions).
std::string_view media_type_for(std::string_view name) noexcept;

}  // namespace herald::portal
