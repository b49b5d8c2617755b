#include <iostream>
#include <string>

#include "cli/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: herald <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT] [--data-dir DIR]\n"
    "        [--threads N] [--ready-file PATH]      run the gateway (no file: the embedded default)\n"
    "  publish TOPIC [--data JSON | --file FILE]    publish events (no --data/--file: one per stdin line)\n"
    "        [--type TYPE] [--url URL] [--cacert FILE] [--idempotency-key KEY] [--ws]\n"
    "  tail TOPIC [--from earliest|latest|CURSOR]   follow a topic over SSE, one event per line,\n"
    "        [--types T1,T2] [--count N] [--url URL]  resuming by itself after a disconnect\n"
    "        [--cacert FILE] [--ws]                   (--ws: over the herald.v1 WebSocket)\n"
    "  schema check FILE [--data FILE]              is this a usable JSON Schema? (and does DATA match it?)\n"
    "  schema diff OLD NEW [--mode full|backward|forward]\n"
    "                                               would NEW break consumers or producers of OLD?\n"
    "  top [--admin HOST:PORT|URL] [--token TOKEN]  live view of topics, rates, connections and lag\n"
    "        [--cacert FILE] [--interval 1s]        (from the admin listener's /metrics)\n"
    "        [--once | --iterations N]\n"
    "  config check FILE                            validate a herald.yaml as `serve` would, without starting\n"
    "  log verify DIR                               check a data directory (or one topic's) offline\n"
    "  version                                      print the version\n"
    "\n"
    "publish, tail and top take https:// URLs too (tail and publish --ws then speak wss://). The server's\n"
    "certificate is always verified, against the system trust store plus the CA certificates of --cacert FILE\n"
    "or, without it, of the file named by HERALD_CA_FILE.\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    std::string cmd = argv[1];
    herald::cli::Args args(argv + 2, argv + argc);
    if (cmd == "serve") return herald::cli::cmd_serve(args);
    if (cmd == "publish") return herald::cli::cmd_publish(args);
    if (cmd == "tail") return herald::cli::cmd_tail(args);
    if (cmd == "log") return herald::cli::cmd_log(args);
    if (cmd == "schema") return herald::cli::cmd_schema(args);
    if (cmd == "config") return herald::cli::cmd_config(args);
    if (cmd == "top") return herald::cli::cmd_top(args);
    if (cmd == "version" || cmd == "--version") {
        std::cout << "herald " << HERALD_VERSION << '\n';
        return 0;
    }
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
        std::cout << kUsage;
        return 0;
    }
    std::cerr << "herald: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
}
