// Errors as values: a code from containerd's errdefs set plus a context chain, turned into an
// rpc status in exactly one place (the service edge).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shim {

// google.rpc codes; containerd maps them to its errdefs.
enum class Code : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

std::string_view code_name(Code code);

class Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context, keeping the code: "create c1: " + "runsc create: exit status 1".
  Error wrap(std::string_view context) const&;
  Error wrap(std::string_view context) &&;

 private:
  Code code_;
  std::string message_;
};

// An errno turned into an Error with the call that failed, e.g. "open /x: No such file".
Error errno_error(std::string_view what, int err);
Error errno_error(std::string_view what);  // uses errno

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{Code::kOk, {}};
  bool failed_ = false;
};

inline Result<void> ok() { return {}; }

}  // namespace shim

// Early return of the error in `expr` (a Result), with optional context. Keeps handlers
// straight-line without exceptions.
#define SHIM_TRY(expr)                                     \
  do {                                                     \
    auto&& shim_try_result_ = (expr);                      \
    if (!shim_try_result_.ok()) return std::move(shim_try_result_).error(); \
  } while (0)
