// Minimal protobuf wire-format runtime used by the code protoc-gen-shimpb generates.
//
// Why this exists: linking libprotobuf costs more than the shim's whole RSS budget, and the shim
// only needs proto3 encode/decode of plain structs. Everything here is header-only, allocation
// free except for the output string, and never throws: malformed input makes decode return false.
//
// Codecs (Int32, String, Enum<E>, Message<M>, ...) describe how one proto type maps to a C++ type
// and to the wire; the put_* / get_* templates below combine them with field shapes (singular,
// optional message, repeated, map). Generated code is one call per field.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pb::wire {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,  // groups are proto2-only; always rejected
  kEndGroup = 4,
  kFixed32 = 5,
};

// Largest field number the spec allows (2^29 - 1).
inline constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;

// ---- Writing -------------------------------------------------------------------------------

inline void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void put_fixed32(std::string& out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));  // little endian
  out.append(buf, 4);
}

inline void put_fixed64(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, 8);
}

inline void put_tag(std::string& out, uint32_t field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint8_t>(type));
}

inline uint64_t zigzag32(int32_t v) {
  return static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}
inline uint64_t zigzag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int32_t unzigzag32(uint32_t v) { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
inline int64_t unzigzag64(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Writes a length prefix followed by whatever body(out) appends. The body is written in place
// after a one-byte placeholder and shifted only if its length needs a longer varint, which avoids
// a temporary string (or a separate size pass) per nested message.
template <class Body>
void put_len_prefixed(std::string& out, Body&& body) {
  const size_t start = out.size();
  out.push_back('\0');
  body(out);
  const size_t len = out.size() - start - 1;
  const size_t prefix = varint_size(len);
  if (prefix > 1) out.insert(start + 1, prefix - 1, '\0');
  size_t pos = start;
  uint64_t v = len;
  while (v >= 0x80) {
    out[pos++] = static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out[pos] = static_cast<char>(v);
}

// ---- Reading -------------------------------------------------------------------------------

// One field as it appears on the wire. For kVarint/kFixed32/kFixed64 `value` holds the raw bits;
// for kLen `bytes` views the payload inside the input buffer.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t value = 0;
  std::string_view bytes;
};

inline bool read_varint(const char*& p, const char* end, uint64_t& v) {
  uint64_t r = 0;
  for (int i = 0; i < 10; ++i) {
    if (p == end) return false;  // truncated
    const auto b = static_cast<uint8_t>(*p++);
    r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      v = r;
      return true;
    }
  }
  return false;  // more than 10 bytes
}

inline bool read_fixed(const char*& p, const char* end, int bytes, uint64_t& v) {
  if (end - p < bytes) return false;
  uint64_t r = 0;
  for (int i = 0; i < bytes; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  p += bytes;
  v = r;
  return true;
}

// Iterates over the fields of one message. next() returns false at the end of input or on
// malformed input; ok() tells the two apart.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  bool next(Field& f) {
    if (p_ == end_ || failed_) return false;
    if (!read_field(f)) {
      failed_ = true;
      return false;
    }
    return true;
  }
  bool ok() const { return !failed_; }

 private:
  bool read_field(Field& f) {
    uint64_t tag = 0;
    if (!read_varint(p_, end_, tag) || tag > UINT32_MAX) return false;
    f.number = static_cast<uint32_t>(tag >> 3);
    if (f.number == 0) return false;
    f.type = static_cast<WireType>(tag & 7);
    f.value = 0;
    f.bytes = {};
    switch (f.type) {
      case WireType::kVarint:
        return read_varint(p_, end_, f.value);
      case WireType::kFixed64:
        return read_fixed(p_, end_, 8, f.value);
      case WireType::kFixed32:
        return read_fixed(p_, end_, 4, f.value);
      case WireType::kLen: {
        uint64_t len = 0;
        if (!read_varint(p_, end_, len)) return false;
        if (len > static_cast<uint64_t>(end_ - p_)) return false;  // length past the end
        f.bytes = std::string_view(p_, static_cast<size_t>(len));
        p_ += len;
        return true;
      }
      default:
        return false;  // groups (3, 4) and the undefined types 6, 7
    }
  }

  const char* p_;
  const char* end_;
  bool failed_ = false;
};

// ---- Codecs --------------------------------------------------------------------------------

// Varint-encoded scalar. Encode turns the value into the 64-bit varint payload; Decode truncates
// the payload back the way libprotobuf does (e.g. int32 keeps the low 32 bits).
template <class V, uint64_t (*Encode)(V), V (*Decode)(uint64_t)>
struct VarintCodec {
  using T = V;
  static constexpr WireType kWire = WireType::kVarint;
  static constexpr bool kPackable = true;
  static bool is_default(const T& v) { return v == T{}; }
  static void put_value(std::string& out, const T& v) { put_varint(out, Encode(v)); }
  static bool get_value(const Field& f, T& v) {
    if (f.type != kWire) return false;
    v = Decode(f.value);
    return true;
  }
};

// Fixed-width scalar; Bits is uint32_t or uint64_t. memcpy keeps float/double bit-exact.
template <class V, class Bits>
struct FixedCodec {
  using T = V;
  static constexpr WireType kWire = sizeof(Bits) == 4 ? WireType::kFixed32 : WireType::kFixed64;
  static constexpr bool kPackable = true;
  // Compare bits, not values: libprotobuf writes -0.0 because its bit pattern is not zero.
  static bool is_default(const T& v) { return bits(v) == 0; }
  static void put_value(std::string& out, const T& v) {
    if constexpr (sizeof(Bits) == 4) {
      put_fixed32(out, bits(v));
    } else {
      put_fixed64(out, bits(v));
    }
  }
  static bool get_value(const Field& f, T& v) {
    if (f.type != kWire) return false;
    const auto b = static_cast<Bits>(f.value);
    std::memcpy(&v, &b, sizeof(v));
    return true;
  }

 private:
  static Bits bits(const T& v) {
    Bits b;
    std::memcpy(&b, &v, sizeof(b));
    return b;
  }
};

namespace detail {
// Negative int32/enum values are sign-extended to 64 bits on the wire (10-byte varints).
inline uint64_t enc_i32(int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); }
inline int32_t dec_i32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }
inline uint64_t enc_i64(int64_t v) { return static_cast<uint64_t>(v); }
inline int64_t dec_i64(uint64_t v) { return static_cast<int64_t>(v); }
inline uint64_t enc_u32(uint32_t v) { return v; }
inline uint32_t dec_u32(uint64_t v) { return static_cast<uint32_t>(v); }
inline uint64_t enc_u64(uint64_t v) { return v; }
inline uint64_t dec_u64(uint64_t v) { return v; }
inline uint64_t enc_s32(int32_t v) { return zigzag32(v); }
inline int32_t dec_s32(uint64_t v) { return unzigzag32(static_cast<uint32_t>(v)); }
inline uint64_t enc_s64(int64_t v) { return zigzag64(v); }
inline int64_t dec_s64(uint64_t v) { return unzigzag64(v); }
inline uint64_t enc_bool(bool v) { return v ? 1 : 0; }
inline bool dec_bool(uint64_t v) { return v != 0; }
}  // namespace detail

using Int32 = VarintCodec<int32_t, detail::enc_i32, detail::dec_i32>;
using Int64 = VarintCodec<int64_t, detail::enc_i64, detail::dec_i64>;
using UInt32 = VarintCodec<uint32_t, detail::enc_u32, detail::dec_u32>;
using UInt64 = VarintCodec<uint64_t, detail::enc_u64, detail::dec_u64>;
using SInt32 = VarintCodec<int32_t, detail::enc_s32, detail::dec_s32>;
using SInt64 = VarintCodec<int64_t, detail::enc_s64, detail::dec_s64>;
using Bool = VarintCodec<bool, detail::enc_bool, detail::dec_bool>;
using Fixed32 = FixedCodec<uint32_t, uint32_t>;
using Fixed64 = FixedCodec<uint64_t, uint64_t>;
using SFixed32 = FixedCodec<int32_t, uint32_t>;
using SFixed64 = FixedCodec<int64_t, uint64_t>;
using Float = FixedCodec<float, uint32_t>;
using Double = FixedCodec<double, uint64_t>;

// Enums travel as int32 varints. Unknown values are kept by cast (proto3 open enums).
template <class E>
struct Enum {
  using T = E;
  static constexpr WireType kWire = WireType::kVarint;
  static constexpr bool kPackable = true;
  static bool is_default(const T& v) { return static_cast<int32_t>(v) == 0; }
  static void put_value(std::string& out, const T& v) {
    put_varint(out, detail::enc_i32(static_cast<int32_t>(v)));
  }
  static bool get_value(const Field& f, T& v) {
    if (f.type != kWire) return false;
    v = static_cast<E>(detail::dec_i32(f.value));
    return true;
  }
};

// string and bytes: we do not validate UTF-8 (the Go side does not rely on it either).
struct String {
  using T = std::string;
  static constexpr WireType kWire = WireType::kLen;
  static constexpr bool kPackable = false;
  static bool is_default(const T& v) { return v.empty(); }
  static void put_value(std::string& out, const T& v) {
    put_varint(out, v.size());
    out.append(v);
  }
  static bool get_value(const Field& f, T& v) {
    if (f.type != kWire) return false;
    v.assign(f.bytes);
    return true;
  }
};
using Bytes = String;

// Embedded message; M is a generated struct with encode(std::string&) and merge(string_view).
// get_value merges into v, which is what the spec asks when a message field repeats.
template <class M>
struct Message {
  using T = M;
  static constexpr WireType kWire = WireType::kLen;
  static constexpr bool kPackable = false;
  static void put_value(std::string& out, const T& v) {
    put_len_prefixed(out, [&v](std::string& o) { v.encode(o); });
  }
  static bool get_value(const Field& f, T& v) { return f.type == kWire && v.merge(f.bytes); }
};

// ---- Field shapes --------------------------------------------------------------------------

// Singular proto3 scalar/string/enum: omitted when equal to its default.
template <class C>
void put_field(std::string& out, uint32_t field, const typename C::T& v) {
  if (C::is_default(v)) return;
  put_tag(out, field, C::kWire);
  C::put_value(out, v);
}

// Singular message: written whenever present, even if empty.
template <class C>
void put_optional(std::string& out, uint32_t field, const std::optional<typename C::T>& v) {
  if (!v) return;
  put_tag(out, field, C::kWire);
  C::put_value(out, *v);
}

// Repeated: scalars are packed (proto3 default, unless the .proto says [packed = false]),
// strings and messages one tag per element.
template <class C, bool kPacked = C::kPackable>
void put_repeated(std::string& out, uint32_t field, const std::vector<typename C::T>& v) {
  if (v.empty()) return;
  if constexpr (kPacked && C::kPackable) {
    put_tag(out, field, WireType::kLen);
    put_len_prefixed(out, [&v](std::string& o) {
      for (const typename C::T& e : v) C::put_value(o, e);
    });
  } else {
    for (const auto& e : v) {
      put_tag(out, field, C::kWire);
      C::put_value(out, e);
    }
  }
}

// Maps are repeated entry messages {key = 1, value = 2}. Like libprotobuf, both are always
// written, even when they hold default values.
template <class KC, class VC>
void put_map(std::string& out, uint32_t field, const std::map<typename KC::T, typename VC::T>& m) {
  for (const auto& [k, v] : m) {
    put_tag(out, field, WireType::kLen);
    put_len_prefixed(out, [&k = k, &v = v](std::string& o) {
      put_tag(o, 1, KC::kWire);
      KC::put_value(o, k);
      put_tag(o, 2, VC::kWire);
      VC::put_value(o, v);
    });
  }
}

template <class C>
[[nodiscard]] bool get_field(const Field& f, typename C::T& v) {
  return C::get_value(f, v);
}

template <class C>
[[nodiscard]] bool get_optional(const Field& f, std::optional<typename C::T>& v) {
  if (!v) v.emplace();
  return C::get_value(f, *v);
}

// Accepts both packed and unpacked encodings of packable types, as the spec requires.
template <class C>
[[nodiscard]] bool get_repeated(const Field& f, std::vector<typename C::T>& v) {
  if constexpr (C::kPackable) {
    if (f.type == WireType::kLen) {
      const char* p = f.bytes.data();
      const char* end = p + f.bytes.size();
      Field e;
      e.number = f.number;
      e.type = C::kWire;
      while (p != end) {
        const bool ok = C::kWire == WireType::kVarint    ? read_varint(p, end, e.value)
                        : C::kWire == WireType::kFixed32 ? read_fixed(p, end, 4, e.value)
                                                         : read_fixed(p, end, 8, e.value);
        if (!ok) return false;
        typename C::T t{};
        if (!C::get_value(e, t)) return false;
        v.push_back(t);
      }
      return true;
    }
  }
  typename C::T t{};
  if (!C::get_value(f, t)) return false;
  v.push_back(std::move(t));
  return true;
}

// One map entry; a missing key or value means its default, and a repeated key overwrites.
template <class KC, class VC>
[[nodiscard]] bool get_map(const Field& f, std::map<typename KC::T, typename VC::T>& m) {
  if (f.type != WireType::kLen) return false;
  typename KC::T key{};
  typename VC::T value{};
  Reader r(f.bytes);
  Field e;
  while (r.next(e)) {
    if (e.number == 1) {
      if (!KC::get_value(e, key)) return false;
    } else if (e.number == 2) {
      if (!VC::get_value(e, value)) return false;
    }
  }
  if (!r.ok()) return false;
  m.insert_or_assign(std::move(key), std::move(value));
  return true;
}

}  // namespace pb::wire
