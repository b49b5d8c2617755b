#include "loadgen/http_blocking.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loadgen/scan.hpp"
#include "loadgen/tally.hpp"

namespace herald::bench {

namespace {

constexpr std::size_t kMaxAnswer = 1 << 20;

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, std::int64_t deadline_ns) {
    for (;;) {
        const std::int64_t left = deadline_ns - mono_ns();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, static_cast<int>(left / 1'000'000) + 1);
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

}  // namespace

HttpAnswer blocking_http(const std::string& host, std::uint16_t port, std::string_view request,
                         double timeout_s) {
    HttpAnswer a;
    const std::int64_t deadline = mono_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        a.error = "bad address " + host;
        return a;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        a.error = std::string("socket: ") + std::strerror(errno);
        return a;
    }
    auto fail = [&](const char* what) {
        a.error = what;
        ::close(fd);
        return a;
    };
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        if (errno != EINPROGRESS) return fail("connect failed");
        if (!wait_fd(fd, POLLOUT, deadline)) return fail("connect timed out");
        int err = 0;
        socklen_t el = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err != 0) return fail("connect failed");
    }
    std::size_t sent = 0;
    while (sent < request.size()) {
        auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline)) return fail("send timed out");
            continue;
        }
        return fail("send failed");
    }
    std::string in;
    char buf[16384];
    for (;;) {
        ResponseHead h;
        if (parse_response_head(in, h) == HeadResult::ok && h.content_length &&
            in.size() >= h.head_bytes + *h.content_length) {
            in.resize(h.head_bytes + *h.content_length);
            break;
        }
        if (in.size() > kMaxAnswer) return fail("answer too large");
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            in.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) break;
        if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(fd, POLLIN, deadline)) return fail("answer timed out");
            continue;
        }
        return fail("recv failed");
    }
    ::close(fd);
    ResponseHead h;
    if (parse_response_head(in, h) != HeadResult::ok) {
        a.error = "no valid response head";
        return a;
    }
    a.status = h.status;
    a.body = in.substr(h.head_bytes);
    return a;
}

std::string json_string_member(std::string_view json, std::string_view name) {
    std::string key = "\"";
    key.append(name);
    key += "\":\"";
    auto at = json.find(key);
    if (at == std::string_view::npos) return {};
    auto start = at + key.size();
    auto end = json.find('"', start);
    if (end == std::string_view::npos) return {};
    return std::string(json.substr(start, end - start));
}

}  // namespace herald::bench
