#include "base/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kpp {
namespace {

Error ErrnoError(std::string_view what, const std::string& path, int err) {
  const ErrorCode code = err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternalError;
  return Error(code, fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoError("opening", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("syncing", path, err);
  return Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("reading", path, errno);
  std::string content;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoError("reading", path, err);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  const std::string temp = fmt::format("{}.tmp-{}", path, ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("creating", temp, errno);
  auto fail = [&](std::string_view what, int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    return ErrnoError(what, temp, err);
  };
  // The umask may have narrowed the mode at creation; the caller's mode is the contract.
  if (::fchmod(fd, mode) != 0) return fail("setting mode of", errno);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("writing", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("syncing", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return ErrnoError("closing", temp, err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return ErrnoError("renaming to", path, err);
  }
  return FsyncPath(DirectoryOf(path), O_RDONLY | O_DIRECTORY);
}

Status EnsureWritableDirectory(const std::string& path, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    partial = path.substr(0, next);
    pos = next + 1;
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return Error(ErrorCode::kInternalError,
                   fmt::format("cannot create directory {}: {}", partial, std::strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error(ErrorCode::kInternalError,
                 fmt::format("cannot use directory {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kInternalError,
                 fmt::format("cannot use directory {}: not a directory", path));
  }
  // access() does not see read-only mounts for root in every case; creating a file does.
  const std::string probe = fmt::format("{}/.kpp-write-probe-{}", path, ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kInternalError,
                 fmt::format("directory {} is not writable: {}", path, std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Ok();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> MakeTempDirectory(std::string_view prefix) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      fmt::format("{}/{}XXXXXX", tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", prefix);
  if (::mkdtemp(pattern.data()) == nullptr) {
    return ErrnoError("creating temp directory", pattern, errno);
  }
  return pattern;
}

void RemoveAll(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

}  // namespace kpp
