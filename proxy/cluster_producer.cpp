#include "proxy/cluster_producer.h"

#include "runtime/core/secret_references.h"
#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <cstdlib>
#include <iostream>

namespace pipec::proxy {

void DeliveryBatch::complete(size_t index, DeliveryReport report) {
    std::lock_guard lock(mutex_);
    slots_[index] = Slot{report.offset, report.timestampMs, report.partition, report.delivered, report.retriable};
    if (!report.delivered) errors_[index] = std::move(report.error);
    if (pending_ > 0 && --pending_ == 0) done_.notify_all();
}

bool DeliveryBatch::wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, timeout, [this] { return pending_ == 0; });
}

DeliveryReport DeliveryBatch::report(size_t index) const {
    std::lock_guard lock(mutex_);
    const Slot &slot = slots_[index];
    DeliveryReport report{slot.delivered, slot.partition, slot.offset, slot.timestampMs, "", slot.retriable};
    if (auto error = errors_.find(index); error != errors_.end()) report.error = error->second;
    return report;
}

/// What travels with each record through librdkafka to its delivery callback.
struct RecordTicket {
    std::shared_ptr<DeliveryBatch> batch; // null in async mode
    size_t index = 0;
    int64_t createTimeMs = 0; // the record's CreateTime, as sent
};

struct ClusterProducer::Handle {
    rd_kafka_t *producer = nullptr;
    ClusterProducer *owner = nullptr;
    ~Handle() {
        if (producer != nullptr) rd_kafka_destroy(producer);
    }
};

namespace {

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *message, void *opaque) {
    auto *handle = static_cast<ClusterProducer::Handle *>(opaque);
    std::unique_ptr<RecordTicket> ticket(static_cast<RecordTicket *>(message->_private));
    DeliveryReport report;
    report.delivered = message->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    report.partition = message->partition;
    report.offset = message->offset;
    rd_kafka_timestamp_type_t kind;
    int64_t timestamp = rd_kafka_message_timestamp(message, &kind);
    // A topic with LogAppendTime reports the broker's time. librdkafka's mock cluster (the embedded broker) answers
    // every produce with a LogAppendTime of 1234 ms, which is no time at all: then, as for CreateTime topics, the
    // record's own timestamp is the answer.
    bool brokerTime = kind == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME && timestamp > 1'000'000'000'000;
    report.timestampMs = brokerTime ? timestamp : ticket ? ticket->createTimeMs : timestamp;
    if (!report.delivered) {
        report.error = rd_kafka_err2str(message->err);
        report.retriable = message->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ||
                           message->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                           message->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                           message->err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
                           message->err == RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    }
    handle->owner->recordReport(report.delivered);
    if (ticket && ticket->batch) ticket->batch->complete(ticket->index, std::move(report));
}

void onError(rd_kafka_t *, int error, const char *reason, void *opaque) {
    auto *handle = static_cast<ClusterProducer::Handle *>(opaque);
    if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) handle->owner->markDown(reason);
}

} // namespace

ClusterProducer::ClusterProducer(const ClusterEndpoint &cluster, const std::string &bootstrapServers,
                                 const Options &options)
    : name_(cluster.name), bootstrap_(bootstrapServers), handle_(std::make_unique<Handle>()) {
    handle_->owner = this;
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    // Idempotence gives acks=all and retries that neither reorder nor duplicate: an acknowledged record is on every
    // in-sync replica, which is what a 200 promises.
    std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrapServers},
                                              {"enable.idempotence", "true"},
                                              {"linger.ms", std::to_string(options.lingerMs)},
                                              {"compression.type", options.compression},
                                              {"message.timeout.ms", std::to_string(options.deliveryTimeoutMs)},
                                              // librdkafka backs off reconnecting up to 10 s by default: after an
                                              // outage the proxy would refuse requests for seconds after the
                                              // brokers are back (seen in run_proxy_outage.sh). One second at most.
                                              {"reconnect.backoff.max.ms", "1000"},
                                              {"log_level", "3"}};
    // Secrets (`${NAME}` in pipec.yaml, e.g. sasl.password) are read from the environment now, never from the config.
    for (const auto &[name, value] : cluster.properties)
        all[name] = runtime::expandReferences(value, fmt::format("cluster `{}` setting `{}`", cluster.name, name),
                                              [](const char *variable) { return std::getenv(variable); });
    for (const auto &[name, value] : options.extra)
        all[name] = value;
    for (const auto &[name, value] : all) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw UserError(fmt::format("cluster `{}`: Kafka property `{}`: {}", cluster.name, name, error));
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
    rd_kafka_conf_set_error_cb(conf, onError);
    rd_kafka_conf_set_opaque(conf, handle_.get());
    handle_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle_->producer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw UserError(fmt::format("cluster `{}`: cannot create the Kafka producer: {}", cluster.name, error));
    }
    poller_ = std::thread([this] { poll(); });
}

ClusterProducer::~ClusterProducer() {
    stopping_ = true;
    if (poller_.joinable()) poller_.join();
    // Remaining delivery callbacks run inside flush/destroy, on this thread.
    rd_kafka_flush(handle_->producer, 10000);
}

void ClusterProducer::recordReport(bool delivered) {
    if (delivered) {
        ++delivered_;
        down_ = false;
    } else {
        ++failed_;
    }
}

void ClusterProducer::markDown(const std::string &reason) {
    if (!down_.exchange(true))
        std::cerr << fmt::format("pipec proxy: cluster `{}` is unreachable: {}\n", name_, reason);
}

void ClusterProducer::poll() {
    auto lastProbe = std::chrono::steady_clock::now();
    while (!stopping_.load()) {
        rd_kafka_poll(handle_->producer, 100);
        // While the cluster is reported down, ask for metadata now and then: an answer means it is back.
        if (down_.load() && std::chrono::steady_clock::now() - lastProbe > std::chrono::seconds(1)) {
            lastProbe = std::chrono::steady_clock::now();
            const rd_kafka_metadata_t *metadata = nullptr;
            if (rd_kafka_metadata(handle_->producer, 0, nullptr, &metadata, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (down_.exchange(false))
                    std::cerr << fmt::format("pipec proxy: cluster `{}` is reachable again\n", name_);
            }
            if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
        }
    }
}

EnqueueOutcome ClusterProducer::produce(const EncodedRecord &record, const std::shared_ptr<DeliveryBatch> &batch,
                                        size_t index, std::string &error) {
    if (down_.load()) {
        error = fmt::format("the Kafka cluster `{}` is unreachable", name_);
        return EnqueueOutcome::ClusterUnavailable;
    }
    rd_kafka_headers_t *headers = rd_kafka_headers_new(record.headers.size());
    for (const auto &[name, value] : record.headers)
        rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                            static_cast<ssize_t>(value.size()));
    auto ticket = std::make_unique<RecordTicket>(RecordTicket{batch, index, 0});
    if (batch) batch->expect();
    // The macros below cast their arguments without parentheses: plain values only.
    void *keyData = record.key ? const_cast<char *>(record.key->data()) : nullptr;
    size_t keySize = record.key ? record.key->size() : 0;
    void *valueData = record.value ? const_cast<char *>(record.value->data()) : nullptr;
    size_t valueSize = record.value ? record.value->size() : 0;
    int32_t partition = record.partition.value_or(RD_KAFKA_PARTITION_UA);
    int64_t createTime =
        record.timestampMs > 0
            ? record.timestampMs
            : std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
    ticket->createTimeMs = createTime;
    rd_kafka_resp_err_t result =
        rd_kafka_producev(handle_->producer, RD_KAFKA_V_TOPIC(record.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(keyData, keySize),
                          RD_KAFKA_V_VALUE(valueData, valueSize), RD_KAFKA_V_HEADERS(headers),
                          RD_KAFKA_V_TIMESTAMP(createTime), RD_KAFKA_V_OPAQUE(ticket.get()), RD_KAFKA_V_END);
    if (result == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ticket.release(); // the delivery callback owns it now
        return EnqueueOutcome::Queued;
    }
    rd_kafka_headers_destroy(headers);
    if (batch) batch->complete(index, DeliveryReport{false, -1, -1, -1, rd_kafka_err2str(result), false});
    error = rd_kafka_err2str(result);
    if (result == RD_KAFKA_RESP_ERR__QUEUE_FULL) return EnqueueOutcome::QueueFull;
    return EnqueueOutcome::Refused;
}

bool ClusterProducer::fetchMetadata(const std::vector<std::string> &topics, int timeoutMs, std::string &error) {
    const rd_kafka_metadata_t *metadata = nullptr;
    rd_kafka_resp_err_t result = rd_kafka_metadata(handle_->producer, 1, nullptr, &metadata, timeoutMs);
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
        error = fmt::format("metadata of cluster `{}` ({}): {}", name_, bootstrap_, rd_kafka_err2str(result));
        return false;
    }
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t *)> owner(metadata,
                                                                                            rd_kafka_metadata_destroy);
    down_ = false;
    std::map<std::string, std::pair<int, int>> shapes;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
        const rd_kafka_metadata_topic_t &topic = metadata->topics[i];
        if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt == 0) continue;
        shapes[topic.topic] = {topic.partition_cnt, topic.partitions[0].replica_cnt};
    }
    {
        std::lock_guard lock(shapesMutex_);
        shapes_ = shapes;
    }
    for (const auto &topic : topics) {
        if (!shapes.count(topic)) {
            error = fmt::format("topic `{}` does not exist on cluster `{}` ({})", topic, name_, bootstrap_);
            return false;
        }
    }
    return true;
}

std::pair<int, int> ClusterProducer::topicShape(const std::string &topic) const {
    std::lock_guard lock(shapesMutex_);
    auto found = shapes_.find(topic);
    return found == shapes_.end() ? std::pair<int, int>{0, 0} : found->second;
}

int ClusterProducer::queueDepth() const {
    return rd_kafka_outq_len(handle_->producer);
}

bool ClusterProducer::flush(int timeoutMs) {
    return rd_kafka_flush(handle_->producer, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

} // namespace pipec::proxy
