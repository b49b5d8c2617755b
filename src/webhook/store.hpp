#pragma once
// Persistence of webhook subscriptions, their cursors and status, dead letters and the recent delivery log, in the
// metadata database (meta.db). The store owns its tables and their migrations.
//
// Durability contract (what makes delivery at-least-once across kill -9): a dead letter is written before the
// cursor moves past its event, and a cursor is only ever saved at a position below which every event was
// delivered or dead-lettered. A crash therefore re-delivers at most what was in flight or not yet saved.
//
// Threading: one thread (the webhook service's) uses a Store.

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "meta/database.hpp"
#include "webhook/subscription.hpp"

namespace herald::webhook {

class Store {
public:
    // Creates or migrates the tables. `attempts_kept` bounds the delivery log per subscription.
    static Result<std::unique_ptr<Store>> open(meta::Database& db, unsigned attempts_kept = 100);

    Result<std::vector<Subscription>> load_all();
    Result<void> insert(const Subscription& s);
    Result<void> save_secrets(const Subscription& s);
    // State, cursor and counters (the frequently changing part).
    Result<void> save_status(const Subscription& s);
    Result<void> remove(const std::string& id);

    // Returns the new entry's id.
    Result<std::int64_t> add_dead_letter(const DeadLetter& d);
    // Entries of a subscription with id > after, oldest first.
    Result<std::vector<DeadLetter>> dead_letters(const std::string& subscription_id, std::int64_t after,
                                                 unsigned limit);
    Result<std::optional<DeadLetter>> dead_letter(const std::string& subscription_id, std::int64_t id);
    Result<void> remove_dead_letter(const std::string& subscription_id, std::int64_t id);
    // After a failed replay: the entry stays, with its attempt count and last outcome updated.
    Result<void> update_dead_letter(const std::string& subscription_id, std::int64_t id, unsigned attempts,
                                    int last_status, const std::string& last_error);
    Result<std::int64_t> dead_letter_count(const std::string& subscription_id);
    // Entries in a subscription's dead-letter queue now, without a query: counted once when the store opens and
    // kept up to date by add_dead_letter, remove_dead_letter and remove (for the metrics, read every flush).
    std::int64_t queued_dead_letters(const std::string& subscription_id) const;

    Result<void> add_attempt(const Attempt& a);
    // Many attempts at once, oldest first (one flush's worth). Only the newest `attempts_kept` of each
    // subscription are written and each subscription is pruned once: at thousands of deliveries per second,
    // rows that the next prune would delete are never inserted.
    Result<void> add_attempts(const std::vector<Attempt>& attempts);
    // Most recent first.
    Result<std::vector<Attempt>> attempts(const std::string& subscription_id, unsigned limit);

private:
    explicit Store(meta::Database& db, unsigned attempts_kept) : db_(db), attempts_kept_(attempts_kept) {}
    Result<void> migrate();
    Result<void> prepare_statements();
    Result<void> count_dead_letters();

    meta::Database& db_;
    unsigned attempts_kept_;
    meta::Statement insert_, save_secrets_, save_status_, remove_, remove_dl_all_, remove_at_all_;
    meta::Statement add_dl_, list_dl_, get_dl_, remove_dl_, update_dl_, count_dl_;
    meta::Statement add_at_, list_at_, prune_at_;
    std::unordered_map<std::string, std::int64_t> queued_dead_letters_;  // by subscription id; absent: none
};

}  // namespace herald::webhook
