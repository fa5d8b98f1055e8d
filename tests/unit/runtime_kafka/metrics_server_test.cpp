#include "runtime/core/metrics_server.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

using pipec::runtime::MetricsServer;

namespace {

std::string httpRequest(int port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    std::string reply;
    char buffer[1024];
    for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, static_cast<size_t>(got));
    ::close(fd);
    return reply;
}

std::string get(int port, const std::string& path) {
    return httpRequest(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

} // namespace

TEST_CASE("metrics server serves metrics, health and readiness") {
    std::atomic<int> scrapes{0};
    std::atomic<bool> ready{false};
    MetricsServer server(
        0,
        [&] {
            int n = ++scrapes;
            return "# TYPE pipec_records_in_total counter\npipec_records_in_total " + std::to_string(n * 10) + "\n";
        },
        [&] { return ready.load(); }, "127.0.0.1");
    REQUIRE(server.port() > 0);

    std::string metrics = get(server.port(), "/metrics");
    CHECK(metrics.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(metrics.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    CHECK(metrics.find("\r\n\r\n# TYPE pipec_records_in_total counter\npipec_records_in_total 10\n") !=
          std::string::npos);
    // The callback runs on every scrape.
    CHECK(get(server.port(), "/metrics").find("pipec_records_in_total 20\n") != std::string::npos);

    CHECK(get(server.port(), "/healthz").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(get(server.port(), "/readyz").rfind("HTTP/1.1 503", 0) == 0);
    ready = true;
    CHECK(get(server.port(), "/readyz").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(get(server.port(), "/nope").rfind("HTTP/1.1 404", 0) == 0);
    CHECK(httpRequest(server.port(), "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
    CHECK(httpRequest(server.port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);

    std::string length = get(server.port(), "/healthz");
    CHECK(length.find("Content-Length: 3\r\n") != std::string::npos);

    server.stop();
    server.stop();
}

TEST_CASE("metrics server reports a port that is already taken") {
    MetricsServer first(0, [] { return std::string(); }, [] { return true; }, "127.0.0.1");
    CHECK_THROWS_AS(MetricsServer(first.port(), [] { return std::string(); }, [] { return true; }, "127.0.0.1"),
                    std::runtime_error);
}
