#pragma once
// Command-line options shared by the subcommands: "--name value", "--name=value" and value-less
// flags.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/http_client.hpp"

namespace herald::cli {

struct Parsed {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;
};

// `known` take a value; `flags` take none and are stored with the value "1". An unknown option or a
// missing value is reported on stderr and gives nullopt (the command then exits 2).
std::optional<Parsed> parse(const Args& args, std::initializer_list<const char*> known,
                            std::initializer_list<const char*> flags = {});

// Whom a client command trusts for `url`: nothing is loaded for http://; for https:// the system trust store
// plus the CA file of --cacert or, without that option, of the HERALD_CA_FILE environment variable. A file that
// cannot be used is reported on stderr after `command` ("herald", "herald top") and gives nullopt (the command
// then exits 2).
std::optional<TlsTrust> client_trust(const Parsed& p, const Url& url, const char* command);

}  // namespace herald::cli
