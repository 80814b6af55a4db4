// threatwall: the CLI.  Everything lives in tw_cli (commands.h).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tw::cli::ConfigInputs inputs;
  inputs.getenv = tw::cli::GetEnv;
  return tw::cli::Run(args, std::cout, std::cerr, inputs);
}
