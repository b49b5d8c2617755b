#include "gateway/connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace herald::gateway {

void UpstreamConnection::close() noexcept {
    boost::system::error_code ignored;
    tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
}

namespace {

// An idle keep-alive connection must have nothing to read: end-of-file means the upstream closed it, and bytes
// would be an answer nobody asked for (the connection is out of step).
bool looks_alive(UpstreamConnection& c) {
    if (c.buffer.size() != 0) return false;
    auto& s = c.tcp().socket();
    if (!s.is_open()) return false;
    char byte;
    const auto n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const std::string& key,
                                                         std::chrono::milliseconds idle_timeout) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    const auto now = std::chrono::steady_clock::now();
    std::unique_ptr<UpstreamConnection> found;
    // Most recently returned first: it is the least likely to have been closed by the upstream's idle timer.
    while (!list.empty() && !found) {
        auto c = std::move(list.back());
        list.pop_back();
        --idle_count_;
        if (now - c->idle_since < idle_timeout && looks_alive(*c)) {
            found = std::move(c);
        } else {
            ++stats_.discarded_stale;
            c->close();
        }
    }
    if (list.empty()) idle_.erase(it);
    if (found) ++stats_.reused;
    return found;
}

void ConnectionPool::give_back(std::unique_ptr<UpstreamConnection> c, std::size_t max_idle) {
    auto& list = idle_[c->key];
    if (list.size() >= max_idle || c->buffer.size() != 0) {
        c->close();
        if (list.empty()) idle_.erase(c->key);
        return;
    }
    c->tcp().expires_never();
    c->idle_since = std::chrono::steady_clock::now();
    list.push_back(std::move(c));
    ++idle_count_;
}

}  // namespace herald::gateway
