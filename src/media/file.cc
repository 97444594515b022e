#include "media/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace chuqu::media {
namespace {

Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound("no such file");
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(msg);
    default:
      return Status::IOError(msg);
  }
}

// Opens read-only; the caller closes.
Result<int> OpenRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open");
  return fd;
}

Status ReadUpTo(int fd, size_t n, std::string& out) {
  out.resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read failed");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return Status::Ok();
}

}  // namespace

Result<uint64_t> CheckRegularFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot open");
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument("is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("not a regular file");
  CHUQU_ASSIGN_OR_RETURN(int fd, OpenRead(path));
  ::close(fd);
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string> ReadPrefix(const std::string& path, size_t max_bytes) {
  CHUQU_ASSIGN_OR_RETURN(int fd, OpenRead(path));
  std::string out;
  Status s = ReadUpTo(fd, max_bytes, out);
  ::close(fd);
  CHUQU_RETURN_IF_ERROR(s);
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  CHUQU_ASSIGN_OR_RETURN(uint64_t size, CheckRegularFile(path));
  if (size > max_bytes) {
    return Status::ResourceExhausted("file is " + std::to_string(size) +
                                     " bytes, more than the limit of " +
                                     std::to_string(max_bytes) + " for this media type");
  }
  CHUQU_ASSIGN_OR_RETURN(int fd, OpenRead(path));
  std::string out;
  // One byte more than the size detects a file that grew after stat; the buffer is sized
  // by the file, not by the limit.
  Status s = ReadUpTo(fd, static_cast<size_t>(size) + 1, out);
  ::close(fd);
  CHUQU_RETURN_IF_ERROR(s);
  if (out.size() > size) return Status::IOError("file grew while being read");
  return out;
}

Result<TempFile> TempFile::Create(const std::string& prefix) {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) return ErrnoStatus(errno, "cannot create a temporary file in " + tmpl);
  ::close(fd);
  return TempFile(std::string(buf.data()));
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace chuqu::media
