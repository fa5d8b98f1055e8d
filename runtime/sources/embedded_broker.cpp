#include "runtime/sources/embedded_broker.h"

#include "runtime/core/user_error.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h relies on declarations from rdkafka.h, so the order matters.
#include <librdkafka/rdkafka_mock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <stdexcept>

namespace pipec::runtime {
namespace {

int connectLoopback(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// Relays bytes both ways between one client connection and one broker connection until either side closes.
void relay(int client, int broker, const std::atomic<bool>& stopping) {
    char buffer[64 * 1024];
    pollfd fds[2] = {{client, POLLIN, 0}, {broker, POLLIN, 0}};
    while (!stopping.load()) {
        int ready = ::poll(fds, 2, 200);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        bool closed = false;
        for (int side = 0; side < 2 && !closed; ++side) {
            if ((fds[side].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            ssize_t got = ::recv(fds[side].fd, buffer, sizeof buffer, 0);
            if (got <= 0) {
                closed = true;
                break;
            }
            int target = fds[1 - side].fd;
            for (ssize_t sent = 0; sent < got;) {
                ssize_t now = ::send(target, buffer + sent, static_cast<size_t>(got - sent), MSG_NOSIGNAL);
                if (now <= 0) {
                    closed = true;
                    break;
                }
                sent += now;
            }
        }
        if (closed) break;
    }
    ::close(client);
    ::close(broker);
}

} // namespace

/// Listens on the fixed bootstrap port and relays each connection to a mock broker (see Options::bootstrapPort).
class BootstrapForwarder {
public:
    BootstrapForwarder(int listenPort, int brokerPort) : brokerPort_(brokerPort) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw std::runtime_error("cannot create a socket");
        int reuse = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(listenPort));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 64) != 0) {
            std::string reason = std::strerror(errno);
            ::close(listener_);
            throw UserError("cannot listen on 127.0.0.1:" + std::to_string(listenPort) + ": " + reason, UserError::kEnvironmentRefused);
        }
        acceptor_ = std::thread([this] { acceptLoop(); });
    }

    ~BootstrapForwarder() {
        stopping_ = true;
        acceptor_.join();
        ::close(listener_);
        std::lock_guard lock(mutex_);
        for (auto& connection : connections_) connection.join();
    }

private:
    void acceptLoop() {
        pollfd fd{listener_, POLLIN, 0};
        while (!stopping_.load()) {
            if (::poll(&fd, 1, 200) <= 0) continue;
            int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            int broker = connectLoopback(brokerPort_);
            if (broker < 0) {
                ::close(client);
                continue;
            }
            std::lock_guard lock(mutex_);
            connections_.emplace_back([client, broker, this] { relay(client, broker, stopping_); });
        }
    }

    int brokerPort_;
    int listener_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::mutex mutex_;
    std::list<std::thread> connections_;
};

struct EmbeddedBroker::State {
    rd_kafka_t* handle = nullptr;
    rd_kafka_mock_cluster_t* cluster = nullptr;
    std::unique_ptr<BootstrapForwarder> forwarder;
    std::string bootstrap;
    int bootstrapPort = 0;

    ~State() {
        forwarder.reset();
        if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
        if (handle != nullptr) rd_kafka_destroy(handle);
    }
};

EmbeddedBroker::EmbeddedBroker() : EmbeddedBroker(Options{}) {}

EmbeddedBroker::EmbeddedBroker(const Options& options) : state_(std::make_unique<State>()) {
    if (options.brokerCount < 1) throw std::invalid_argument("an embedded cluster needs at least one broker");
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the mock cluster; it never connects anywhere, so keep its logging quiet.
    rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
    state_->handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (state_->handle == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot create the embedded broker's client handle: ") + error);
    }
    state_->cluster = rd_kafka_mock_cluster_new(state_->handle, options.brokerCount);
    if (state_->cluster == nullptr) throw std::runtime_error("cannot start the embedded Kafka-protocol broker");
    state_->bootstrap = rd_kafka_mock_cluster_bootstraps(state_->cluster);
    if (options.bootstrapPort != 0) {
        // The first entry is broker 1, "127.0.0.1:PORT".
        std::string first = state_->bootstrap.substr(0, state_->bootstrap.find(','));
        int brokerPort = std::stoi(first.substr(first.rfind(':') + 1));
        state_->forwarder = std::make_unique<BootstrapForwarder>(options.bootstrapPort, brokerPort);
        state_->bootstrapPort = options.bootstrapPort;
    }
}

EmbeddedBroker::~EmbeddedBroker() = default;

std::string EmbeddedBroker::bootstrapServers() const {
    return state_->forwarder ? "127.0.0.1:" + std::to_string(state_->bootstrapPort) : state_->bootstrap;
}

std::string EmbeddedBroker::brokerAddresses() const { return state_->bootstrap; }

void EmbeddedBroker::createTopic(const std::string& name, int partitions) {
    if (partitions < 1) throw std::invalid_argument("topic `" + name + "` needs at least one partition");
    rd_kafka_resp_err_t error = rd_kafka_mock_topic_create(state_->cluster, name.c_str(), partitions, 1);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError("cannot create topic `" + name + "`: " + rd_kafka_err2str(error), UserError::kEnvironmentRefused);
}

void EmbeddedBroker::setBrokersUp(bool up) {
    rd_kafka_resp_err_t error = up ? rd_kafka_mock_broker_set_up(state_->cluster, -1)
                                   : rd_kafka_mock_broker_set_down(state_->cluster, -1);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw std::runtime_error(std::string("cannot take the embedded brokers ") + (up ? "up: " : "down: ") +
                                 rd_kafka_err2str(error));
}

} // namespace pipec::runtime
