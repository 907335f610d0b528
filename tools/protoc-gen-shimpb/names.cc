#include "names.h"

#include <set>

namespace shimpb {

namespace gp = google::protobuf;

namespace {

// Package dots become "::"; nested type dots become "_".
std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Strips "package." from a full name, leaving the dotted nesting path.
std::string RelativeName(const std::string& full_name, const gp::FileDescriptor* file) {
  const std::string& pkg = file->package();
  if (pkg.empty()) return full_name;
  return full_name.substr(pkg.size() + 1);
}

}  // namespace

std::string Namespace(const gp::FileDescriptor* file) {
  if (file->package().empty()) return "pb";
  return "pb::" + Replace(file->package(), ".", "::");
}

std::string LocalName(const gp::Descriptor* msg) {
  return Replace(RelativeName(msg->full_name(), msg->file()), ".", "_");
}

std::string LocalName(const gp::EnumDescriptor* e) {
  return Replace(RelativeName(e->full_name(), e->file()), ".", "_");
}

std::string QualifiedName(const gp::Descriptor* msg) {
  return "::" + Namespace(msg->file()) + "::" + LocalName(msg);
}

std::string QualifiedName(const gp::EnumDescriptor* e) {
  return "::" + Namespace(e->file()) + "::" + LocalName(e);
}

std::string SafeIdentifier(const std::string& name) {
  static const std::set<std::string> kReserved = {
      // C++20 keywords and alternative tokens.
      "alignas",
      "alignof",
      "and",
      "and_eq",
      "asm",
      "auto",
      "bitand",
      "bitor",
      "bool",
      "break",
      "case",
      "catch",
      "char",
      "char8_t",
      "char16_t",
      "char32_t",
      "class",
      "compl",
      "concept",
      "const",
      "consteval",
      "constexpr",
      "constinit",
      "const_cast",
      "continue",
      "co_await",
      "co_return",
      "co_yield",
      "decltype",
      "default",
      "delete",
      "do",
      "double",
      "dynamic_cast",
      "else",
      "enum",
      "explicit",
      "export",
      "extern",
      "false",
      "float",
      "for",
      "friend",
      "goto",
      "if",
      "inline",
      "int",
      "long",
      "mutable",
      "namespace",
      "new",
      "noexcept",
      "not",
      "not_eq",
      "nullptr",
      "operator",
      "or",
      "or_eq",
      "private",
      "protected",
      "public",
      "register",
      "reinterpret_cast",
      "requires",
      "return",
      "short",
      "signed",
      "sizeof",
      "static",
      "static_assert",
      "static_cast",
      "struct",
      "switch",
      "template",
      "this",
      "thread_local",
      "throw",
      "true",
      "try",
      "typedef",
      "typeid",
      "typename",
      "union",
      "unsigned",
      "using",
      "virtual",
      "void",
      "volatile",
      "wchar_t",
      "while",
      "xor",
      "xor_eq",
      // Members every generated struct has.
      "encode",
      "decode",
      "merge",
  };
  return kReserved.count(name) ? name + "_" : name;
}

std::string StripProto(const std::string& path) {
  const std::string ext = ".proto";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    return path.substr(0, path.size() - ext.size());
  }
  return path;
}

std::string Codec(const gp::FieldDescriptor* field) {
  switch (field->type()) {
    case gp::FieldDescriptor::TYPE_INT32:
      return "::pb::wire::Int32";
    case gp::FieldDescriptor::TYPE_INT64:
      return "::pb::wire::Int64";
    case gp::FieldDescriptor::TYPE_UINT32:
      return "::pb::wire::UInt32";
    case gp::FieldDescriptor::TYPE_UINT64:
      return "::pb::wire::UInt64";
    case gp::FieldDescriptor::TYPE_SINT32:
      return "::pb::wire::SInt32";
    case gp::FieldDescriptor::TYPE_SINT64:
      return "::pb::wire::SInt64";
    case gp::FieldDescriptor::TYPE_FIXED32:
      return "::pb::wire::Fixed32";
    case gp::FieldDescriptor::TYPE_FIXED64:
      return "::pb::wire::Fixed64";
    case gp::FieldDescriptor::TYPE_SFIXED32:
      return "::pb::wire::SFixed32";
    case gp::FieldDescriptor::TYPE_SFIXED64:
      return "::pb::wire::SFixed64";
    case gp::FieldDescriptor::TYPE_BOOL:
      return "::pb::wire::Bool";
    case gp::FieldDescriptor::TYPE_FLOAT:
      return "::pb::wire::Float";
    case gp::FieldDescriptor::TYPE_DOUBLE:
      return "::pb::wire::Double";
    case gp::FieldDescriptor::TYPE_STRING:
      return "::pb::wire::String";
    case gp::FieldDescriptor::TYPE_BYTES:
      return "::pb::wire::Bytes";
    case gp::FieldDescriptor::TYPE_ENUM:
      return "::pb::wire::Enum<" + QualifiedName(field->enum_type()) + ">";
    case gp::FieldDescriptor::TYPE_MESSAGE:
      return "::pb::wire::Message<" + QualifiedName(field->message_type()) + ">";
    case gp::FieldDescriptor::TYPE_GROUP:
      break;  // rejected by the generator before we get here
  }
  return "";
}

std::string ElementType(const gp::FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case gp::FieldDescriptor::CPPTYPE_INT32:
      return "int32_t";
    case gp::FieldDescriptor::CPPTYPE_INT64:
      return "int64_t";
    case gp::FieldDescriptor::CPPTYPE_UINT32:
      return "uint32_t";
    case gp::FieldDescriptor::CPPTYPE_UINT64:
      return "uint64_t";
    case gp::FieldDescriptor::CPPTYPE_DOUBLE:
      return "double";
    case gp::FieldDescriptor::CPPTYPE_FLOAT:
      return "float";
    case gp::FieldDescriptor::CPPTYPE_BOOL:
      return "bool";
    case gp::FieldDescriptor::CPPTYPE_STRING:
      return "std::string";
    case gp::FieldDescriptor::CPPTYPE_ENUM:
      return QualifiedName(field->enum_type());
    case gp::FieldDescriptor::CPPTYPE_MESSAGE:
      return QualifiedName(field->message_type());
  }
  return "";
}

std::string MemberType(const gp::FieldDescriptor* field) {
  if (field->is_map()) {
    const gp::Descriptor* entry = field->message_type();
    return "std::map<" + ElementType(entry->map_key()) + ", " + ElementType(entry->map_value()) +
           ">";
  }
  if (field->is_repeated()) return "std::vector<" + ElementType(field) + ">";
  if (field->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE) {
    return "std::optional<" + ElementType(field) + ">";
  }
  return ElementType(field);
}

}  // namespace shimpb
