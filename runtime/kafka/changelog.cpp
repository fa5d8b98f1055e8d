#include "runtime/kafka/changelog.h"

#include "runtime/core/hash.h"
#include "runtime/sources/kafka_properties.h"
#include "runtime/kafka/topic_admin.h"

#include "runtime/core/user_error.h"
#include "runtime/operators/operator_chain.h"
#include "runtime/state/state_buffer.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace pipec::runtime {

namespace {

std::string toHex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        text.push_back(kDigits[c >> 4]);
        text.push_back(kDigits[c & 15]);
    }
    return text;
}

std::optional<std::string> fromHex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string bytes;
    bytes.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        int high = digit(text[i]);
        int low = digit(text[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        bytes.push_back(static_cast<char>(high * 16 + low));
    }
    return bytes;
}

template <typename Integer>
std::optional<Integer> parseInteger(std::string_view text, int base = 10) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::string copy(text);
    char* end = nullptr;
    errno = 0;
    if constexpr (std::is_signed_v<Integer>) {
        long long value = std::strtoll(copy.c_str(), &end, base);
        if (errno != 0 || end != copy.c_str() + copy.size()) return std::nullopt;
        return static_cast<Integer>(value);
    } else {
        if (copy[0] == '-') return std::nullopt;
        unsigned long long value = std::strtoull(copy.c_str(), &end, base);
        if (errno != 0 || end != copy.c_str() + copy.size()) return std::nullopt;
        return static_cast<Integer>(value);
    }
}

void appendU64(std::string& out, uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void appendU32(std::string& out, uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
uint32_t readU32(std::string_view bytes, size_t at) {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)])) << (8 * i);
    return value;
}
uint64_t readU64(std::string_view bytes, size_t at) {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)])) << (8 * i);
    return value;
}

constexpr char kFormatVersion = static_cast<char>(kChangelogFormat);

} // namespace

std::string stateFingerprint(const plan::Pipeline& pipeline) {
    // Columns are named by their source field (column numbers change with the fields a query reads).
    std::function<void(const plan::Expr&, std::string&)> describe = [&](const plan::Expr& expression, std::string& text) {
        text += std::to_string(expression.type()) + ":";
        switch (expression.kind_case()) {
        case plan::Expr::kColumn: {
            int column = expression.column();
            text += column >= 0 && column < pipeline.source().columns_size() ? "col(" + pipeline.source().columns(column).name() + ")"
                                                                              : "col#" + std::to_string(column);
            break;
        }
        case plan::Expr::kLiteral: text += "lit(" + expression.literal().ShortDebugString() + ")"; break;
        case plan::Expr::kCall:
            text += expression.call().function() + "(";
            for (const auto& argument : expression.call().args()) {
                describe(argument, text);
                text += ",";
            }
            text += ")";
            break;
        default: break;
        }
    };
    std::string text = "v1|" + pipeline.source().message_type() + "|" + pipeline.source().topic() + "|";
    const auto& window = pipeline.window();
    const bool windowed = pipeline.has_window() && window.kind() != plan::WINDOW_NONE;
    text += fmt::format("filters={}|", pipeline.filters_size() > 0);
    if (windowed) {
        text += fmt::format("window={}:{}:{}:{}|having={}|", static_cast<int>(window.kind()), window.size_ms(), window.slide_ms(),
                            window.gap_ms(), window.has_having());
        for (const auto& key : window.group_keys()) {
            text += "key=";
            describe(key, text);
            text += "|";
        }
        for (const auto& aggregate : window.aggregates()) {
            text += fmt::format("agg={}:{}:{}:", static_cast<int>(aggregate.function()), aggregate.distinct(),
                                static_cast<int>(aggregate.result_type()));
            if (aggregate.has_argument()) describe(aggregate.argument(), text);
            // Written only when present, so the fingerprints of plans without them stay what they were.
            if (aggregate.has_filter()) {
                text += ":filter=";
                describe(aggregate.filter(), text);
            }
            for (const auto& parameter : aggregate.parameters()) text += ":param=" + parameter.ShortDebugString();
            text += "|";
        }
    }
    return fmt::format("{:016x}", fnv1a64(text));
}

// Key: format (1 byte), partition (4), writer (8), slot (1), entry. Value: format (1), sequence (8), state.
std::string encodeChangelogKey(const ChangelogKey& key) {
    std::string bytes;
    bytes.reserve(14 + key.entry.size());
    bytes.push_back(kFormatVersion);
    appendU32(bytes, static_cast<uint32_t>(key.partition));
    appendU64(bytes, key.writer);
    bytes.push_back(static_cast<char>(key.slot));
    bytes += key.entry;
    return bytes;
}

std::optional<ChangelogKey> decodeChangelogKey(std::string_view bytes) {
    if (bytes.size() < 14 || bytes[0] != kFormatVersion) return std::nullopt;
    ChangelogKey key;
    uint32_t partition = readU32(bytes, 1);
    if (partition > INT32_MAX) return std::nullopt;
    key.partition = static_cast<int32_t>(partition);
    key.writer = readU64(bytes, 5);
    key.slot = static_cast<uint8_t>(bytes[13]);
    if (key.slot > 1) return std::nullopt;
    key.entry.assign(bytes.substr(14));
    return key;
}

std::string encodeChangelogValue(const ChangelogValue& value) {
    std::string bytes;
    bytes.reserve(9 + value.state.size());
    bytes.push_back(kFormatVersion);
    appendU64(bytes, value.sequence);
    bytes += value.state;
    return bytes;
}

std::optional<ChangelogValue> decodeChangelogValue(std::string_view bytes) {
    if (bytes.size() < 9 || bytes[0] != kFormatVersion) return std::nullopt;
    ChangelogValue value;
    value.sequence = readU64(bytes, 1);
    value.state.assign(bytes.substr(9));
    return value;
}

namespace {
constexpr std::string_view kMarkTag = "pipec-checkpoint=1";
} // namespace

std::string formatCheckpointMark(const CheckpointMark& mark) {
    std::string text = fmt::format("{};v={};w={:016x};n={};f={};e={};t={};m={}", kMarkTag, mark.format, mark.writer, mark.sequence,
                                   mark.fingerprint, mark.entries, mark.maxEventTime ? std::to_string(*mark.maxEventTime) : std::string("-"),
                                   toHex(mark.meta));
    if (!mark.input.empty()) text += ";x=" + toHex(mark.input);
    return text;
}

std::optional<CheckpointMark> parseCheckpointMark(std::string_view metadata) {
    if (metadata.substr(0, kMarkTag.size()) != kMarkTag) return std::nullopt;
    metadata.remove_prefix(kMarkTag.size());
    CheckpointMark mark;
    mark.format = 1;  // the first format's marks had no `v`
    std::set<std::string> seen;
    while (!metadata.empty()) {
        if (metadata[0] != ';') return std::nullopt;
        metadata.remove_prefix(1);
        size_t end = metadata.find(';');
        std::string_view field = metadata.substr(0, end);
        metadata.remove_prefix(end == std::string_view::npos ? metadata.size() : end);
        size_t equals = field.find('=');
        if (equals == std::string_view::npos) return std::nullopt;
        std::string name(field.substr(0, equals));
        std::string_view value = field.substr(equals + 1);
        seen.insert(name);
        if (name == "v") {
            auto format = parseInteger<uint32_t>(value);
            if (!format) return std::nullopt;
            mark.format = *format;
        } else if (name == "w") {
            auto writer = parseInteger<uint64_t>(value, 16);
            if (!writer || value.size() != 16) return std::nullopt;
            mark.writer = *writer;
        } else if (name == "n") {
            auto sequence = parseInteger<uint64_t>(value);
            if (!sequence) return std::nullopt;
            mark.sequence = *sequence;
        } else if (name == "f") {
            mark.fingerprint.assign(value);
        } else if (name == "e") {
            auto entries = parseInteger<uint64_t>(value);
            if (!entries) return std::nullopt;
            mark.entries = *entries;
        } else if (name == "t") {
            if (value != "-") {
                auto time = parseInteger<int64_t>(value);
                if (!time) return std::nullopt;
                mark.maxEventTime = *time;
            }
        } else if (name == "m") {
            auto meta = fromHex(value);
            if (!meta) return std::nullopt;
            mark.meta = std::move(*meta);
        } else if (name == "x") {
            auto input = fromHex(value);
            if (!input) return std::nullopt;
            mark.input = std::move(*input);
        }  // unknown fields: written by a newer pipec, ignored
    }
    for (const char* required : {"w", "n", "f", "e", "t", "m"})
        if (!seen.count(required)) return std::nullopt;
    return mark;
}

struct Changelog::Handle {
    rd_kafka_t* producer = nullptr;
    std::mutex mutex;
    uint64_t failed = 0;
    std::string lastError;
    ~Handle() {
        if (producer != nullptr) rd_kafka_destroy(producer);
    }
};

namespace {
void onChangelogDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto* handle = static_cast<Changelog::Handle*>(opaque);
    std::lock_guard lock(handle->mutex);
    ++handle->failed;
    handle->lastError = rd_kafka_err2str(message->err);
}

rd_kafka_conf_t* clientConf(const std::string& brokers, const std::map<std::string, std::string>& properties,
                            const std::map<std::string, std::string>& defaults) {
    return makeKafkaConf(brokers, defaults, properties);
}
} // namespace

Changelog::Changelog(Options options) : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
    // Every record must be stored before its checkpoint is committed: acknowledged by all in-sync replicas, and
    // written once per send even when retried.
    rd_kafka_conf_t* conf = clientConf(options_.brokers, options_.properties,
                                       {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "5"}, {"log_level", "4"}});
    rd_kafka_conf_set_dr_msg_cb(conf, onChangelogDelivery);
    rd_kafka_conf_set_opaque(conf, handle_.get());
    char error[512];
    handle_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle_->producer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot create the changelog producer: ") + error);
    }
}

Changelog::~Changelog() = default;

void Changelog::ensureTopic(int partitions, const std::function<int(const std::string&)>& countPartitions) {
    ensureInternalTopic(handle_->producer,
                        InternalTopic{options_.topic, partitions, {{"cleanup.policy", "compact"}}, "changelog topic",
                                      "state moves with the source partition, so they must match; delete it or use another group"},
                        countPartitions);
}

void Changelog::produce(int32_t partition, const std::string& key, const std::optional<std::string>& value) {
    void* valueBytes = value ? const_cast<char*>(value->data()) : nullptr;  // null: a tombstone
    size_t valueSize = value ? value->size() : 0;
    for (;;) {
        rd_kafka_resp_err_t error = rd_kafka_producev(
            handle_->producer, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
            RD_KAFKA_V_VALUE(valueBytes, valueSize), RD_KAFKA_V_END);
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            throw UserError(fmt::format("cannot write to changelog topic `{}`: {}", options_.topic, rd_kafka_err2str(error)), UserError::kEnvironmentRefused);
        rd_kafka_poll(handle_->producer, 100);
    }
    ++recordsWritten_;
    bytesWritten_ += key.size() + (value ? value->size() : 0);
}

void Changelog::flush() {
    rd_kafka_resp_err_t error = rd_kafka_flush(handle_->producer, options_.timeoutMs);
    std::lock_guard lock(handle_->mutex);
    if (handle_->failed > 0)
        throw UserError(fmt::format("changelog topic `{}` refused {} record(s): {}", options_.topic, handle_->failed, handle_->lastError), UserError::kEnvironmentRefused);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError(fmt::format("changelog records still unacknowledged after {} ms ({})", options_.timeoutMs, rd_kafka_err2str(error)), UserError::kEnvironmentRefused);
}

std::map<int32_t, ChangelogContents> Changelog::read(const std::vector<int32_t>& partitions) {
    std::map<int32_t, ChangelogContents> contents;
    if (partitions.empty()) return contents;
    rd_kafka_conf_t* conf = clientConf(options_.brokers, options_.properties,
                                       {{"group.id", "pipec-changelog-restore"}, {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "true"},
                                        {"fetch.max.bytes", "6291456"}, {"log_level", "4"}});
    char error[512];
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (consumer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot create the changelog reader: ") + error);
    }
    struct Destroy {
        rd_kafka_t* consumer;
        ~Destroy() {
            rd_kafka_consumer_close(consumer);
            rd_kafka_destroy(consumer);
        }
    } destroy{consumer};
    std::map<int32_t, int64_t> ends;  // partition → its high watermark when reading started
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (int32_t partition : partitions) {
        contents[partition];
        int64_t low = 0;
        int64_t high = 0;
        rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(consumer, options_.topic.c_str(), partition, &low, &high, options_.timeoutMs);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_topic_partition_list_destroy(assignment);
            throw UserError(fmt::format("cannot read changelog `{}` partition {}: {}", options_.topic, partition, rd_kafka_err2str(code)), UserError::kEnvironmentRefused);
        }
        if (high <= low) continue;
        ends[partition] = high;
        rd_kafka_topic_partition_list_add(assignment, options_.topic.c_str(), partition)->offset = low;
    }
    if (ends.empty()) {
        rd_kafka_topic_partition_list_destroy(assignment);
        return contents;
    }
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeoutMs) * 4;
    while (!ends.empty()) {
        if (std::chrono::steady_clock::now() > deadline)
            throw UserError(fmt::format("reading changelog `{}` timed out with {} partition(s) not read to their end", options_.topic, ends.size()), UserError::kEnvironmentRefused);
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 200);
        if (message == nullptr) continue;
        int32_t partition = message->partition;
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (ends.count(partition) && message->offset >= ends[partition]) ends.erase(partition);
            rd_kafka_message_destroy(message);
            continue;
        }
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::string reason = rd_kafka_message_errstr(message);
            rd_kafka_message_destroy(message);
            throw UserError(fmt::format("cannot read changelog `{}`: {}", options_.topic, reason), UserError::kEnvironmentRefused);
        }
        std::string key(static_cast<const char*>(message->key), message->key_len);
        auto& records = contents[partition];
        if (message->payload == nullptr) {
            records.erase(key);  // a tombstone
        } else if (auto value = decodeChangelogValue({static_cast<const char*>(message->payload), message->len})) {
            records[key] = std::move(*value);
        } else {
            // Not ours, or from a newer pipec: keep nothing of it (restore checks the entry count).
            records.erase(key);
        }
        if (ends.count(partition) && message->offset + 1 >= ends[partition]) ends.erase(partition);
        rd_kafka_message_destroy(message);
    }
    return contents;
}

TaskCheckpointer::TaskCheckpointer(int32_t partition, std::string fingerprint, uint64_t writer)
    : partition_(partition), fingerprint_(std::move(fingerprint)), writer_(writer) {}

std::string TaskCheckpointer::recordKey(uint64_t writer, uint8_t slot, std::string_view entry) const {
    std::string bytes;
    bytes.reserve(14 + entry.size());
    bytes.push_back(kFormatVersion);
    appendU32(bytes, static_cast<uint32_t>(partition_));
    appendU64(bytes, writer);
    bytes.push_back(static_cast<char>(slot));
    bytes += entry;
    return bytes;
}

void TaskCheckpointer::addForeignRecord(std::string_view key) {
    appendU32(foreignRecords_, static_cast<uint32_t>(key.size()));
    foreignRecords_ += key;
}

void TaskCheckpointer::reserveForeignRecords(const ChangelogContents& contents) {
    size_t bytes = foreignRecords_.size();
    for (const auto& [key, value] : contents) bytes += 4 + key.size();
    foreignRecords_.reserve(bytes);  // exactly: it is kept until the first commit, beside the state
}

void TaskCheckpointer::adopt(const ChangelogContents& contents) {
    reserveForeignRecords(contents);
    for (const auto& [key, value] : contents) {
        auto decoded = decodeChangelogKey(key);
        if (decoded && decoded->partition == partition_) addForeignRecord(key);
    }
}

void TaskCheckpointer::restore(const ChangelogContents& contents, const CheckpointMark& mark, OperatorChain& chain) {
    if (mark.format != kChangelogFormat)
        throw UserError(fmt::format(
            "the checkpoint of partition {} is in changelog format {}, written by another pipec version; this one reads format "
            "{}: start the job with a new --group, or delete the group's offsets and changelog topic to start over",
            partition_, mark.format, kChangelogFormat), UserError::kEnvironmentRefused);
    if (mark.fingerprint != fingerprint_)
        throw UserError(fmt::format(
            "the checkpoint of partition {} was written by a plan whose state is incompatible with this one (the window, GROUP BY "
            "keys, aggregates or source changed; `pipec compile --against` calls this a fresh start): start the job with a new "
            "--group, or delete the group's offsets and changelog topic to start over",
            partition_), UserError::kEnvironmentRefused);
    StateReader meta(mark.meta);
    chain.readMeta(meta);
    if (!meta.atEnd()) throw std::runtime_error("corrupt checkpoint: operator meta");
    // For each entry of the committed writer: its newest version at or before the committed checkpoint.
    std::map<std::string_view, const ChangelogValue*> chosen;  // entry → value (entries in order: see SlicedWindow::entryKey)
    reserveForeignRecords(contents);
    for (const auto& [key, value] : contents) {
        if (key.size() < 14 || key[0] != kFormatVersion || readU32(key, 1) != static_cast<uint32_t>(partition_)) continue;
        addForeignRecord(key);  // everything read is rewritten under this writer, or removed
        if (readU64(key, 5) != mark.writer || static_cast<unsigned char>(key[13]) > 1) continue;
        if (value.sequence > mark.sequence) continue;  // written by a checkpoint that was never committed
        const ChangelogValue*& best = chosen[std::string_view(key).substr(14)];
        if (best == nullptr || value.sequence > best->sequence) best = &value;
    }
    // Entries that expired (their windows fired) after they were written are dropped by the operators and not counted.
    uint64_t live = 0;
    for (const auto& [entry, value] : chosen)
        if (chain.restoreKey(entry, value->state)) ++live;
    if (live != mark.entries)
        throw UserError(fmt::format("the changelog of partition {} holds {} of the {} state entries its committed checkpoint "
                                    "has (records lost: retention, or a topic that is not compacted but truncated); "
                                    "refusing to continue from incomplete state",
                                    partition_, live, mark.entries), UserError::kEnvironmentRefused);
    chain.restoreFinished();
}

void TaskCheckpointer::put(std::string_view entryKey, std::string_view state) {
    auto found = entries_.find(entryKey);
    if (found == entries_.end()) found = entries_.emplace(std::string(entryKey), Entry{}).first;
    Entry& entry = found->second;
    // Never the slot of the committed version: a checkpoint that is not committed must leave that one intact.
    const uint8_t slot = entry.committedSlot == 0 ? 1 : 0;
    std::string value;
    value.reserve(9 + state.size());
    value.push_back(kFormatVersion);
    appendU64(value, sequence_);
    value += state;
    output_->produce(partition_, recordKey(writer_, slot, entryKey), value);
    if (entry.pendingSlot < 0) pendingEntries_.push_back(&entry);
    if (entry.committedSlot < 0 && entry.pendingSlot < 0) ++live_;  // new
    else if (entry.expired) ++live_;                                 // back after its state expired (sessions)
    entry.pendingSlot = static_cast<int8_t>(slot);
    entry.expired = false;
    entry.slotsUsed |= static_cast<uint8_t>(1 << slot);
}

void TaskCheckpointer::expire(std::string_view entryKey) {
    auto found = entries_.find(entryKey);
    if (found == entries_.end() || found->second.expired) return;  // never written by this writer
    found->second.expired = true;
    --live_;
    expiredKeys_.push_back(found->first);
}

namespace {
class CheckpointerSink : public KeyedStateSink {
public:
    explicit CheckpointerSink(TaskCheckpointer& checkpointer) : checkpointer_(checkpointer) {}
    void put(std::string_view key, std::string_view state) override { checkpointer_.put(key, state); }
    void expire(std::string_view key) override { checkpointer_.expire(key); }

private:
    TaskCheckpointer& checkpointer_;
};
} // namespace

std::string TaskCheckpointer::write(OperatorChain& chain, ChangelogOutput& changelog, std::optional<int64_t> maxEventTime,
                                    std::string_view input) {
    ++sequence_;
    writtenSinceCommit_ = true;
    output_ = &changelog;
    CheckpointerSink sink(*this);
    chain.writeKeyedState(sink, sequence_ == 1);
    output_ = nullptr;
    // Cleanup, only once this writer's own state is committed: what older writers left, and the records of entries
    // whose expiry was committed (unless written again since: a session key with rows again).
    if (everCommitted_) {
        std::string key;
        for (size_t at = 0; at < foreignRecords_.size();) {
            const uint32_t length = readU32(foreignRecords_, at);
            key.assign(foreignRecords_, at + 4, length);
            changelog.produce(partition_, key, std::nullopt);
            at += 4 + length;
        }
        std::string().swap(foreignRecords_);  // a restore's whole partition: its memory goes too
        for (const auto& entryKey : removable_) {
            auto found = entries_.find(entryKey);
            // (An entry with a pending version is in pendingEntries_, which points at it: it stays.)
            if (found == entries_.end() || !found->second.expired || found->second.pendingSlot >= 0) continue;
            for (uint8_t slot = 0; slot < 2; ++slot)
                if (found->second.slotsUsed & (1 << slot)) changelog.produce(partition_, recordKey(writer_, slot, entryKey), std::nullopt);
            entries_.erase(found);
        }
        removable_.clear();
    }
    CheckpointMark mark;
    mark.writer = writer_;
    mark.sequence = sequence_;
    mark.fingerprint = fingerprint_;
    mark.entries = live_;
    mark.maxEventTime = maxEventTime;
    mark.input.assign(input);
    StateWriter meta;
    chain.writeMeta(meta);
    mark.meta = meta.bytes();
    return formatCheckpointMark(mark);
}

void TaskCheckpointer::committed() {
    if (!writtenSinceCommit_) return;
    writtenSinceCommit_ = false;
    everCommitted_ = true;
    for (Entry* entry : pendingEntries_) {
        entry->committedSlot = entry->pendingSlot;
        entry->pendingSlot = -1;
    }
    pendingEntries_.clear();
    for (const auto& key : expiredKeys_) {
        auto found = entries_.find(key);
        if (found != entries_.end() && found->second.expired) removable_.push_back(key);
    }
    expiredKeys_.clear();
}

} // namespace pipec::runtime
