#pragma once

#include "runtime/sources/envelope.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// A Kafka producer for pipec's own writes (the `produce` command, dead-letter records). librdkafka retries
/// transient failures itself; a record whose delivery finally fails is counted in `failed()` and its error kept.
class KafkaProducer {
public:
    /// Throws std::runtime_error when the client cannot be created (bad properties).
    KafkaProducer(const std::string& brokers, const std::map<std::string, std::string>& properties = {});
    ~KafkaProducer();
    KafkaProducer(const KafkaProducer&) = delete;
    KafkaProducer& operator=(const KafkaProducer&) = delete;

    /// Enqueues one record (partition -1: by key hash, or sticky when the key is empty). Blocks while the local
    /// queue is full. Throws std::runtime_error on a non-retriable enqueue error (unknown topic in the local view,
    /// record too large).
    void produce(const std::string& topic, std::string_view key, std::string_view value, const HeaderList& headers,
                 int32_t partition = -1);
    /// Waits until every enqueued record was acknowledged or failed; returns false on timeout.
    bool flush(int timeoutMs);

    uint64_t delivered() const { return delivered_.load(); }
    uint64_t failed() const { return failed_.load(); }
    std::string lastError() const;

    struct Handle;

private:
    std::unique_ptr<Handle> handle_;
    std::atomic<uint64_t> delivered_{0};
    std::atomic<uint64_t> failed_{0};
};

} // namespace pipec::runtime
