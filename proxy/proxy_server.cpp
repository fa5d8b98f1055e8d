#include "proxy/proxy_server.h"

#include "proxy/produce_request.h"
#include "proxy/record_encoder.h"
#include "proxy/streamed_body.h"
#include "runtime/core/user_error.h"
#include "runtime/sinks/json_lines_sink.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <iostream>

namespace pipec::proxy {

using Json = nlohmann::json;

namespace {

int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double monotonicSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr const char *kV3ContentType = "application/json";

/// Records in the producer's queue beyond which a streamed request stops reading until it drains.
constexpr int kStreamQueueMark = 10000;

/// JSON text of a response or log line. Error messages can quote a client's bytes (a parse error shows the offending
/// token), which need not be UTF-8: they are replaced rather than thrown over.
std::string jsonText(const nlohmann::json &value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
constexpr const char *kV2ContentType = "application/vnd.kafka.v2+json";

/// What the access log line of the current request says beyond the request line (set by the handler, read by the
/// logger, which runs on the same thread right after the response is written).
struct AccessLogContext {
    std::chrono::steady_clock::time_point start;
    std::string client;
    size_t records = 0;
    size_t refused = 0;
};
thread_local AccessLogContext accessLog;

/// One record's verdict, small so that a long stream holds little per record: the encoded bytes are gone once
/// the producer has them, the offset and time stay in the delivery batch, the error text in `ProduceOutcome`.
struct RecordVerdict {
    int status = 200;       // 200 acknowledged, 202 queued (async), else the error status
    uint32_t error = 0;     // when refused: 1 + its index in ProduceOutcome::errors
    int32_t partition = -1; // the partition asked for (async answers)
    uint32_t keySize = 0;
    uint32_t valueSize = 0;
    DataType keyType = DataType::Absent;
    DataType valueType = DataType::Absent;
    bool hasKey = false;
    bool hasValue = false;
};

/// The verdicts of one produce request, shared with the writer of a streamed answer.
struct ProduceOutcome {
    std::string clusterId;
    std::string topic;
    std::deque<RecordVerdict> verdicts;
    std::vector<std::pair<std::string, std::string>> errors; // message, metrics reason
    std::shared_ptr<DeliveryBatch> batch;                    // sync: the delivery reports, same indexes
    bool retryLater = false;                                 // a 429/503 verdict: the answer says Retry-After

    void refuse(RecordVerdict &verdict, int status, std::string message, std::string reason) {
        verdict.status = status;
        errors.emplace_back(std::move(message), std::move(reason));
        verdict.error = static_cast<uint32_t>(errors.size());
        retryLater = retryLater || status == 429 || status == 503;
    }
    const std::string &message(const RecordVerdict &verdict) const { return errors[verdict.error - 1].first; }
    const std::string &reason(const RecordVerdict &verdict) const { return errors[verdict.error - 1].second; }
};

std::string reasonFor(int status) {
    switch (status) {
    case 400:
        return "malformed";
    case 413:
        return "too_large";
    case 422:
        return "schema_mismatch";
    case 429:
        return "queue_full";
    case 503:
        return "cluster_unavailable";
    default:
        return "delivery_failed";
    }
}

/// The v3 answer object of record `index`.
Json v3RecordJson(const ProduceOutcome &outcome, size_t index) {
    const RecordVerdict &verdict = outcome.verdicts[index];
    if (verdict.status != 200 && verdict.status != 202)
        return Json{{"error_code", verdict.status}, {"message", outcome.message(verdict)}};
    bool acknowledged = verdict.status == 200;
    DeliveryReport report = acknowledged ? outcome.batch->report(index) : DeliveryReport{};
    Json response{{"error_code", verdict.status},
                  {"cluster_id", outcome.clusterId},
                  {"topic_name", outcome.topic},
                  {"partition_id", acknowledged             ? Json(report.partition)
                                   : verdict.partition >= 0 ? Json(verdict.partition)
                                                            : Json()},
                  {"offset", acknowledged ? Json(report.offset) : Json()},
                  {"timestamp", acknowledged && report.timestampMs >= 0
                                    ? Json(runtime::formatTimestamp(report.timestampMs))
                                    : Json()}};
    if (verdict.hasKey) response["key"] = Json{{"type", dataTypeName(verdict.keyType)}, {"size", verdict.keySize}};
    if (verdict.hasValue)
        response["value"] = Json{{"type", dataTypeName(verdict.valueType)}, {"size", verdict.valueSize}};
    return response;
}

} // namespace

/// One request being answered.
struct ProxyServer::Exchange {
    const httplib::Request &request;
    httplib::Response &response;
    std::string route;
    bool v2 = false;
    Authentication authentication;
    /// cpp-httplib hands produce requests over before their body is read: the handler reads it (buffered, or while
    /// it arrives). A body left unread is drained after the answer, or the connection's next request would start
    /// inside it.
    const httplib::ContentReader *reader = nullptr;
    bool bodyRead = false;

    /// Reads the body through `receiver` (once).
    bool readBody(const std::function<bool(const char *, size_t)> &receiver) {
        bodyRead = true;
        return (*reader)(receiver);
    }
    /// Reads and discards what is left of the body, up to StreamedBody::kDrainBytes.
    void drainBody() {
        if (reader == nullptr || bodyRead) return;
        size_t discarded = 0;
        readBody([&](const char *, size_t size) { return (discarded += size) <= StreamedBody::kDrainBytes; });
    }

    void send(int status, const Json &body) {
        response.status = status;
        response.set_content(jsonText(body), v2 ? kV2ContentType : kV3ContentType);
    }
    /// Confluent's error shape: `{"error_code": N, "message": "…"}`.
    void fail(int status, int errorCode, const std::string &message) {
        send(status, Json{{"error_code", errorCode}, {"message", message}});
    }
};

ProxyServer::ProxyServer(ProxyOptions options, const TopicDirectory &directory, const ApiKeyStore &keys,
                         std::map<std::string, std::unique_ptr<ClusterProducer>> &producers)
    : options_(std::move(options)), directory_(directory), keys_(keys), producers_(producers) {}

ProxyServer::~ProxyServer() {
    stop();
}

void ProxyServer::start() {
    if (!options_.tlsCertificate.empty()) {
        server_ = std::make_unique<httplib::SSLServer>(options_.tlsCertificate.c_str(), options_.tlsPrivateKey.c_str());
        if (!server_->is_valid())
            throw UserError(fmt::format("cannot load the TLS certificate `{}` and key `{}`", options_.tlsCertificate,
                                        options_.tlsPrivateKey));
    } else {
        server_ = std::make_unique<httplib::Server>();
    }
    int threads = options_.httpThreads;
    server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server_->set_payload_max_length(options_.maxBodyBytes);
    // cpp-httplib writes a response's headers and body separately: with Nagle's algorithm the body waits for the
    // client's delayed ACK, ~40 ms per request (measured by tools/bench/proxy_throughput.sh: 90 ms per single record).
    server_->set_tcp_nodelay(true);
    server_->set_read_timeout(30, 0);
    // Connections are kept for up to 1000 requests (cpp-httplib's default of 5 makes busy clients reconnect all the
    // time; see the listen backlog below).
    server_->set_keep_alive_max_count(1000);
    // The listening socket: SO_REUSEADDR only (cpp-httplib's default SO_REUSEPORT would let a second proxy bind the
    // same port and silently take half of the connections), and its descriptor kept to raise the backlog.
    int listeningSocket = -1;
    server_->set_socket_options([&listeningSocket](int socket) {
        int yes = 1;
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listeningSocket = socket;
    });
    routes();
    if (options_.port == 0) {
        port_ = server_->bind_to_any_port(options_.host);
        if (port_ <= 0)
            throw UserError(fmt::format("cannot listen on {}: no free port", options_.host),
                            UserError::kEnvironmentRefused);
    } else {
        if (!server_->bind_to_port(options_.host, options_.port))
            throw UserError(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                                        options_.host, options_.port),
                            UserError::kEnvironmentRefused);
        port_ = options_.port;
    }
    // cpp-httplib 0.11 (as Debian builds it) listens with a backlog of 5: a burst of new connections overflows it and
    // the kernel drops SYNs, which clients retry after 1, 3, 7… s (seen as 35 s stalls by the benchmark). Listening
    // again on the bound socket raises the backlog (Linux; capped by net.core.somaxconn).
    if (listeningSocket >= 0) ::listen(listeningSocket, 1024);
    listener_ = std::thread([this] { server_->listen_after_bind(); });
    warmer_ = std::thread([this] { warmUp(); });
}

void ProxyServer::stop() {
    if (stopping_.exchange(true)) return;
    if (server_) server_->stop();
    if (listener_.joinable()) listener_.join();
    if (warmer_.joinable()) warmer_.join();
}

std::string ProxyServer::notReadyReason() const {
    for (const auto &[name, producer] : producers_)
        if (producer->clusterDown())
            return fmt::format("{}the Kafka cluster `{}` ({}) is unreachable",
                               warmed_.load() ? "" : "warming up: ", name, producer->bootstrapServers());
    std::lock_guard lock(readinessMutex_);
    return warmed_.load() ? "" : warmUpState_;
}

void ProxyServer::warmUp() {
    // Ready means: every cluster answered with the metadata of the topics the proxy serves, and a record was
    // produced to the canary topic and acknowledged, so the first client request does not pay for either.
    while (!stopping_.load()) {
        std::string problem;
        for (const auto &[name, producer] : producers_) {
            std::vector<std::string> topics = directory_.topicsOf(name);
            if (!producer->fetchMetadata(topics, 5000, problem)) break;
        }
        if (problem.empty() && !options_.canaryTopic.empty()) {
            ClusterProducer &producer = *producers_.at(directory_.defaultCluster());
            runtime::EventEnvelope envelope;
            envelope.createdAtMs = nowMillis();
            envelope.source = "pipec-proxy";
            EncodedRecord canary;
            canary.topic = options_.canaryTopic;
            canary.value = "pipec proxy readiness canary";
            canary.headers = runtime::encodeEnvelope(envelope);
            auto batch = std::make_shared<DeliveryBatch>(1);
            std::string error;
            if (producer.produce(canary, batch, 0, error) != EnqueueOutcome::Queued) {
                problem = fmt::format("canary record to `{}`: {}", options_.canaryTopic, error);
            } else if (!batch->wait(std::chrono::milliseconds(options_.deliveryTimeoutMs + 5000))) {
                problem = fmt::format("canary record to `{}`: no acknowledgment", options_.canaryTopic);
            } else if (!batch->report(0).delivered) {
                problem = fmt::format("canary record to `{}`: {}", options_.canaryTopic, batch->report(0).error);
            }
        }
        {
            std::lock_guard lock(readinessMutex_);
            if (problem.empty()) {
                warmUpState_.clear();
                warmed_ = true;
                std::cerr << fmt::format("pipec proxy: ready (metadata fetched{})\n",
                                         options_.canaryTopic.empty()
                                             ? ""
                                             : ", canary record acknowledged on `" + options_.canaryTopic + "`");
                return;
            }
            warmUpState_ = "warming up: " + problem;
        }
        for (int i = 0; i < 10 && !stopping_.load(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::string ProxyServer::gauges() const {
    std::string text = "# HELP pipec_proxy_queue_depth Records queued or in flight to Kafka, per cluster.\n"
                       "# TYPE pipec_proxy_queue_depth gauge\n";
    for (const auto &[name, producer] : producers_)
        text += fmt::format("pipec_proxy_queue_depth{{cluster=\"{}\"}} {}\n", name, producer->queueDepth());
    text += "# HELP pipec_proxy_cluster_up Whether the cluster is reachable (1) or every broker is down (0).\n"
            "# TYPE pipec_proxy_cluster_up gauge\n";
    for (const auto &[name, producer] : producers_)
        text += fmt::format("pipec_proxy_cluster_up{{cluster=\"{}\"}} {}\n", name, producer->clusterDown() ? 0 : 1);
    text += fmt::format(
        "# HELP pipec_proxy_ready Whether /readyz answers 200.\n# TYPE pipec_proxy_ready gauge\npipec_proxy_ready {}\n",
        notReadyReason().empty() ? 1 : 0);
    return text;
}

void ProxyServer::routes() {
    httplib::Server &server = *server_;
    server.set_pre_routing_handler([](const httplib::Request &, httplib::Response &) {
        accessLog = AccessLogContext{std::chrono::steady_clock::now(), "", 0, 0};
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // Errors httplib answers itself (no route, a body over the limit, a malformed request) get Confluent's shape too.
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request &request,
                                                                     httplib::Response &response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = response.status == 413 ? "Request body too large"
                              : response.status == 404
                                  ? fmt::format("HTTP 404 Not Found: no route for {} {}", request.method, request.path)
                                  : fmt::format("HTTP {}", response.status);
        response.set_content(jsonText(Json{{"error_code", response.status}, {"message", message}}), kV3ContentType);
        return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request &, httplib::Response &response, std::exception_ptr error) {
        std::string what = "unknown";
        try {
            std::rethrow_exception(error);
        } catch (const std::exception &exception) {
            what = exception.what();
        } catch (...) {
        }
        std::cerr << "pipec proxy: internal error while answering a request: " << what << "\n";
        response.status = 500;
        response.set_content(jsonText(Json{{"error_code", 500}, {"message", "internal error"}}), kV3ContentType);
    });
    if (options_.accessLog) {
        server.set_logger([](const httplib::Request &request, const httplib::Response &response) {
            double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - accessLog.start).count();
            if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics") return;
            Json line{{"time", runtime::formatTimestamp(nowMillis())},
                      {"remote", request.remote_addr},
                      {"method", request.method},
                      {"path", request.path},
                      {"status", response.status},
                      {"client", accessLog.client},
                      {"records", accessLog.records},
                      {"refused", accessLog.refused},
                      {"ms", std::round(ms * 100) / 100}};
            std::cerr << jsonText(line) + "\n";
        });
    }

    // Authenticates, runs the handler, and counts the request by route and status.
    auto answer = [this](Exchange &exchange, const std::function<void(Exchange &)> &handler) {
        exchange.authentication = keys_.authenticate(exchange.request.get_header_value("Authorization"));
        accessLog.client = exchange.authentication.outcome == Authentication::Outcome::Authenticated ||
                                   exchange.authentication.outcome == Authentication::Outcome::Anonymous
                               ? exchange.authentication.clientName()
                               : "";
        if (exchange.authentication.outcome == Authentication::Outcome::Missing ||
            exchange.authentication.outcome == Authentication::Outcome::Invalid) {
            metrics_.countRefused("unauthorized");
            exchange.response.set_header("WWW-Authenticate", "Bearer realm=\"pipec-proxy\"");
            exchange.fail(401, 401, exchange.authentication.reason);
        } else {
            handler(exchange);
        }
        exchange.drainBody();
        metrics_.countRequest(exchange.route, exchange.response.status);
    };
    auto counted = [answer](std::string route, bool v2, std::function<void(Exchange &)> handler) {
        return [answer, route, v2, handler](const httplib::Request &request, httplib::Response &response) {
            Exchange exchange{request, response, route, v2, {}, nullptr, false};
            answer(exchange, handler);
        };
    };
    // Produce requests get their body through a reader: read in full when it has a length, parsed and produced while
    // it arrives when it is chunked (v3 streaming), and bounded by --max-body-bytes either way.
    auto countedWithBody = [answer](std::string route, bool v2, std::function<void(Exchange &)> handler) {
        return [answer, route, v2, handler](const httplib::Request &request, httplib::Response &response,
                                            const httplib::ContentReader &reader) {
            Exchange exchange{request, response, route, v2, {}, &reader, false};
            answer(exchange, handler);
        };
    };

    server.Post(R"(/v3/clusters/([^/]+)/topics/([^/]+)/records)",
                countedWithBody("v3_records", false, [this](Exchange &exchange) {
                    handleProduce(exchange, exchange.request.matches[1], exchange.request.matches[2], false);
                }));
    server.Post(R"(/topics/([^/]+))", countedWithBody("v2_records", true, [this](Exchange &exchange) {
                    handleProduce(exchange, "", exchange.request.matches[1], true);
                }));
    server.Get(R"(/v3/clusters)",
               counted("v3_clusters", false, [this](Exchange &exchange) { handleClusters(exchange, "", true); }));
    server.Get(R"(/v3/clusters/([^/]+))", counted("v3_clusters", false, [this](Exchange &exchange) {
                   handleClusters(exchange, exchange.request.matches[1], false);
               }));
    server.Get(R"(/v3/clusters/([^/]+)/topics)", counted("v3_topics", false, [this](Exchange &exchange) {
                   handleTopics(exchange, exchange.request.matches[1], "");
               }));
    server.Get(R"(/v3/clusters/([^/]+)/topics/([^/]+))", counted("v3_topics", false, [this](Exchange &exchange) {
                   handleTopics(exchange, exchange.request.matches[1], exchange.request.matches[2]);
               }));
    server.Get(R"(/topics)", counted("v2_topics", true, [this](Exchange &exchange) {
                   Json names = Json::array();
                   for (const auto &[topic, type] : directory_.topics())
                       if (exchange.authentication.key == nullptr ||
                           ApiKeyStore::allows(*exchange.authentication.key, topic))
                           names.push_back(topic);
                   exchange.send(200, names);
               }));
    server.Get("/healthz", [](const httplib::Request &, httplib::Response &response) {
        response.set_content("ok\n", "text/plain");
    });
    server.Get("/readyz", [this](const httplib::Request &, httplib::Response &response) {
        std::string reason = notReadyReason();
        response.status = reason.empty() ? 200 : 503;
        response.set_content(reason.empty() ? "ready\n" : "not ready: " + reason + "\n", "text/plain");
    });
    server.Get("/metrics", [this](const httplib::Request &, httplib::Response &response) {
        response.set_content(metrics_.prometheusText([this] { return gauges(); }), "text/plain; version=0.0.4");
    });
}

void ProxyServer::handleClusters(Exchange &exchange, const std::string &clusterId, bool list) {
    std::string base = fmt::format("{}://{}", options_.tlsCertificate.empty() ? "http" : "https",
                                   exchange.request.get_header_value("Host"));
    auto describe = [&](const ClusterEndpoint &cluster) {
        std::string self = fmt::format("{}/v3/clusters/{}", base, cluster.name);
        return Json{{"kind", "KafkaCluster"},
                    {"metadata", {{"self", self}, {"resource_name", fmt::format("crn:///kafka={}", cluster.name)}}},
                    {"cluster_id", cluster.name},
                    {"topics", {{"related", self + "/topics"}}}};
    };
    if (!list) {
        const ClusterEndpoint *cluster = directory_.cluster(clusterId);
        if (cluster == nullptr) return exchange.fail(404, 404, fmt::format("Cluster {} not found.", clusterId));
        return exchange.send(200, describe(*cluster));
    }
    Json data = Json::array();
    for (const auto &cluster : directory_.clusters())
        data.push_back(describe(cluster));
    exchange.send(200, Json{{"kind", "KafkaClusterList"},
                            {"metadata", {{"self", base + "/v3/clusters"}, {"next", nullptr}}},
                            {"data", data}});
}

void ProxyServer::handleTopics(Exchange &exchange, const std::string &clusterId, const std::string &topicName) {
    const ClusterEndpoint *cluster = directory_.cluster(clusterId);
    if (cluster == nullptr) return exchange.fail(404, 404, fmt::format("Cluster {} not found.", clusterId));
    std::string base = fmt::format("{}://{}/v3/clusters/{}/topics", options_.tlsCertificate.empty() ? "http" : "https",
                                   exchange.request.get_header_value("Host"), clusterId);
    const ClusterProducer &producer = *producers_.at(clusterId);
    auto describe = [&](const std::string &topic) {
        auto [partitions, replication] = producer.topicShape(topic);
        std::string self = base + "/" + topic;
        return Json{{"kind", "KafkaTopic"},
                    {"metadata",
                     {{"self", self}, {"resource_name", fmt::format("crn:///kafka={}/topic={}", clusterId, topic)}}},
                    {"cluster_id", clusterId},
                    {"topic_name", topic},
                    {"is_internal", false},
                    {"replication_factor", replication},
                    {"partitions_count", partitions},
                    {"partitions", {{"related", self + "/partitions"}}},
                    {"configs", {{"related", self + "/configs"}}},
                    {"partition_reassignments", {{"related", self + "/partitions/-/reassignment"}}}};
    };
    auto visible = [&](const std::string &topic) {
        return exchange.authentication.key == nullptr || ApiKeyStore::allows(*exchange.authentication.key, topic);
    };
    if (!topicName.empty()) {
        const TopicType *type = directory_.find(topicName);
        if (type == nullptr || type->cluster != clusterId || !visible(topicName))
            return exchange.fail(404, 404, "This server does not host this topic-partition.");
        return exchange.send(200, describe(topicName));
    }
    Json data = Json::array();
    for (const auto &topic : directory_.topicsOf(clusterId))
        if (visible(topic)) data.push_back(describe(topic));
    exchange.send(200,
                  Json{{"kind", "KafkaTopicList"}, {"metadata", {{"self", base}, {"next", nullptr}}}, {"data", data}});
}

void ProxyServer::handleProduce(Exchange &exchange, const std::string &clusterPath, const std::string &topic, bool v2) {
    const httplib::Request &request = exchange.request;
    int64_t receivedMs = nowMillis();
    auto started = std::chrono::steady_clock::now();
    const TopicType *type = directory_.find(topic);

    // Where the record goes: the cluster in the path (v3), else the topic's (v2), else the default one.
    std::string clusterId = !clusterPath.empty() ? clusterPath
                            : type != nullptr    ? type->cluster
                                                 : directory_.defaultCluster();
    if (directory_.cluster(clusterId) == nullptr) {
        metrics_.countRefused("unknown_topic");
        return exchange.fail(404, 404, fmt::format("Cluster {} not found.", clusterId));
    }
    if ((type != nullptr && type->cluster != clusterId) || (type == nullptr && !options_.allowUntypedTopics)) {
        metrics_.countRefused("unknown_topic");
        std::string why =
            type != nullptr
                ? fmt::format("topic `{}` is on cluster `{}`", topic, type->cluster)
                : fmt::format("no spec reads topic `{}` (untyped topics need --allow-untyped-topics)", topic);
        return v2 ? exchange.fail(404, 40401, "Topic not found: " + why)
                  : exchange.fail(404, 404, "This server does not host this topic-partition: " + why);
    }
    if (exchange.authentication.key != nullptr && !ApiKeyStore::allows(*exchange.authentication.key, topic)) {
        metrics_.countRefused("forbidden");
        return exchange.fail(
            403, 403,
            fmt::format("API key `{}` may not produce to topic `{}`", exchange.authentication.key->name, topic));
    }

    // The body's format.
    std::string contentType = request.get_header_value("Content-Type");
    std::optional<DataType> embedded;
    if (v2) {
        embedded = v2EmbeddedFormat(contentType);
        if (!embedded) {
            metrics_.countRefused("unsupported_media_type");
            return exchange.fail(415, 415,
                                 fmt::format("unsupported content type `{}` (application/vnd.kafka.json.v2+json or "
                                             "application/vnd.kafka.binary.v2+json)",
                                             contentType));
        }
    } else if (!isJsonContentType(contentType)) {
        metrics_.countRefused("unsupported_media_type");
        return exchange.fail(415, 415, fmt::format("unsupported content type `{}` (application/json)", contentType));
    }
    // A v3 body without a length (chunked) is Confluent's streaming mode: its records are checked and produced as
    // they arrive, so a long stream needs memory for one record at a time, not for the body.
    bool streamed = !v2 && exchange.reader != nullptr && !request.has_header("Content-Length");

    bool async =
        request.has_param("async") ? request.get_param_value("async") == "true" : options_.asyncTopics.count(topic) > 0;
    RecordContext context{exchange.authentication.clientName(), receivedMs,
                          request.get_header_value("Event-Created-At")};
    ClusterProducer &producer = *producers_.at(clusterId);
    double rate = exchange.authentication.key != nullptr && exchange.authentication.key->recordsPerSecond > 0
                      ? exchange.authentication.key->recordsPerSecond
                      : options_.recordsPerSecond;
    auto outcome = std::make_shared<ProduceOutcome>();
    outcome->clusterId = clusterId;
    outcome->topic = topic;
    if (!async) outcome->batch = std::make_shared<DeliveryBatch>();
    bool anyQueued = false;
    int retryAfterSeconds = 1;

    // Checks, encodes and queues one record; its verdict joins the outcome in request order.
    auto produceRecord = [&](const ParsedRecord &parsed) {
        RecordVerdict &verdict = outcome->verdicts.emplace_back();
        size_t index = outcome->verdicts.size() - 1;
        if (outcome->batch) outcome->batch->add();
        auto refuse = [&](const ProduceError &error) {
            outcome->refuse(verdict, error.httpStatus, error.message,
                            error.reason.empty() ? reasonFor(error.httpStatus) : error.reason);
        };
        if (!parsed.record) return refuse(parsed.error);
        auto encoded = encodeRecord(*parsed.record, topic, type, context);
        if (auto *error = std::get_if<ProduceError>(&encoded)) return refuse(*error);
        const EncodedRecord &record = std::get<EncodedRecord>(encoded);
        verdict.hasKey = record.key.has_value();
        verdict.keySize = static_cast<uint32_t>(record.key ? record.key->size() : 0);
        verdict.keyType = record.keyType;
        verdict.hasValue = record.value.has_value();
        verdict.valueSize = static_cast<uint32_t>(record.value ? record.value->size() : 0);
        verdict.valueType = record.valueType;
        verdict.partition = record.partition.value_or(-1);
        if (streamed) {
            // A stream can outrun the cluster: rather than queue the whole stream in the producer (memory) or refuse
            // records with 429, stop reading until the producer's queue is back under its mark (TCP slows the client).
            auto waitUntil = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.deliveryTimeoutMs);
            while (producer.queueDepth() > kStreamQueueMark && !producer.clusterDown() &&
                   std::chrono::steady_clock::now() < waitUntil)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::string error;
        switch (producer.produce(record, outcome->batch, index, error)) {
        case EnqueueOutcome::Queued:
            verdict.status = async ? 202 : 200;
            anyQueued = true;
            break;
        case EnqueueOutcome::QueueFull:
            refuse(ProduceError{429, 429, "the producer's queue is full: " + error});
            break;
        case EnqueueOutcome::ClusterUnavailable:
            refuse(ProduceError{503, 503, error});
            break;
        case EnqueueOutcome::Refused:
            refuse(ProduceError{500, 500, "Kafka refused the record: " + error});
            break;
        }
    };

    bool streamingAnswer = false;
    if (!streamed) {
        // The whole body first (a length, or v2's single JSON document), at most --max-body-bytes.
        std::string text;
        bool tooLarge = false;
        size_t discarded = 0;
        bool complete = exchange.reader == nullptr || exchange.readBody([&](const char *data, size_t size) {
            if (!tooLarge && text.size() + size <= options_.maxBodyBytes) {
                text.append(data, size);
                return true;
            }
            // Past the limit: read on and discard (up to a bound) to keep the connection usable.
            tooLarge = true;
            text.clear();
            return (discarded += size) <= StreamedBody::kDrainBytes;
        });
        const std::string &bodyText = exchange.reader == nullptr ? request.body : text;
        if (tooLarge || (!complete && exchange.response.status == 413)) {
            metrics_.countRefused("too_large");
            return exchange.fail(413, 413,
                                 fmt::format("the request body is larger than {} bytes", options_.maxBodyBytes));
        }
        if (!complete) {
            metrics_.countRefused("malformed");
            return exchange.fail(400, 400, "the request body could not be read to its end");
        }
        ParsedBody body = v2 ? parseV2Body(bodyText, *embedded, options_.maxRecordsPerRequest)
                             : parseV3Body(bodyText, options_.maxRecordsPerRequest);
        if (body.error) {
            metrics_.countRefused(body.error->reason.empty() ? reasonFor(body.error->httpStatus) : body.error->reason);
            return exchange.fail(body.error->httpStatus, body.error->errorCode, body.error->message);
        }
        size_t count = body.records.size();
        accessLog.records = count;
        // The client's rate: the whole request, up front.
        if (auto wait = rateLimiter_.take(exchange.authentication.clientName(), rate, count, monotonicSeconds())) {
            metrics_.countRefused("rate_limited", count);
            accessLog.refused = count;
            exchange.response.set_header("Retry-After", std::to_string(*wait));
            return exchange.fail(429, 429,
                                 fmt::format("rate limit of {} records/s exceeded; retry after {} s", rate, *wait));
        }
        for (const auto &record : body.records)
            produceRecord(record);
        streamingAnswer = body.streaming;
    } else {
        // Records as they arrive: a thread reads the socket into `stream`, this one parses and produces.
        StreamedBody stream(options_.maxBodyBytes);
        std::thread socketReader([&] {
            bool complete = exchange.readBody([&](const char *data, size_t size) { return stream.push(data, size); });
            stream.finish(complete);
        });
        struct JoinReader {
            std::thread &thread;
            StreamedBody &stream;
            ~JoinReader() {
                stream.stopParsing();
                thread.join();
            }
        } joinReader{socketReader, stream};
        std::istream input(&stream);
        V3RecordReader records(input, options_.maxRecordsPerRequest);
        std::optional<ProduceError> rest; // why the rest of the body was not read
        for (;;) {
            ParsedRecord parsed;
            V3RecordReader::Step step = records.next(parsed);
            if (step == V3RecordReader::Step::End) break;
            if (step == V3RecordReader::Step::TooMany) {
                rest =
                    ProduceError{413, 413,
                                 fmt::format("more than {} records in one request: the rest of the body was not read",
                                             options_.maxRecordsPerRequest)};
                break;
            }
            if (step == V3RecordReader::Step::Malformed) {
                rest = parsed.error;
                break;
            }
            // The client's rate: record by record, as they come.
            if (auto wait = rateLimiter_.take(exchange.authentication.clientName(), rate, 1, monotonicSeconds())) {
                RecordVerdict &verdict = outcome->verdicts.emplace_back();
                if (outcome->batch) outcome->batch->add();
                outcome->refuse(verdict, 429, fmt::format("rate limit of {} records/s exceeded", rate), "rate_limited");
                retryAfterSeconds = std::max(retryAfterSeconds, *wait);
                continue;
            }
            produceRecord(parsed);
        }
        stream.stopParsing();
        if (stream.exceeded())
            rest = ProduceError{413, 413,
                                fmt::format("the request body is larger than {} bytes: the rest of it was not read",
                                            options_.maxBodyBytes)};
        else if (stream.failed())
            rest =
                ProduceError{400, 400, "the request body ended early (closed connection, bad chunk or read timeout)"};
        if (rest) {
            RecordVerdict &verdict = outcome->verdicts.emplace_back();
            if (outcome->batch) outcome->batch->add();
            outcome->refuse(verdict, rest->httpStatus, rest->message,
                            rest->reason.empty() ? reasonFor(rest->httpStatus) : rest->reason);
        } else if (outcome->verdicts.empty()) {
            metrics_.countRefused("malformed");
            return exchange.fail(400, 400, "the request body holds no record");
        }
        accessLog.records = outcome->verdicts.size();
        streamingAnswer = outcome->verdicts.size() > 1;
    }

    size_t count = outcome->verdicts.size();
    if (outcome->batch && anyQueued) {
        bool complete = outcome->batch->wait(std::chrono::milliseconds(options_.deliveryTimeoutMs + 5000));
        for (size_t i = 0; i < count; ++i) {
            RecordVerdict &verdict = outcome->verdicts[i];
            if (verdict.status != 200) continue;
            DeliveryReport report = outcome->batch->report(i);
            if (!complete && report.partition < 0 && report.error.empty()) {
                outcome->refuse(verdict, 504, "no acknowledgment from Kafka in time: the record may still be delivered",
                                "delivery_timeout");
            } else if (!report.delivered) {
                outcome->refuse(verdict, report.retriable ? 503 : 500,
                                "Kafka did not acknowledge the record: " + report.error,
                                report.retriable ? "cluster_unavailable" : "delivery_failed");
            }
        }
        metrics_.observeProduceLatency(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }

    // The answer: one record → the HTTP status is its verdict; several → 200 and a verdict per record.
    for (const auto &verdict : outcome->verdicts) {
        if (verdict.status == 200 || verdict.status == 202) {
            metrics_.countAccepted(topic);
        } else {
            metrics_.countRefused(outcome->reason(verdict));
            ++accessLog.refused;
        }
    }
    if (outcome->retryLater) exchange.response.set_header("Retry-After", std::to_string(retryAfterSeconds));
    const RecordVerdict &first = outcome->verdicts.front();
    if (!v2) {
        if (!streamingAnswer) {
            if (first.status != 200 && first.status != 202)
                return exchange.fail(first.status, first.status, outcome->message(first));
            return exchange.send(first.status, v3RecordJson(*outcome, 0));
        }
        exchange.response.status = 200;
        if (!streamed) {
            // Streaming mode: concatenated JSON, one object per line, in request order.
            std::string text;
            for (size_t i = 0; i < count; ++i)
                text += jsonText(v3RecordJson(*outcome, i)) + "\n";
            exchange.response.set_content(text, kV3ContentType);
            return;
        }
        // A streamed request's answer is written as it is rendered (chunked), a thousand records at a time: the
        // verdicts are all that is kept of a long stream.
        auto written = std::make_shared<size_t>(0);
        exchange.response.set_chunked_content_provider(
            kV3ContentType, [outcome, written](size_t, httplib::DataSink &sink) {
                std::string text;
                size_t end = std::min(outcome->verdicts.size(), *written + 1000);
                for (; *written < end; ++*written)
                    text += jsonText(v3RecordJson(*outcome, *written)) + "\n";
                if (!text.empty() && !sink.write(text.data(), text.size())) return false;
                if (*written == outcome->verdicts.size()) sink.done();
                return true;
            });
        return;
    }
    if (count == 1 && first.status != 200 && first.status != 202)
        return exchange.fail(first.status, first.status, outcome->message(first));
    Json offsets = Json::array();
    bool allAsync = true;
    for (size_t i = 0; i < count; ++i) {
        const RecordVerdict &verdict = outcome->verdicts[i];
        if (verdict.status == 200) {
            allAsync = false;
            DeliveryReport report = outcome->batch->report(i);
            offsets.push_back(Json{{"partition", report.partition},
                                   {"offset", report.offset},
                                   {"error_code", nullptr},
                                   {"error", nullptr}});
        } else if (verdict.status == 202) {
            offsets.push_back(Json{{"partition", verdict.partition >= 0 ? Json(verdict.partition) : Json()},
                                   {"offset", nullptr},
                                   {"error_code", nullptr},
                                   {"error", nullptr}});
        } else {
            allAsync = false;
            // Confluent's v2 convention: 1 for a non-retriable error, 2 for a retriable one; the text says why.
            bool retriable = verdict.status == 429 || verdict.status == 503 || verdict.status == 504;
            offsets.push_back(Json{{"partition", nullptr},
                                   {"offset", nullptr},
                                   {"error_code", retriable ? 2 : 1},
                                   {"error", outcome->message(verdict)}});
        }
    }
    exchange.send(allAsync ? 202 : 200,
                  Json{{"key_schema_id", nullptr}, {"value_schema_id", nullptr}, {"offsets", offsets}});
}

} // namespace pipec::proxy
