// containerd-shim-runsc-v1: containerd's Task API over ttrpc, running containers in gVisor.
#include "shim/cli.h"

int main(int argc, char** argv) { return shim::run_cli(argc, argv); }
