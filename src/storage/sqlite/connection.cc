#include "storage/sqlite/connection.h"

#include <fmt/format.h>

#include <cerrno>
#include <utility>

namespace kpp::storage::sqlite {

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // SQLite reports a full disk as SQLITE_FULL where it writes pages, but as an I/O error where
  // it grows the WAL index; the errno tells them apart.
  const bool disk_full =
      (rc & 0xff) == SQLITE_FULL ||
      ((rc & 0xff) == SQLITE_IOERR && db != nullptr && sqlite3_system_errno(db) == ENOSPC);
  if (disk_full) {
    const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    return Error(
        ErrorCode::kServiceUnavailable,
        fmt::format("the disk holding the database {} is full: writes fail until space "
                    "is freed, reads go on ({}: {}, sqlite code {})",
                    file != nullptr && *file != '\0' ? file : "(unknown file)", what, detail, rc));
  }
  const ErrorCode code =
      (rc & 0xff) == SQLITE_BUSY ? ErrorCode::kServiceUnavailable : ErrorCode::kInternalError;
  return Error(code, fmt::format("{}: {} (sqlite code {})", what, detail, rc));
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      statement_(std::exchange(other.statement_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    db_ = std::exchange(other.db_, nullptr);
    statement_ = std::exchange(other.statement_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

void Statement::BindInt(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
}

void Statement::BindBlob(int index, std::string_view value) {
  // A null data pointer would bind SQL NULL, which compares unlike an empty blob.
  if (value.empty())
    sqlite3_bind_zeroblob(statement_, index, 0);
  else
    sqlite3_bind_blob64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT);
}

void Statement::BindBlobNoCopy(int index, std::string_view value) {
  if (value.empty())
    sqlite3_bind_zeroblob(statement_, index, 0);
  else
    sqlite3_bind_blob64(statement_, index, value.data(), value.size(), SQLITE_STATIC);
}

void Statement::BindText(int index, std::string_view value) {
  sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, fmt::format("running \"{}\"", sqlite3_sql(statement_)));
}

Status Statement::Run() {
  while (true) {
    KPP_ASSIGN_OR_RETURN(const bool row, Step());
    if (!row) return Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Connection::~Connection() {
  sqlite3_close_v2(db_);
}

Result<Connection> Connection::Open(const std::string& path, int flags) {
  Connection connection;
  connection.path_ = path;
  const int rc =
      sqlite3_open_v2(path.c_str(), &connection.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(connection.db_, rc, "opening " + path);
  sqlite3_extended_result_codes(connection.db_, 1);
  return connection;
}

Status Connection::Exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok();
  Error error = SqliteError(db_, rc, fmt::format("running \"{}\"", sql));
  sqlite3_free(message);
  return error;
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, fmt::format("preparing \"{}\"", sql));
  return Statement(db_, statement);
}

Result<std::int64_t> Connection::QueryInt(std::string_view sql) {
  KPP_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
  KPP_ASSIGN_OR_RETURN(const bool row, statement.Step());
  if (!row) return InternalError(fmt::format("\"{}\" returned no row", sql));
  return statement.ColumnInt(0);
}

}  // namespace kpp::storage::sqlite
