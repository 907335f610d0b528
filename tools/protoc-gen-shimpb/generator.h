// protoc CodeGenerator that emits X.pb.h / X.pb.cc built on proto/wire.h.
#pragma once

#include <google/protobuf/compiler/code_generator.h>

#include <string>

namespace shimpb {

class Generator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;
};

}  // namespace shimpb
