// `herald top`: polls the admin listener's /metrics and shows topics, rates, connections and lag
// (docs/cli.md). The figures come from cli/top.hpp; this file fetches, keeps time and owns the
// terminal.
//
// Threading: one thread. Keys and signals are read with poll(2) between and during scrapes (the
// HTTP fetch asks every 50 ms whether to give up), so a quit is never held up by a server that does
// not answer.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <thread>
#include <utility>

#include "base/units.hpp"
#include "cli/commands.hpp"
#include "cli/http_client.hpp"
#include "cli/options.hpp"
#include "cli/prometheus_text.hpp"
#include "cli/top.hpp"

namespace herald::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct TopOptions {
    Url admin;
    TlsTrust trust;      // for an https:// admin URL
    std::string source;  // the admin address as shown in the header
    std::string token;
    std::chrono::milliseconds interval{1000};
    bool once = false;
    long iterations = 0;  // 0: until quit
};

struct Scrape {
    prom::Exposition metrics;
    Clock::time_point at;
};

// A fetch gets the interval to answer, but never less than two seconds (a busy server on a short
// interval) nor more than ten (a dead one should show on the status line soon).
std::chrono::milliseconds fetch_timeout(std::chrono::milliseconds interval) {
    return std::clamp(interval, std::chrono::milliseconds(2000), std::chrono::milliseconds(10'000));
}

Result<Scrape> scrape(const TopOptions& o, const std::function<bool()>& cancelled) {
    std::vector<std::pair<std::string, std::string>> headers{{"Accept", "text/plain"}};
    if (!o.token.empty()) headers.emplace_back("Authorization", "Bearer " + o.token);
    auto r = fetch(o.admin, o.trust, "/metrics", headers, fetch_timeout(o.interval), cancelled);
    if (!r) return std::move(r).error();
    const auto at = Clock::now();
    const std::string where = "the admin listener at " + o.source;
    if (r->status == 401) {
        return make_error(
            Errc::invalid_argument,
            where + " answered 401 Unauthorized: " +
                (o.token.empty() ? "/metrics needs the admin token (--token or HERALD_ADMIN_TOKEN)"
                                 : "it refused the admin token given"));
    }
    if (r->status == 403)
        return make_error(Errc::invalid_argument,
                          where + " answered 403 Forbidden: the token lacks the admin scope");
    if (r->status != 200) {
        std::string body = r->body.substr(0, 200);
        for (auto& c : body)
            if (c == '\n' || c == '\r') c = ' ';
        return make_error(Errc::unavailable, where + " answered HTTP " + std::to_string(r->status) +
                                                 (body.empty() ? "" : ": " + body));
    }
    auto parsed = prom::parse_text(r->body);
    if (!parsed)
        return make_error(
            Errc::invalid_argument,
            where + " sent /metrics that is not Prometheus text: " + parsed.error().message);
    return Scrape{std::move(*parsed), at};
}

struct TermSize {
    std::size_t rows = 24;
    std::size_t cols = 0;
};

// The terminal's size when `fd` is one; 24 rows and no width limit otherwise (a pipe, a file).
TermSize term_size(int fd) {
    winsize ws{};
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return {ws.ws_row, ws.ws_col};
    return {};
}

std::string clock_time() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

void write_all(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}

// Keys and signals for the live view. SIGINT, SIGTERM, SIGHUP and SIGWINCH are blocked and read
// from a signalfd, so there is no handler and no global flag; with a terminal on stdout the view
// takes the alternate screen, hides the cursor and reads keys unbuffered. The destructor puts back
// the terminal and the signal mask, whatever the way out. Owned by the live loop, on its thread.
class Console {
public:
    enum class Event { none, quit, resize };

    explicit Console(bool screen) : screen_(screen) {
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&set, s);
        pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
        signals_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (screen_ && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
            termios raw = saved_;
            // Keys arrive one by one and are not echoed; ISIG stays, so Ctrl-C still raises SIGINT.
            raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
            raw.c_cc[VMIN] = 0;
            raw.c_cc[VTIME] = 0;
            keys_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        if (screen_) write_all("\x1b[?1049h\x1b[?25l");  // alternate screen, cursor hidden
    }

    ~Console() {
        if (screen_) write_all("\x1b[?25h\x1b[?1049l");
        if (keys_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
        if (signals_ >= 0) close(signals_);
        pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }

    Console(const Console&) = delete;
    Console& operator=(const Console&) = delete;

    bool screen() const noexcept { return screen_; }

    // The first event within `timeout` (none when it passed quietly). A quit, once seen, is
    // answered to every later call: whoever asked first may not have been the one to act on it.
    Event wait(std::chrono::milliseconds timeout) {
        if (quit_) return Event::quit;
        pollfd fds[2] = {{signals_, POLLIN, 0}, {keys_ ? STDIN_FILENO : -1, POLLIN, 0}};
        int n = poll(fds, 2, static_cast<int>(std::max<long long>(timeout.count(), 0)));
        if (n <= 0) return Event::none;
        Event ev = Event::none;
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            while (read(signals_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
                ev = info.ssi_signo == SIGWINCH && ev != Event::quit ? Event::resize : Event::quit;
        }
        if (fds[1].revents & POLLIN) {
            char buf[64];
            auto got = read(STDIN_FILENO, buf, sizeof buf);
            for (ssize_t i = 0; i < got; ++i)
                if (buf[i] == 'q' || buf[i] == 'Q') ev = Event::quit;
        }
        quit_ = ev == Event::quit;
        return ev;
    }

    // Asked while a scrape is under way: quits are answered, resizes remembered for after it.
    bool quit_requested() {
        auto ev = wait(std::chrono::milliseconds(0));
        if (ev == Event::resize) resized_ = true;
        return ev == Event::quit;
    }
    bool take_resize() noexcept { return std::exchange(resized_, false); }

    // Screen: redraw in place, each line cleared to its end (clearing the whole screen first would
    // flicker), the status line on the last row in reverse video. Otherwise: the frame as plain
    // lines, a blank line after it.
    void draw(const std::vector<std::string>& lines, const std::string& status, bool error) {
        std::string out;
        if (!screen_) {
            if (error) {
                std::cerr << "herald top: " << status << '\n';
                return;
            }
            for (auto& l : lines) out += l + '\n';
            out += '\n';
            write_all(out);
            return;
        }
        auto size = term_size(STDOUT_FILENO);
        out += "\x1b[H";
        for (auto& l : lines) out += l + "\x1b[K\n";
        out += "\x1b[J";
        out += "\x1b[" + std::to_string(size.rows) + ";1H";
        out += error ? "\x1b[1;7m" : "\x1b[7m";
        std::string s = status;
        if (size.cols && s.size() > size.cols) s.resize(size.cols);
        out += s + "\x1b[K\x1b[0m";
        write_all(out);
    }

private:
    bool screen_;
    bool keys_ = false;
    bool resized_ = false;
    bool quit_ = false;
    int signals_ = -1;
    sigset_t old_mask_{};
    termios saved_{};
};

std::string interval_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

top::Layout layout_for(const TopOptions& o, TermSize size, bool status_line) {
    top::Layout l;
    l.rows = size.rows > 1 && status_line ? size.rows - 1 : size.rows;
    l.cols = size.cols;
    l.source = o.source;
    l.interval_seconds = std::chrono::duration<double>(o.interval).count();
    return l;
}

// `--once`: two scrapes one interval apart, one frame without control codes. Exit 1 when a scrape
// fails.
int run_once(const TopOptions& o) {
    auto first = scrape(o, {});
    if (!first) {
        std::cerr << "herald top: " << first.error().message << '\n';
        return 1;
    }
    std::this_thread::sleep_until(first->at + o.interval);
    auto second = scrape(o, {});
    if (!second) {
        std::cerr << "herald top: " << second.error().message << '\n';
        return 1;
    }
    const double elapsed = std::chrono::duration<double>(second->at - first->at).count();
    auto frame = top::make_frame(second->metrics, &first->metrics, elapsed);
    std::string out;
    for (auto& line : top::render(frame, layout_for(o, term_size(STDOUT_FILENO), false)))
        out += line + '\n';
    write_all(out);
    return 0;
}

// The live view: a scrape per interval, a frame per scrape. A failed scrape leaves the last frame
// on the screen with the error on the status line, and the next interval tries again.
int run_live(const TopOptions& o) {
    Console console(isatty(STDOUT_FILENO) != 0);
    std::optional<Scrape> previous;
    std::optional<top::Frame> frame;
    std::string status;
    bool failed = false;
    long frames = 0;
    auto redraw = [&] {
        // Piped output gets complete frames only (the first one, without rates, is for people
        // watching a screen) and errors on stderr.
        if (!console.screen() && !frame && !failed) return;
        auto l = layout_for(o, term_size(STDOUT_FILENO), console.screen());
        console.draw(frame ? top::render(*frame, l) : std::vector<std::string>{}, status, failed);
    };
    auto next = Clock::now();
    for (;;) {
        auto s = scrape(o, [&] { return console.quit_requested(); });
        if (!s && s.error().code == Errc::conflict) return 0;  // cancelled: the user quit
        if (s) {
            const bool rated = previous.has_value();
            const double elapsed =
                rated ? std::chrono::duration<double>(s->at - previous->at).count() : 0;
            frame = top::make_frame(s->metrics, rated ? &previous->metrics : nullptr, elapsed);
            previous = std::move(*s);
            failed = false;
            status = clock_time() + (rated ? "" : "  measuring rates...") + "  q quits";
            if (rated) ++frames;
            if (!console.screen() && !rated) frame.reset();
        } else {
            failed = true;
            status = clock_time() + "  " + s.error().message + "; retrying every " +
                     interval_text(o.interval);
        }
        redraw();
        if (o.iterations > 0 && frames >= o.iterations) return 0;
        // Keep to the interval's grid; after a scrape that overran it, start a fresh grid rather
        // than catch up.
        next += o.interval;
        if (next < Clock::now()) next = Clock::now() + o.interval;
        for (;;) {
            if (console.take_resize() && console.screen()) redraw();
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
            if (left.count() <= 0) break;
            auto ev = console.wait(left);
            if (ev == Console::Event::quit) return 0;
            if (ev == Console::Event::resize && console.screen()) redraw();
        }
    }
}

Result<Url> parse_admin(const std::string& text) {
    // HOST:PORT (plain HTTP), or a URL: http:// or https://, which may carry a path prefix (as behind a reverse
    // proxy).
    if (text.find("://") != std::string::npos) return parse_base_url(text);
    return parse_base_url("http://" + text);
}

}  // namespace

int cmd_top(const Args& args) {
    auto p = parse(args, {"admin", "token", "interval", "iterations", "cacert"}, {"once"});
    if (!p) return 2;
    constexpr const char* kUsage =
        "usage: herald top [--admin HOST:PORT|URL] [--token TOKEN] [--cacert FILE] [--interval 1s]\n"
        "                  [--once | --iterations N]\n";
    if (!p->positional.empty()) {
        std::cerr << "herald top: unexpected argument '" << p->positional[0] << "'\n" << kUsage;
        return 2;
    }
    auto& opt = p->options;
    TopOptions o;
    o.source = opt.count("admin") ? opt["admin"] : "127.0.0.1:9180";
    auto url = parse_admin(o.source);
    if (!url) {
        std::cerr
            << "herald top: --admin: expected HOST:PORT or a URL like http://127.0.0.1:9180 or "
               "https://admin.example.com:9180\n";
        return 2;
    }
    o.admin = std::move(*url);
    auto trust = client_trust(*p, o.admin, "herald top");
    if (!trust) return 2;
    o.trust = std::move(*trust);
    if (opt.count("token")) {
        o.token = opt["token"];
    } else if (const char* env = std::getenv("HERALD_ADMIN_TOKEN")) {
        o.token = env;
    }
    if (opt.count("interval")) {
        const auto& text = opt["interval"];
        // A bare number is refused: configuration reads it as milliseconds, top(1) as seconds.
        auto ms = text.empty() || (text.back() >= '0' && text.back() <= '9')
                      ? Result<std::int64_t>(make_error(Errc::invalid_argument, "a unit is needed"))
                      : parse_duration_ms(text);
        if (!ms || *ms < 100 || *ms > 3'600'000) {
            std::cerr << "herald top: --interval takes a duration from 100ms to 1h, such as 500ms "
                         "or 2s\n";
            return 2;
        }
        o.interval = std::chrono::milliseconds(*ms);
    }
    o.once = opt.count("once") > 0;
    if (opt.count("iterations")) {
        char* end = nullptr;
        const auto& text = opt["iterations"];
        o.iterations = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || o.iterations < 1) {
            std::cerr << "herald top: --iterations takes a positive number\n";
            return 2;
        }
        if (o.once) {
            std::cerr << "herald top: --once and --iterations do not go together\n" << kUsage;
            return 2;
        }
    }
    try {
        return o.once ? run_once(o) : run_live(o);
    } catch (const std::exception& e) {
        // Out of memory, most likely; Console's destructor has put the terminal back by now.
        std::cerr << "herald top: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace herald::cli
