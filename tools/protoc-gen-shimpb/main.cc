// Entry point of protoc-gen-shimpb; protoc runs it for --shimpb_out=DIR.
#include <google/protobuf/compiler/plugin.h>

#include "generator.h"

int main(int argc, char* argv[]) {
  shimpb::Generator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
