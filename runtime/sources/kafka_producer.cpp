#include "runtime/sources/kafka_producer.h"

#include "runtime/sources/kafka_properties.h"
#include "runtime/core/user_error.h"

#include <librdkafka/rdkafka.h>

#include <mutex>
#include <stdexcept>

namespace pipec::runtime {

struct KafkaProducer::Handle {
    rd_kafka_t* producer = nullptr;
    uint32_t sincePoll = 0;  // records enqueued since delivery reports were last served
    std::atomic<uint64_t>* delivered = nullptr;
    std::atomic<uint64_t>* failed = nullptr;
    mutable std::mutex errorMutex;
    std::string lastError;
    ~Handle() {
        if (producer != nullptr) rd_kafka_destroy(producer);
    }
};

namespace {
void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* handle = static_cast<KafkaProducer::Handle*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (*handle->delivered)++;
        return;
    }
    (*handle->failed)++;
    std::lock_guard lock(handle->errorMutex);
    handle->lastError = rd_kafka_err2str(message->err);
}
} // namespace

KafkaProducer::KafkaProducer(const std::string& brokers, const std::map<std::string, std::string>& properties)
    : handle_(std::make_unique<Handle>()) {
    handle_->delivered = &delivered_;
    handle_->failed = &failed_;
    char error[512];
    rd_kafka_conf_t* conf = makeKafkaConf(brokers, {{"linger.ms", "5"}, {"log_level", "4"}}, properties);
    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
    rd_kafka_conf_set_opaque(conf, handle_.get());
    handle_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle_->producer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw UserError(std::string("cannot create the Kafka producer: ") + error);
    }
}

KafkaProducer::~KafkaProducer() {
    if (handle_->producer != nullptr) rd_kafka_flush(handle_->producer, 10000);
}

void KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            const HeaderList& headers, int32_t partition) {
    for (;;) {
        // No header list for a record without headers (the exchange's rows): one allocation less per record.
        rd_kafka_headers_t* rawHeaders = nullptr;
        if (!headers.empty()) {
            rawHeaders = rd_kafka_headers_new(headers.size());
            for (const auto& [name, headerValue] : headers)
                rd_kafka_header_add(rawHeaders, name.data(), static_cast<ssize_t>(name.size()), headerValue.data(),
                                    static_cast<ssize_t>(headerValue.size()));
        }
        // A null header list is no headers (librdkafka reads RD_KAFKA_V_HEADERS(NULL) as none).
        rd_kafka_resp_err_t error = rd_kafka_producev(
            handle_->producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(rawHeaders), RD_KAFKA_V_END);
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break; // the record now owns the headers
        if (rawHeaders != nullptr) rd_kafka_headers_destroy(rawHeaders);
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            throw UserError("cannot produce to `" + topic + "`: " + rd_kafka_err2str(error), UserError::kEnvironmentRefused);
        // Back-pressure: serve delivery reports until the local queue drains.
        rd_kafka_poll(handle_->producer, 100);
        handle_->sincePoll = 0;
    }
    // Delivery reports are served every 256 records (and by flush), not after each one.
    if (++handle_->sincePoll >= 256) {
        rd_kafka_poll(handle_->producer, 0);
        handle_->sincePoll = 0;
    }
}

bool KafkaProducer::flush(int timeoutMs) {
    return rd_kafka_flush(handle_->producer, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::string KafkaProducer::lastError() const {
    std::lock_guard lock(handle_->errorMutex);
    return handle_->lastError;
}

} // namespace pipec::runtime
