#pragma once
// The `herald` subcommands. Each takes its arguments (after the subcommand name) and returns the exit code.

#include <string>
#include <vector>

namespace herald::cli {

using Args = std::vector<std::string>;

int cmd_serve(const Args& args);
int cmd_publish(const Args& args);
int cmd_tail(const Args& args);
int cmd_log(const Args& args);
int cmd_schema(const Args& args);
int cmd_config(const Args& args);
int cmd_top(const Args& args);  // top_command.cpp

}  // namespace herald::cli
