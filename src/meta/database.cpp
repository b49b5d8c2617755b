#include "meta/database.hpp"

#include <sqlite3.h>

namespace herald::meta {

namespace {
Error sqlite_error(sqlite3* db, std::string_view what, int rc) {
    const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    Errc code = Errc::io_error;
    if (rc == SQLITE_FULL) code = Errc::no_space;
    else if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) code = Errc::corrupt;
    else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) code = Errc::unavailable;
    else if (rc == SQLITE_CONSTRAINT) code = Errc::conflict;
    return make_error(code, "metadata database: " + std::string(what) + ": " + msg);
}
}  // namespace

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), sql_(std::move(o.sql_)) {
    o.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        if (stmt_) sqlite3_finalize(stmt_);
        db_ = o.db_;
        stmt_ = o.stmt_;
        sql_ = std::move(o.sql_);
        o.stmt_ = nullptr;
    }
    return *this;
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}
Statement& Statement::bind(int i, const std::optional<std::int64_t>& v) {
    return v ? bind(i, *v) : bind_null(i);
}

Error Statement::error(std::string_view what) const {
    return sqlite_error(db_, std::string(what) + " [" + sql_.substr(0, 60) + "]", sqlite3_errcode(db_));
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return error("step");
}

Result<void> Statement::run() {
    for (;;) {
        auto r = step();
        if (!r) {
            Error e = std::move(r).error();
            reset();
            return e;
        }
        if (!*r) break;
    }
    reset();
    return ok();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
    auto* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int Statement::changes() const { return sqlite3_changes(db_); }

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        Error e = sqlite_error(db, "open " + path, rc);
        sqlite3_close(db);
        return e;
    }
    std::unique_ptr<Database> out(new Database(db));
    // A writer holding the lock briefly (another connection in this process) should be waited for, not failed.
    sqlite3_busy_timeout(db, 5000);
    if (auto r = out->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"); !r)
        return std::move(r).error();
    return out;
}

Database::~Database() { sqlite3_close_v2(db_); }

Result<void> Database::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        Error e = sqlite_error(db_, "exec [" + s.substr(0, 60) + "]", rc);
        e.message = "metadata database: " + msg + " [" + s.substr(0, 60) + "]";
        return e;
    }
    return ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, "prepare [" + std::string(sql.substr(0, 60)) + "]", rc);
    return Statement(db_, st, std::string(sql));
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Result<int> Database::user_version() {
    auto st = prepare("PRAGMA user_version");
    if (!st) return std::move(st).error();
    auto r = st->step();
    if (!r) return std::move(r).error();
    return static_cast<int>(st->int64(0));
}

Result<void> Database::set_user_version(int v) { return exec("PRAGMA user_version=" + std::to_string(v)); }

}  // namespace herald::meta
