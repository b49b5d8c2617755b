#pragma once
// The metadata database (DESIGN.md §3.1): everything that is not an event stream — webhook subscriptions and
// their cursors, dead letters, delivery attempts, API keys, schema versions, admin edits — lives in SQLite at
// `<data_dir>/meta.db`, in WAL mode so readers never wait for the writer.
//
// This is a thin RAII layer over the C API: statements are prepared once and reused, values are bound by
// position, and every failure comes back as an Error naming the statement. It adds no schema of its own; each
// store (webhook::Store, ...) owns its tables and migrations.
//
// Threading: a Database is used by one thread at a time (SQLite's "multi-thread" mode). Stores that are touched
// from several threads keep their own Database connection or serialise access.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace herald::meta {

class Statement {
public:
    Statement() = default;
    Statement(Statement&&) noexcept;
    Statement& operator=(Statement&&) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Binds by 1-based position; a Statement is reset (and its bindings cleared) by reset().
    Statement& bind(int index, std::int64_t v);
    Statement& bind(int index, std::string_view v);  // bound as TEXT, copied
    Statement& bind_blob(int index, std::string_view v);
    Statement& bind_null(int index);
    Statement& bind(int index, const std::optional<std::int64_t>& v);

    // One step: true when a row is available, false when done; Error on failure.
    Result<bool> step();
    // Runs to completion, ignoring rows (INSERT/UPDATE/DELETE).
    Result<void> run();
    void reset();

    std::int64_t int64(int col) const;
    std::string text(int col) const;
    bool is_null(int col) const;
    // Rows changed by the last run of this statement's connection.
    int changes() const;

private:
    friend class Database;
    Statement(sqlite3* db, sqlite3_stmt* s, std::string sql) : db_(db), stmt_(s), sql_(std::move(sql)) {}
    Error error(std::string_view what) const;

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
    std::string sql_;
};

class Database {
public:
    // Opens (creating when missing) with WAL journaling, NORMAL synchronous (durable across process crashes;
    // the last commit may be lost on power loss, as with `fsync: interval`) and foreign keys on.
    static Result<std::unique_ptr<Database>> open(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Result<void> exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);
    std::int64_t last_insert_rowid() const;

    // BEGIN IMMEDIATE … COMMIT; rolled back when `body` fails.
    template <class F>
    Result<void> transaction(F&& body) {
        if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
        Result<void> r = body();
        if (!r) {
            (void)exec("ROLLBACK");
            return r;
        }
        return exec("COMMIT");
    }

    // PRAGMA user_version: the stores' migration counter.
    Result<int> user_version();
    Result<void> set_user_version(int v);

private:
    explicit Database(sqlite3* db) : db_(db) {}
    sqlite3* db_;
};

}  // namespace herald::meta
