#pragma once
// Subscriptions as JSON records, for the state several Herald nodes share (webhook/cluster_sync.hpp). Two
// records per subscription, because two different parties write them:
//   - the definition (id, creation time, spec, secrets, the API's state: active or paused), written by the node
//     that serves an API call (create, pause, resume, rotate the secret);
//   - the progress (cursor, counters, last attempt, disabled state), written only by the node that dispatches.
// Secrets are in the definition: the shared store (the JetStream cluster) must be as trusted as meta.db.

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "webhook/subscription.hpp"

namespace herald::webhook {

std::string definition_json(const Subscription& s);
// The status members of the result are the initial ones: state from the definition, the cursor where creation
// put it (epoch, next_offset); Errc::invalid_argument when the text is not a definition.
Result<Subscription> parse_definition(std::string_view json);

std::string progress_json(const SubscriptionStatus& status);
Result<SubscriptionStatus> parse_progress(std::string_view json);

}  // namespace herald::webhook
