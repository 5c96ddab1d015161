// Thin RAII wrappers over the sqlite3 C API, returning kpp::Result instead of return codes.
// Internal to the SQLite backend.
//
// Thread safety: a Connection and its Statements are used by one thread at a time (they are
// opened with SQLITE_OPEN_NOMUTEX; the store serialises access itself). A Statement must be
// destroyed before its Connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::storage::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Blobs are copied, except by BindBlobNoCopy, whose
  // bytes must stay valid until the statement is reset (a value of a KiB is not worth a copy).
  void BindInt(int index, std::int64_t value);
  void BindBlob(int index, std::string_view value);
  void BindBlobNoCopy(int index, std::string_view value);
  void BindText(int index, std::string_view value);

  // Advances to the next row: true when one is available, false when the statement is done.
  Result<bool> Step();
  // Steps until done, for statements that return no rows.
  Status Run();
  // Makes the statement reusable and drops its bindings. Must be called before a prepared
  // statement is run again; ResetGuard does it on scope exit.
  void Reset();

  // Columns are 0-based.
  std::int64_t ColumnInt(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
};

// Resets a cached statement when the scope using it ends, whatever path it ends on.
class ResetGuard {
 public:
  explicit ResetGuard(Statement& statement) : statement_(statement) {}
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;
  ~ResetGuard() { statement_.Reset(); }

 private:
  Statement& statement_;
};

class Connection {
 public:
  Connection() = default;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Opens `path` with the sqlite3_open_v2 `flags` (SQLITE_OPEN_NOMUTEX is added). Opening is
  // lazy in SQLite: a file that is not a database only fails on first use.
  static Result<Connection> Open(const std::string& path, int flags);

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Runs a statement returning one integer (e.g. a PRAGMA).
  Result<std::int64_t> QueryInt(std::string_view sql);

  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// An Error for the failed SQLite call `what` that returned `rc`, with SQLite's message.
// A full disk maps to kServiceUnavailable with a message that says so and names the database
// file; SQLITE_BUSY to kServiceUnavailable; everything else to kInternalError.
Error SqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace kpp::storage::sqlite
