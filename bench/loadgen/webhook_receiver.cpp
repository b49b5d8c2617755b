#include "loadgen/webhook_receiver.hpp"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <string_view>

#include "loadgen/scan.hpp"

namespace herald::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view k204 = "HTTP/1.1 204 No Content\r\n\r\n";
constexpr std::size_t kAnswersPerWrite = 64;

// 64 answers back to back: a connection that received several requests in one read (a client
// that pipelines) is answered with one write.
const std::string& answers() {
    static const std::string s = [] {
        std::string a;
        for (std::size_t i = 0; i < kAnswersPerWrite; ++i) a += k204;
        return a;
    }();
    return s;
}

}  // namespace

WebhookReceiver::Conn::Conn(asio::io_context& io, std::size_t cap)
    : socket(io), buf(new char[cap]), cap(cap) {}

WebhookReceiver::WebhookReceiver(const Config& config) : config_(config) {
    bits_.assign(config_.hooks * config_.words, 0);
    tallies_.resize(config_.hooks);
    for (std::size_t i = 0; i < config_.hooks; ++i)
        tallies_[i].bits = bits_.data() + i * config_.words;
    if (config_.track_worst) worst_.resize(config_.capacity);
    conns_.reserve(config_.max_connections);
    free_.reserve(config_.max_connections);
    for (std::size_t i = 0; i < config_.max_connections; ++i) {
        conns_.push_back(std::make_unique<Conn>(io_, config_.buffer_bytes));
        free_.push_back(conns_.back().get());
    }
    (void)answers();
}

bool WebhookReceiver::listen(std::string& why) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, config_.ports); ++i) {
        auto l = std::make_unique<Listener>(io_);
        error_code ec;
        tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) l->acceptor.listen(4096, ec);
        if (!ec) l->port = l->acceptor.local_endpoint(ec).port();
        if (ec) {
            why = "webhook receiver: cannot listen on 127.0.0.1: " + ec.message();
            return false;
        }
        listeners_.push_back(std::move(l));
    }
    return true;
}

void WebhookReceiver::start(const std::uint64_t* acked) {
    acked_ = acked;
    for (auto& l : listeners_) accept(l.get());
    check_tick();
    thread_ = std::thread([this] { io_.run(); });
}

void WebhookReceiver::stop() {
    if (stopped_) return;
    stopped_ = true;
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // The pool's sockets stay open until the process exits: nothing runs the io_context any more.
}

double WebhookReceiver::thread_cpu_seconds() const {
    if (!thread_.joinable()) return 0;
    clockid_t cid;
    if (::pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &cid) != 0)
        return 0;
    timespec ts{};
    if (::clock_gettime(cid, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

void WebhookReceiver::request_check(std::uint64_t acked_count) {
    check_acked_count_.store(acked_count, std::memory_order_relaxed);
    check_requested_.store(true, std::memory_order_release);
}

void WebhookReceiver::check_tick() {
    // Every 10 ms on the receiver's thread: once publishing is over, whether every subscribed hook
    // has every acknowledged event (the run's drain then ends early).
    if (check_requested_.load(std::memory_order_acquire) &&
        !all_complete_.load(std::memory_order_relaxed)) {
        const std::uint64_t acked_count = check_acked_count_.load(std::memory_order_relaxed);
        bool all = true;
        for (auto& t : tallies_) {
            if (!t.ready) continue;
            t.finish_check(acked_, config_.words, acked_count);
            if (!t.complete) {
                all = false;
                break;
            }
        }
        if (all) all_complete_.store(true, std::memory_order_release);
    }
    check_timer_.expires_after(std::chrono::milliseconds(10));
    check_timer_.async_wait(in_slot(check_slot_, [this](const error_code& ec) {
        if (!ec) check_tick();
    }));
}

void WebhookReceiver::accept(Listener* l) {
    if (free_.empty()) {
        l->acceptor.async_accept(l->spare, in_slot(l->slot, [this, l](const error_code& ec) {
                                   if (ec == asio::error::operation_aborted) return;
                                   error_code ignored;
                                   l->spare.close(ignored);
                                   ++stats_.refused;
                                   accept(l);
                               }));
        return;
    }
    Conn* c = free_.back();
    free_.pop_back();
    l->acceptor.async_accept(c->socket, in_slot(l->slot, [this, l, c](const error_code& ec) {
                               if (ec) {
                                   free_.push_back(c);
                                   if (ec == asio::error::operation_aborted) return;
                                   return accept(l);
                               }
                               error_code ignored;
                               c->socket.set_option(tcp::no_delay(true), ignored);
                               c->open = true;
                               c->fill = 0;
                               c->due = 0;
                               c->writing = 0;
                               c->close_after_write = false;
                               ++stats_.accepted;
                               stats_.open_max = std::max(stats_.open_max, ++open_);
                               read(c);
                               accept(l);
                           }));
}

void WebhookReceiver::read(Conn* c) {
    c->reading = true;
    c->socket.async_read_some(asio::buffer(c->buf.get() + c->fill, c->cap - c->fill),
                              in_slot(c->read_slot, [this, c](const error_code& ec, std::size_t n) {
                                  on_read(c, ec, n);
                              }));
}

void WebhookReceiver::on_read(Conn* c, const error_code& ec, std::size_t n) {
    c->reading = false;
    if (!c->open) return maybe_release(c);
    if (ec) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset) ++stats_.closed_by_peer;
        return close(c);
    }
    const std::int64_t now = mono_ns();  // one clock read per wakeup, not per request
    c->fill += n;
    std::size_t pos = 0;
    bool bad = false;
    for (;;) {
        RequestHead h;
        auto r = parse_request_head(std::string_view(c->buf.get() + pos, c->fill - pos), h);
        if (r == HeadResult::incomplete) break;
        if (r == HeadResult::malformed || h.chunked || h.head_bytes + h.content_length > c->cap) {
            bad = true;
            break;
        }
        const std::size_t total = h.head_bytes + h.content_length;
        if (c->fill - pos < total) break;
        ++stats_.requests;
        ++c->due;
        if (h.close) c->close_after_write = true;
        std::string_view body(c->buf.get() + pos + h.head_bytes, h.content_length);
        pos += total;

        std::size_t hook = config_.hooks;
        constexpr std::string_view prefix = "/hook/";
        if (h.target.starts_with(prefix)) {
            auto digits = h.target.substr(prefix.size());
            auto [p, e] = std::from_chars(digits.data(), digits.data() + digits.size(), hook);
            if (e != std::errc() || p != digits.data() + digits.size()) hook = config_.hooks;
        }
        if (hook >= config_.hooks) {
            ++stats_.unknown_path;
            continue;
        }
        std::int64_t seq, t;
        scan_seq_t(body, seq, t);
        Tally& tally = tallies_[hook];
        if (seq < 0) {
            ++tally.foreign;
            continue;
        }
        ++deliveries_;
        if (t >= 0) {
            latency_->record(now - t);
            const auto s = static_cast<std::uint64_t>(seq);
            if (s < worst_.size() && now - t > worst_[s].ns) worst_[s] = {t, now - t};
        }
        tally.record(static_cast<std::uint64_t>(seq), config_.capacity, now);
    }
    deliveries_published_.store(deliveries_, std::memory_order_relaxed);
    if (bad) {
        ++stats_.bad_requests;
        return close(c);
    }
    if (pos > 0) {
        std::memmove(c->buf.get(), c->buf.get() + pos, c->fill - pos);
        c->fill -= pos;
    }
    if (c->fill == c->cap) {  // a head larger than the whole buffer
        ++stats_.bad_requests;
        return close(c);
    }
    if (c->due > 0 && c->writing == 0) write(c);
    if (c->open && !c->close_after_write) read(c);
}

void WebhookReceiver::write(Conn* c) {
    c->writing = std::min(c->due, kAnswersPerWrite);
    asio::async_write(c->socket, asio::buffer(answers().data(), c->writing * k204.size()),
                      in_slot(c->write_slot, [this, c](const error_code& ec, std::size_t) {
                          c->due -= c->writing;
                          c->writing = 0;
                          if (!c->open) return maybe_release(c);
                          if (ec) return close(c);
                          if (c->due > 0) return write(c);
                          if (c->close_after_write) close(c);
                      }));
}

void WebhookReceiver::close(Conn* c) {
    if (c->open) {
        c->open = false;
        --open_;
        error_code ignored;
        c->socket.close(ignored);
    }
    maybe_release(c);
}

void WebhookReceiver::maybe_release(Conn* c) {
    // The object returns to the pool only when no operation still points at it.
    if (c->open || c->reading || c->writing > 0) return;
    c->fill = 0;
    c->due = 0;
    free_.push_back(c);
}

}  // namespace herald::bench
