#include "cli/options.hpp"

#include <cstdlib>
#include <iostream>

namespace herald::cli {

std::optional<Parsed> parse(const Args& args, std::initializer_list<const char*> known,
                            std::initializer_list<const char*> flags) {
    Parsed p;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a.rfind("--", 0) == 0) {
            std::string name = a.substr(2), value;
            bool is_flag = false;
            for (auto* f : flags) is_flag |= name == f;
            if (is_flag) {
                p.options[name] = "1";
                continue;
            }
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                std::cerr << "herald: --" << name << " needs a value\n";
                return std::nullopt;
            }
            bool ok = false;
            for (auto* k : known) ok |= name == k;
            if (!ok) {
                std::cerr << "herald: unknown option --" << name << '\n';
                return std::nullopt;
            }
            p.options[name] = value;
        } else {
            p.positional.push_back(a);
        }
    }
    return p;
}

std::optional<TlsTrust> client_trust(const Parsed& p, const Url& url, const char* command) {
    if (!url.tls) return TlsTrust{};
    std::string file;
    const char* source = "--cacert";
    if (auto it = p.options.find("cacert"); it != p.options.end()) {
        file = it->second;
    } else if (const char* env = std::getenv("HERALD_CA_FILE"); env && *env) {
        file = env;
        source = "HERALD_CA_FILE";
    }
    auto trust = TlsTrust::load(file);
    if (!trust) {
        std::cerr << command << ": " << (file.empty() ? "" : std::string(source) + ": ") << trust.error().message
                  << '\n';
        return std::nullopt;
    }
    return std::move(*trust);
}

}  // namespace herald::cli
