#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace shim {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kCancelled: return "cancelled";
    case Code::kUnknown: return "unknown";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kDeadlineExceeded: return "deadline exceeded";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kResourceExhausted: return "resource exhausted";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kAborted: return "aborted";
    case Code::kOutOfRange: return "out of range";
    case Code::kUnimplemented: return "not implemented";
    case Code::kInternal: return "internal";
    case Code::kUnavailable: return "unavailable";
    case Code::kDataLoss: return "data loss";
    case Code::kUnauthenticated: return "unauthenticated";
  }
  return "unknown";
}

Error Error::wrap(std::string_view context) const& { return Error(*this).wrap(context); }

Error Error::wrap(std::string_view context) && {
  std::string joined;
  joined.reserve(context.size() + 2 + message_.size());
  joined.append(context).append(": ").append(message_);
  message_ = std::move(joined);
  return std::move(*this);
}

Error errno_error(std::string_view what, int err) {
  std::string message(what);
  message.append(": ").append(std::strerror(err));
  Code code = Code::kInternal;
  switch (err) {
    case ENOENT: code = Code::kNotFound; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case EACCES:
    case EPERM: code = Code::kPermissionDenied; break;
    case EINVAL: code = Code::kInvalidArgument; break;
    case ETIMEDOUT: code = Code::kDeadlineExceeded; break;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE: code = Code::kUnavailable; break;
    default: break;
  }
  return Error(code, std::move(message));
}

Error errno_error(std::string_view what) { return errno_error(what, errno); }

}  // namespace shim
