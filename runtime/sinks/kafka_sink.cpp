#include "runtime/sinks/kafka_sink.h"

#include "runtime/core/user_error.h"

#include "runtime/sinks/json_lines_sink.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <cmath>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace pipec::runtime {

struct KafkaSink::Handle {
    rd_kafka_t* producer = nullptr;
    std::atomic<uint64_t> delivered{0};
    std::atomic<uint64_t> failed{0};
    std::mutex errorMutex;
    std::string lastError;
    ~Handle() {
        if (producer != nullptr) rd_kafka_destroy(producer);
    }
};

namespace {

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* handle = static_cast<KafkaSink::Handle*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        handle->delivered++;
        return;
    }
    handle->failed++;
    std::lock_guard lock(handle->errorMutex);
    handle->lastError = rd_kafka_err2str(message->err);
}

} // namespace


KafkaSink::KafkaSink(KafkaSinkOptions options) : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::map<std::string, std::string> all = {
        {"bootstrap.servers", options_.brokers}, {"linger.ms", "5"}, {"enable.idempotence", "true"}};
    for (const auto& [name, value] : options_.properties) all[name] = value;
    for (const auto& [name, value] : all) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw UserError("Kafka sink property `" + name + "`: " + error);
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
    rd_kafka_conf_set_opaque(conf, handle_.get());
    handle_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle_->producer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw UserError(std::string("cannot create the Kafka sink producer: ") + error);
    }
}

KafkaSink::~KafkaSink() = default;

void KafkaSink::open(const std::vector<plan::OutputColumn>& columns) { columns_ = columns; }

void KafkaSink::write(const Row& row) {
    std::string value = formatJsonRow(row, columns_);
    std::string key;
    bool first = true;
    for (size_t i = 0; i < columns_.size(); ++i) {
        if (!columns_[i].is_key()) continue;
        if (!first) key += '|';
        first = false;
        key += row[i].isNull ? "null"
               : (columns_[i].type() == plan::VARCHAR || columns_[i].type() == plan::BYTES) ? row[i].s
                                                                                             : std::to_string(row[i].i);
    }
    for (;;) {
        rd_kafka_resp_err_t error = rd_kafka_producev(
            handle_->producer, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
            RD_KAFKA_V_END);
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            throw UserError("Kafka sink cannot produce to `" + options_.topic + "`: " + rd_kafka_err2str(error), UserError::kEnvironmentRefused);
        rd_kafka_poll(handle_->producer, 100); // back-pressure until the local queue drains
    }
    rd_kafka_poll(handle_->producer, 0);
}

void KafkaSink::flush() {
    if (rd_kafka_flush(handle_->producer, options_.flushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError("Kafka sink: rows still undelivered after " + std::to_string(options_.flushTimeoutMs) + " ms", UserError::kEnvironmentRefused);
    if (handle_->failed.load() > 0) {
        std::lock_guard lock(handle_->errorMutex);
        throw UserError("Kafka sink: " + std::to_string(handle_->failed.load()) +
                            " row(s) could not be delivered: " + handle_->lastError, UserError::kEnvironmentRefused);
    }
}

uint64_t KafkaSink::delivered() const { return handle_->delivered.load(); }

} // namespace pipec::runtime
