#include "runtime/sinks/redis_feature_sink.h"

#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace pipec::runtime {

struct RedisFeatureSink::Connection {
    redisContext* context = nullptr;
    ~Connection() {
        if (context != nullptr) redisFree(context);
    }
};

void parseRedisAddress(const std::string& address, RedisFeatureSinkOptions& options) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        options.host = address;
        options.port = 6379;
        return;
    }
    options.host = address.substr(0, colon);
    std::string port = address.substr(colon + 1);
    try {
        size_t used = 0;
        options.port = std::stoi(port, &used);
        if (used != port.size() || options.port <= 0 || options.port > 65535) throw std::invalid_argument(port);
    } catch (const std::exception&) {
        throw UserError("invalid Redis port in address `" + address + "`");
    }
}

std::string formatFeatureValue(const Value& value, plan::TypeId type) {
    if (value.isNull) return "null";
    switch (type) {
    case plan::BOOLEAN: return value.i != 0 ? "true" : "false";
    case plan::FLOAT:
    case plan::DOUBLE: return fmt::format("{}", value.d);
    case plan::VARCHAR:
    case plan::BYTES: return value.s;
    default: return std::to_string(value.i);
    }
}

RedisFeatureSink::RedisFeatureSink(RedisFeatureSinkOptions options) : options_(std::move(options)) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << "redis sink: " << line << "\n"; };
    if (options_.batchSize == 0) options_.batchSize = 1;
}

RedisFeatureSink::~RedisFeatureSink() = default;

void RedisFeatureSink::open(const std::vector<plan::OutputColumn>& columns) {
    columns_ = columns;
    keyColumns_.clear();
    featureColumns_.clear();
    for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i].is_key()) keyColumns_.push_back(static_cast<int>(i));
    for (const auto& feature : options_.features) {
        int found = -1;
        for (size_t i = 0; i < columns.size(); ++i)
            if (columns[i].name() == feature.valueColumn) found = static_cast<int>(i);
        if (found < 0)
            throw std::invalid_argument("feature `" + feature.name + "`: no output column `" + feature.valueColumn +
                                        "`");
        featureColumns_.push_back(found);
    }
}

std::string RedisFeatureSink::keyFor(const std::string& feature, const std::string& entityKey) const {
    std::string key;
    const std::string& format = options_.keyFormat;
    for (size_t i = 0; i < format.size();) {
        if (format.compare(i, 9, "{feature}") == 0) {
            key += feature;
            i += 9;
        } else if (format.compare(i, 5, "{key}") == 0) {
            key += entityKey;
            i += 5;
        } else {
            key += format[i++];
        }
    }
    return key;
}

void RedisFeatureSink::write(const Row& row) {
    std::string entityKey;
    for (size_t k = 0; k < keyColumns_.size(); ++k) {
        if (k > 0) entityKey += options_.keySeparator;
        int column = keyColumns_[k];
        entityKey += formatFeatureValue(row[column], columns_[column].type());
    }
    for (size_t f = 0; f < options_.features.size(); ++f) {
        const RedisFeature& feature = options_.features[f];
        int column = featureColumns_[f];
        keyScratch_ = keyFor(feature.name, entityKey);
        // A later value of a key not yet sent replaces the earlier one: Redis would end with it anyway (the last
        // write wins and SET/DEL are idempotent), and a window that fires per slide for every key would otherwise
        // send every intermediate value.
        auto [it, inserted] = pendingIndex_.try_emplace(keyScratch_, pending_.size());
        if (inserted) {
            pending_.push_back(PendingWrite{keyScratch_, {}, false, 0});
        } else {
            stats_.coalesced++;
        }
        PendingWrite& write = pending_[it->second];
        write.remove = row[column].isNull;
        write.ttlSeconds = feature.ttlSeconds;
        if (write.remove) write.value.clear();
        else write.value = formatFeatureValue(row[column], columns_[column].type());
    }
    if (pending_.size() >= options_.batchSize) sendPending();
}

void RedisFeatureSink::flush() { sendPending(); }

void RedisFeatureSink::disconnect() { connection_.reset(); }

void RedisFeatureSink::connect() {
    connection_ = std::make_unique<Connection>();
    timeval timeout{options_.connectTimeoutMs / 1000, (options_.connectTimeoutMs % 1000) * 1000};
    connection_->context = redisConnectWithTimeout(options_.host.c_str(), options_.port, timeout);
    if (connection_->context == nullptr) throw std::bad_alloc();
    if (connection_->context->err != 0) {
        std::string reason = connection_->context->errstr;
        disconnect();
        throw std::runtime_error(reason);
    }
    timeval commandTimeout{options_.commandTimeoutMs / 1000, (options_.commandTimeoutMs % 1000) * 1000};
    redisSetTimeout(connection_->context, commandTimeout);
    if (!options_.password.empty()) {
        auto* reply = static_cast<redisReply*>(redisCommand(connection_->context, "AUTH %s", options_.password.c_str()));
        bool ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
        std::string reason = reply != nullptr && reply->type == REDIS_REPLY_ERROR ? reply->str : "connection lost";
        if (reply != nullptr) freeReplyObject(reply);
        if (!ok) {
            disconnect();
            // A refused password is a setting to fix, not an outage to wait out: retrying would block forever.
            if (reason.find("WRONGPASS") != std::string::npos || reason.find("invalid password") != std::string::npos ||
                reason.find("without any password configured") != std::string::npos)
                throw UserError(fmt::format("Redis at {}:{} refused the sink's password: {}", options_.host, options_.port,
                                            reason),
                                UserError::kEnvironmentRefused);
            throw std::runtime_error("AUTH failed: " + reason);
        }
    }
}

bool RedisFeatureSink::trySend(std::string& failure) {
    if (!connection_) {
        try {
            connect();
        } catch (const UserError&) {
            throw;  // misconfigured, not unreachable: waiting would not help
        } catch (const std::runtime_error& error) {
            failure = fmt::format("cannot connect to {}:{}: {}", options_.host, options_.port, error.what());
            return false;
        }
    }
    redisContext* context = connection_->context;
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    std::string ttl;
    for (const auto& write : pending_) {
        argv.clear();
        lengths.clear();
        auto push = [&](std::string_view argument) {
            argv.push_back(argument.data());
            lengths.push_back(argument.size());
        };
        if (write.remove) {
            push("DEL");
            push(write.key);
        } else {
            push("SET");
            push(write.key);
            push(write.value);
            if (write.ttlSeconds > 0) {
                ttl = std::to_string(write.ttlSeconds);
                push("EX");
                push(ttl);
            }
        }
        if (redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK) {
            failure = context->errstr;
            disconnect();
            return false;
        }
    }
    // Read every reply even after an error reply, so the connection stays in sync and can be reused.
    std::string firstError;
    for (size_t i = 0; i < pending_.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
            failure = context->errstr[0] != '\0' ? context->errstr : "connection lost";
            disconnect();
            return false;
        }
        auto* reply = static_cast<redisReply*>(raw);
        if (reply->type == REDIS_REPLY_ERROR && firstError.empty()) firstError = std::string(reply->str, reply->len);
        freeReplyObject(reply);
    }
    // A server that wants a password the sink was not given never accepts the batch: no point in retrying.
    if (firstError.rfind("NOAUTH", 0) == 0)
        throw UserError(fmt::format("Redis at {}:{} requires a password: set `password` on the sink ({})", options_.host,
                                    options_.port, firstError),
                        UserError::kEnvironmentRefused);
    if (!firstError.empty()) {
        // Errors such as OOM or LOADING are transient on the server side; retrying the (idempotent) batch is safe.
        failure = "Redis replied with an error: " + firstError;
        return false;
    }
    return true;
}

void RedisFeatureSink::sendPending() {
    if (pending_.empty()) return;
    int64_t backoffMs = options_.initialBackoffMs;
    bool retried = false;
    for (;;) {
        std::string failure;
        if (trySend(failure)) break;
        if (options_.cancel != nullptr && options_.cancel->load())
            throw UserError("Redis sink stopped with " + std::to_string(pending_.size()) +
                                " unacknowledged commands: " + failure,
                            UserError::kEnvironmentRefused);
        options_.log(fmt::format("{}; retrying {} commands in {} ms", failure, pending_.size(), backoffMs));
        if (!retried) stats_.retriedBatches++;
        retried = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(backoffMs));
        backoffMs = std::min(backoffMs * 2, options_.maxBackoffMs);
        if (!connection_) stats_.reconnects++;
    }
    for (const auto& write : pending_) {
        if (write.remove) stats_.keysDeleted++;
        else stats_.keysSet++;
    }
    stats_.batches++;
    pending_.clear();
    pendingIndex_.clear();
}

} // namespace pipec::runtime
