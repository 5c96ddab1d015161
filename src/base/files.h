// File helpers with the crash-safety the data dir needs: a file is either its old content or its
// complete new content, never half-written.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp {

// Reads the whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Replaces `path` atomically with `content` and mode `mode`: writes a temp file beside it,
// fsyncs it, renames it over `path` and fsyncs the directory.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode);

// Creates `path` and missing parents (like mkdir -p) with `mode`, then checks that it is a
// directory this process can create files in. The error names the path and the cause.
Status EnsureWritableDirectory(const std::string& path, mode_t mode);

bool PathExists(const std::string& path);

// A fresh directory under $TMPDIR (or /tmp) named `prefix` + random suffix.
Result<std::string> MakeTempDirectory(std::string_view prefix);
// rm -rf; errors are ignored, as this is only used to clean up.
void RemoveAll(const std::string& path);

}  // namespace kpp
