#pragma once
// The `fieldgate` command line: one binary, subcommands (CLI11).

#include <string>
#include <vector>

namespace fg::gateway {

// Parses `args` (argv without the program name handled by CLI11) and runs the chosen subcommand.
// Returns the process exit status: 0 success, 1 a runtime or config error, 2 a usage error.
int run_cli(int argc, char** argv);

}  // namespace fg::gateway
