#pragma once
// The composition root of `herald serve`: builds the engine, the hub, one worker per thread (io_context, hub,
// data plane, listener) and the admin listener, runs until SIGINT/SIGTERM, then shuts down gracefully:
// stop accepting, send every stream its final cursor, flush the logs.

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace herald::server {

struct ServeOptions {
    config::Config config;
    std::optional<std::filesystem::path> ready_file;  // written once listening: {"listen":..,"admin":..}
};

// Runs the server; returns the process exit code.
int serve(ServeOptions options);

}  // namespace herald::server
