// Naming rules that map proto descriptors onto C++ identifiers in the generated code.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>

namespace shimpb {

// "containerd.task.v2" -> "pb::containerd::task::v2" (just "pb" for an empty package).
std::string Namespace(const google::protobuf::FileDescriptor* file);

// Name at namespace level: nested types are flattened, "Outer.Inner" -> "Outer_Inner".
std::string LocalName(const google::protobuf::Descriptor* msg);
std::string LocalName(const google::protobuf::EnumDescriptor* e);

// Fully qualified ("::pb::...::Name"), so a field called like a type cannot shadow it.
std::string QualifiedName(const google::protobuf::Descriptor* msg);
std::string QualifiedName(const google::protobuf::EnumDescriptor* e);

// Appends '_' to C++ keywords and to names that would clash with generated members.
std::string SafeIdentifier(const std::string& name);

// "a/b/c.proto" -> "a/b/c" (the generated files add ".pb.h" / ".pb.cc").
std::string StripProto(const std::string& path);

// wire.h codec for a non-map field's element type, e.g. "::pb::wire::UInt64".
std::string Codec(const google::protobuf::FieldDescriptor* field);

// C++ type of one element (no optional/vector/map wrapper), e.g. "uint64_t".
std::string ElementType(const google::protobuf::FieldDescriptor* field);

// Full member type, e.g. "std::vector<uint64_t>" or "std::map<std::string, std::string>".
std::string MemberType(const google::protobuf::FieldDescriptor* field);

}  // namespace shimpb
