// The shim's command line: -v, start, delete, each a small function.
#pragma once

namespace shim {

int run_cli(int argc, char** argv);

}  // namespace shim
