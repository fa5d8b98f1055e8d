#include "runtime/core/metrics_server.h"

#include "runtime/core/user_error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pipec::runtime {
namespace {

void sendAll(int fd, const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
        ssize_t now = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (now <= 0) return;
        sent += static_cast<size_t>(now);
    }
}

std::string response(int status, const char* reason, const std::string& contentType, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + contentType +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

MetricsServer::MetricsServer(int port, MetricsCallback metrics, ReadyCallback ready, const std::string& bindAddress)
    : MetricsServer(
          port, std::move(metrics),
          ready ? ReadinessCallback([ready = std::move(ready)] { return ready() ? std::string() : std::string("not ready"); })
                : ReadinessCallback(),
          bindAddress) {}

MetricsServer::MetricsServer(int port, MetricsCallback metrics, ReadinessCallback readiness,
                             const std::string& bindAddress)
    : metrics_(std::move(metrics)), readiness_(std::move(readiness)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw std::runtime_error("metrics server: cannot create a socket");
    int reuse = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, bindAddress.c_str(), &address.sin_addr) != 1) {
        ::close(listener_);
        throw UserError("metrics server: invalid bind address `" + bindAddress + "`");
    }
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0) {
        std::string reason = std::strerror(errno);
        ::close(listener_);
        throw UserError("metrics server: cannot listen on " + bindAddress + ":" + std::to_string(port) + ": " + reason,
                        UserError::kEnvironmentRefused);
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
    if (stopping_.exchange(true)) return;
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
}

void MetricsServer::serve() {
    pollfd fd{listener_, POLLIN, 0};
    while (!stopping_.load()) {
        // A short poll timeout bounds how long stop() waits.
        if (::poll(&fd, 1, 100) <= 0) continue;
        int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        handle(client);
        ::close(client);
    }
}

void MetricsServer::handle(int client) {
    // Requests are tiny; read until the end of the headers, giving a slow client at most ~2 s in total.
    std::string request;
    char buffer[2048];
    pollfd fd{client, POLLIN, 0};
    for (int waited = 0; request.find("\r\n\r\n") == std::string::npos && request.size() < 16384 && waited < 20;) {
        if (::poll(&fd, 1, 100) <= 0) {
            ++waited;
            continue;
        }
        ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        request.append(buffer, static_cast<size_t>(got));
    }
    auto lineEnd = request.find("\r\n");
    std::string line = request.substr(0, lineEnd);
    auto firstSpace = line.find(' ');
    auto secondSpace = line.find(' ', firstSpace == std::string::npos ? 0 : firstSpace + 1);
    if (firstSpace == std::string::npos || secondSpace == std::string::npos) {
        sendAll(client, response(400, "Bad Request", "text/plain", "bad request\n"));
        return;
    }
    std::string method = line.substr(0, firstSpace);
    std::string target = line.substr(firstSpace + 1, secondSpace - firstSpace - 1);
    target = target.substr(0, target.find('?'));
    if (method != "GET" && method != "HEAD") {
        sendAll(client, response(405, "Method Not Allowed", "text/plain", "only GET\n"));
        return;
    }
    std::string reply;
    if (target == "/metrics") {
        std::string body;
        try {
            body = metrics_ ? metrics_() : std::string();
        } catch (const std::exception& error) {
            reply = response(500, "Internal Server Error", "text/plain", std::string(error.what()) + "\n");
        }
        if (reply.empty()) reply = response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    } else if (target == "/healthz") {
        reply = response(200, "OK", "text/plain", "ok\n");
    } else if (target == "/readyz") {
        std::string reason;
        try {
            reason = readiness_ ? readiness_() : std::string();
        } catch (const std::exception& error) {
            reason = std::string("readiness check failed: ") + error.what();
        }
        reply = reason.empty() ? response(200, "OK", "text/plain", "ready\n")
                               : response(503, "Service Unavailable", "text/plain", reason + "\n");
    } else {
        reply = response(404, "Not Found", "text/plain", "not found\n");
    }
    if (method == "HEAD") reply = reply.substr(0, reply.find("\r\n\r\n") + 4);
    sendAll(client, reply);
}

} // namespace pipec::runtime
