// Status and Result<T>: every failure a caller must handle is returned, never thrown.
// Shaped after leveldb::Status and std::expected. Thread-safety: values, no shared state.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace chuqu {

// Broken internal invariants (never bad input) abort here.
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "chuqu: internal invariant failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}

#define CHUQU_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::chuqu::CheckFailed(__FILE__, __LINE__, #cond))

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or out of range (bad media, bad JSON, ...)
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a create of something that exists
  kCorruption,          // stored data or a proof does not verify
  kIOError,             // the OS failed an I/O call (including a full disk)
  kUnsupported,         // a valid input this build cannot handle (unknown format, codec)
  kOutOfRange,          // an index or size beyond what exists
  kResourceExhausted,   // an input over a configured limit
  kFailedPrecondition,  // the system is not in a state to do this
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no valid credentials or signature
  kUnavailable,         // try again later
  kInternal,            // a bug surfaced as an error rather than an abort
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds a T or a non-OK Status. REQUIRES: constructed from a non-OK Status only.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit like std::expected
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    CHUQU_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }

  T& value() & {
    CHUQU_CHECK(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    CHUQU_CHECK(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    CHUQU_CHECK(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define CHUQU_CONCAT_INNER_(a, b) a##b
#define CHUQU_CONCAT_(a, b) CHUQU_CONCAT_INNER_(a, b)

#define CHUQU_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::chuqu::Status chuqu_status_ = (expr);  \
    if (!chuqu_status_.ok()) return chuqu_status_; \
  } while (0)

// CHUQU_ASSIGN_OR_RETURN(auto x, FunctionReturningResult());
#define CHUQU_ASSIGN_OR_RETURN(lhs, expr) \
  CHUQU_ASSIGN_OR_RETURN_IMPL_(CHUQU_CONCAT_(chuqu_result_, __LINE__), lhs, expr)
#define CHUQU_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

}  // namespace chuqu
