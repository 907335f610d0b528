#include "generator.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/zero_copy_stream.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "names.h"

namespace shimpb {

namespace gp = google::protobuf;

namespace {

constexpr char kConventions[] = R"(//
// Conventions (see tools/protoc-gen-shimpb):
//  - Everything lives in namespace pb::<proto package>; nested types are flattened to
//    namespace level as Outer_Inner.
//  - message -> struct with the proto field names (C++ keywords get a trailing '_').
//    Singular messages are std::optional, repeated fields std::vector, maps std::map.
//  - enum -> enum class E : int32_t; unknown values decode by cast.
//  - encode() appends proto3 wire bytes; decode() clears then parses and returns false on
//    malformed input; merge() parses without clearing (proto merge semantics).
//  - service -> inline constexpr std::string_view k<Service>ServiceName (full name).
)";

// Output sink that owns one generated file's text until it is written.
void WriteFile(gp::compiler::GeneratorContext* context, const std::string& name,
               const std::string& text) {
  std::unique_ptr<gp::io::ZeroCopyOutputStream> out(context->Open(name));
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    void* buf = nullptr;
    int size = 0;
    if (!out->Next(&buf, &size)) return;
    const size_t n = std::min(left, static_cast<size_t>(size));
    std::copy(p, p + n, static_cast<char*>(buf));
    p += n;
    left -= n;
    if (n < static_cast<size_t>(size)) out->BackUp(size - static_cast<int>(n));
  }
}

void CollectTypes(const gp::Descriptor* msg, std::vector<const gp::Descriptor*>* msgs,
                  std::vector<const gp::EnumDescriptor*>* enums) {
  if (msg->options().map_entry()) return;  // maps become std::map, not a struct
  msgs->push_back(msg);
  for (int i = 0; i < msg->enum_type_count(); ++i) enums->push_back(msg->enum_type(i));
  for (int i = 0; i < msg->nested_type_count(); ++i) CollectTypes(msg->nested_type(i), msgs, enums);
}

// Message types of this file that `msg` holds by value (directly or in a vector/map), i.e.
// the ones that must be complete before its struct is defined.
std::vector<const gp::Descriptor*> LocalDeps(const gp::Descriptor* msg) {
  std::vector<const gp::Descriptor*> deps;
  for (int i = 0; i < msg->field_count(); ++i) {
    const gp::FieldDescriptor* f = msg->field(i);
    if (f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const gp::Descriptor* t = f->message_type();
    if (f->is_map()) {
      const gp::FieldDescriptor* value = t->map_value();
      if (value->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      t = value->message_type();
    }
    if (t->file() == msg->file()) deps.push_back(t);
  }
  return deps;
}

// Depth-first topological sort; a cycle cannot be expressed with value members, so it is an
// error rather than something we try to break with pointers.
class Orderer {
 public:
  bool Visit(const gp::Descriptor* msg, std::vector<const gp::Descriptor*>* order,
             std::string* error) {
    if (done_.count(msg)) return true;
    if (std::find(stack_.begin(), stack_.end(), msg) != stack_.end()) {
      std::string path;
      for (const gp::Descriptor* m : stack_) path += m->full_name() + " -> ";
      *error = "protoc-gen-shimpb: recursive message types are not supported: " + path +
               msg->full_name();
      return false;
    }
    stack_.push_back(msg);
    for (const gp::Descriptor* dep : LocalDeps(msg)) {
      if (!Visit(dep, order, error)) return false;
    }
    stack_.pop_back();
    done_.insert(msg);
    order->push_back(msg);
    return true;
  }

 private:
  std::vector<const gp::Descriptor*> stack_;
  std::set<const gp::Descriptor*> done_;
};

std::vector<const gp::FieldDescriptor*> FieldsByNumber(const gp::Descriptor* msg) {
  std::vector<const gp::FieldDescriptor*> fields;
  for (int i = 0; i < msg->field_count(); ++i) fields.push_back(msg->field(i));
  std::sort(fields.begin(), fields.end(),
            [](auto* a, auto* b) { return a->number() < b->number(); });
  return fields;
}

bool CheckFile(const gp::FileDescriptor* file, const std::vector<const gp::Descriptor*>& msgs,
               std::string* error) {
  const std::string& pkg = file->package();
  if (pkg == "wire" || pkg.rfind("wire.", 0) == 0) {
    *error = "protoc-gen-shimpb: package 'wire' would collide with the runtime namespace pb::wire";
    return false;
  }
  for (const gp::Descriptor* msg : msgs) {
    for (int i = 0; i < msg->field_count(); ++i) {
      if (msg->field(i)->type() == gp::FieldDescriptor::TYPE_GROUP) {
        *error = "protoc-gen-shimpb: groups are not supported: " + msg->field(i)->full_name();
        return false;
      }
    }
  }
  return true;
}

std::string EnumText(const gp::EnumDescriptor* e) {
  std::string s = "// proto enum " + e->full_name() + "\n";
  s += "enum class " + LocalName(e) + " : int32_t {\n";
  for (int i = 0; i < e->value_count(); ++i) {
    s += "  " + SafeIdentifier(e->value(i)->name()) + " = " +
         std::to_string(e->value(i)->number()) + ",\n";
  }
  return s + "};\n\n";
}

std::string StructText(const gp::Descriptor* msg) {
  const std::string name = LocalName(msg);
  std::string s = "// proto message " + msg->full_name() + "\n";
  s += "struct " + name + " {\n";
  for (int i = 0; i < msg->field_count(); ++i) {
    const gp::FieldDescriptor* f = msg->field(i);
    s += "  " + MemberType(f) + " " + SafeIdentifier(f->name()) + "{};\n";
  }
  if (msg->field_count() > 0) s += "\n";
  s += "  // Appends the proto3 encoding to out.\n";
  s += "  void encode(std::string& out) const;\n";
  s += "  std::string encode() const {\n";
  s += "    std::string out;\n    encode(out);\n    return out;\n  }\n";
  s += "  // Resets to defaults, then parses; false on malformed input.\n";
  s += "  [[nodiscard]] bool decode(std::string_view in) {\n";
  s += "    *this = " + name + "{};\n    return merge(in);\n  }\n";
  s += "  // Parses on top of the current value, as protobuf's MergeFrom does.\n";
  s += "  [[nodiscard]] bool merge(std::string_view in);\n";
  s += "  bool operator==(const " + name + "&) const = default;\n";
  return s + "};\n\n";
}

// One statement appending field f in encode().
std::string EncodeLine(const gp::FieldDescriptor* f) {
  const std::string num = std::to_string(f->number());
  const std::string member = SafeIdentifier(f->name());
  if (f->is_map()) {
    const gp::Descriptor* entry = f->message_type();
    return "  ::pb::wire::put_map<" + Codec(entry->map_key()) + ", " + Codec(entry->map_value()) +
           ">(out, " + num + ", " + member + ");\n";
  }
  if (f->is_repeated()) {
    // [packed = false] is honoured; proto3 packs scalars otherwise.
    const std::string packed = f->is_packable() && !f->is_packed() ? ", false" : "";
    return "  ::pb::wire::put_repeated<" + Codec(f) + packed + ">(out, " + num + ", " + member +
           ");\n";
  }
  const char* fn =
      f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE ? "put_optional" : "put_field";
  return std::string("  ::pb::wire::") + fn + "<" + Codec(f) + ">(out, " + num + ", " + member +
         ");\n";
}

// One switch case decoding field f in merge().
std::string DecodeCase(const gp::FieldDescriptor* f) {
  const std::string member = SafeIdentifier(f->name());
  std::string call;
  if (f->is_map()) {
    const gp::Descriptor* entry = f->message_type();
    call = "get_map<" + Codec(entry->map_key()) + ", " + Codec(entry->map_value()) + ">";
  } else if (f->is_repeated()) {
    call = "get_repeated<" + Codec(f) + ">";
  } else if (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE) {
    call = "get_optional<" + Codec(f) + ">";
  } else {
    call = "get_field<" + Codec(f) + ">";
  }
  return "      case " + std::to_string(f->number()) + ":\n        if (!::pb::wire::" + call +
         "(f, " + member + ")) return false;\n        break;\n";
}

std::string MethodsText(const gp::Descriptor* msg) {
  const std::string name = LocalName(msg);
  const std::vector<const gp::FieldDescriptor*> fields = FieldsByNumber(msg);
  if (fields.empty()) {
    return "void " + name + "::encode(std::string& /*out*/) const {}\n\n" + "bool " + name +
           "::merge(std::string_view in) {\n  ::pb::wire::Reader r(in);\n"
           "  ::pb::wire::Field f;\n  while (r.next(f)) {\n  }\n  return r.ok();\n}\n\n";
  }
  std::string s = "void " + name + "::encode(std::string& out) const {\n";
  for (const gp::FieldDescriptor* f : fields) s += EncodeLine(f);
  s += "}\n\n";
  s += "bool " + name + "::merge(std::string_view in) {\n";
  s += "  ::pb::wire::Reader r(in);\n  ::pb::wire::Field f;\n  while (r.next(f)) {\n";
  s += "    switch (f.number) {\n";
  for (const gp::FieldDescriptor* f : fields) s += DecodeCase(f);
  s += "      default:\n        break;  // unknown field: already skipped by the reader\n";
  s += "    }\n  }\n  return r.ok();\n}\n\n";
  return s;
}

}  // namespace

bool Generator::Generate(const gp::FileDescriptor* file, const std::string& /*parameter*/,
                         gp::compiler::GeneratorContext* context, std::string* error) const {
  std::vector<const gp::Descriptor*> msgs;
  std::vector<const gp::EnumDescriptor*> enums;
  for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
  for (int i = 0; i < file->message_type_count(); ++i) {
    CollectTypes(file->message_type(i), &msgs, &enums);
  }
  if (!CheckFile(file, msgs, error)) return false;

  std::vector<const gp::Descriptor*> ordered;
  Orderer orderer;
  for (const gp::Descriptor* msg : msgs) {
    if (!orderer.Visit(msg, &ordered, error)) return false;
  }

  const std::string base = StripProto(file->name());
  const std::string ns = Namespace(file);
  const std::string banner =
      "// Generated by protoc-gen-shimpb from " + file->name() + ". DO NOT EDIT.\n";

  std::string h = banner + kConventions + "#pragma once\n\n";
  h += "#include <cstdint>\n#include <map>\n#include <optional>\n#include <string>\n";
  h += "#include <string_view>\n#include <vector>\n\n#include \"wire.h\"\n";
  for (int i = 0; i < file->dependency_count(); ++i) {
    h += "#include \"" + StripProto(file->dependency(i)->name()) + ".pb.h\"\n";
  }
  h += "\nnamespace " + ns + " {\n\n";
  for (int i = 0; i < file->service_count(); ++i) {
    const gp::ServiceDescriptor* svc = file->service(i);
    h += "inline constexpr std::string_view k" + svc->name() + "ServiceName = \"" +
         svc->full_name() + "\";\n\n";
  }
  for (const gp::EnumDescriptor* e : enums) h += EnumText(e);
  for (const gp::Descriptor* msg : ordered) h += StructText(msg);
  h += "}  // namespace " + ns + "\n";

  std::string cc = banner + "#include \"" + base + ".pb.h\"\n\n";
  cc += "namespace " + ns + " {\n\n";
  for (const gp::Descriptor* msg : ordered) cc += MethodsText(msg);
  cc += "}  // namespace " + ns + "\n";

  WriteFile(context, base + ".pb.h", h);
  WriteFile(context, base + ".pb.cc", cc);
  return true;
}

}  // namespace shimpb
