#include "runtime/sinks/redis_feature_sink.h"

#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace pipec::runtime {
namespace {

/// The write guard, run by Redis for every windowed write so that the check and the write are one atomic step no
/// matter how many writers race on a key.
///   KEYS[1]: the feature key readers see; KEYS[2]: its companion holding the window end of the stored value.
///   ARGV[1]: the window end (decimal epoch millis); ARGV[2]: the TTL in seconds (0: none); ARGV[3]: "1" to delete
///   the key (a NULL value), "0" to set it; ARGV[4]: the value.
/// Returns 1 when written, 0 when refused because the stored value belongs to a later window. A delete also records
/// its window end, so an older window cannot bring back the value it removed. Window ends are compared as decimal
/// strings rather than Lua numbers, which are doubles and inexact beyond 2^53.
constexpr const char* kGuardScript = R"lua(
local function compare(a, b)
  local aNegative, bNegative = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if aNegative ~= bNegative then return aNegative and -1 or 1 end
  local order = 0
  if #a ~= #b then order = #a < #b and -1 or 1 elseif a ~= b then order = a < b and -1 or 1 end
  if aNegative then order = -order end
  return order
end
local stored = redis.call('GET', KEYS[2])
if stored and compare(stored, ARGV[1]) > 0 then return 0 end
local expires = tonumber(ARGV[2]) > 0
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
elseif expires then
  redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[4])
end
if expires then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
)lua";

int64_t steadyMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

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

RedisFeatureSink::RedisFeatureSink(RedisFeatureSinkOptions options)
    : options_(std::move(options)), formatter_(options_.keyFormat, options_.keySeparator, options_.features) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << "redis sink: " << line << "\n"; };
    if (options_.batchSize == 0) options_.batchSize = 1;
}

RedisFeatureSink::~RedisFeatureSink() = default;

void RedisFeatureSink::open(const std::vector<plan::OutputColumn>& columns) { formatter_.open(columns); }

void RedisFeatureSink::write(const Row& row) { buffer(row, std::nullopt); }

void RedisFeatureSink::writeWindowed(const Row& row, int64_t windowEndMs) { buffer(row, windowEndMs); }

void RedisFeatureSink::buffer(const Row& row, std::optional<int64_t> windowEndMs) {
    formatter_.format(row, [&](size_t, const RedisFeatureWrite& next) {
        // A later value of a key not yet sent replaces the earlier one: Redis would end with it anyway (the last
        // write wins and SET/DEL are idempotent), and a window that fires per slide for every key would otherwise
        // send every intermediate value.
        // An older window than the buffered one is dropped instead: the guard in Redis would refuse it after the
        // newer one anyway, and sending only the older would let it land where the newer never arrives.
        auto [it, inserted] = pendingIndex_.try_emplace(*next.key, pending_.size());
        if (inserted) {
            pending_.push_back(PendingWrite{*next.key, {}, false, 0, std::nullopt, false});
        } else {
            stats_.coalesced++;
            const PendingWrite& buffered = pending_[it->second];
            if (windowEndMs && buffered.windowEndMs && !RedisFeatureFormatter::windowMayReplace(buffered.windowEndMs, *windowEndMs)) return;
        }
        PendingWrite& write = pending_[it->second];
        if (write.windowEndMs) --pendingWindowed_;
        if (windowEndMs) ++pendingWindowed_;
        write.windowEndMs = windowEndMs;
        write.remove = next.remove;
        write.ttlSeconds = next.ttlSeconds;
        write.value = *next.value;
    });
    if (pending_.size() >= options_.batchSize) sendPending();
}

void RedisFeatureSink::flush() { sendPending(); }

void RedisFeatureSink::health(std::vector<SinkHealth>& out) const {
    SinkHealth health;
    health.name = options_.name;
    health.retries = stats_.retries.load();
    std::lock_guard lock(healthMutex_);
    if (deliveryStartMs_ != 0) {
        int64_t waited = std::max<int64_t>(0, steadyMillis() - deliveryStartMs_);
        if (deliveryFailed_ || waited >= kBlockedAfterMs) health.blockedMs = waited;
    }
    // A stalled server can take the whole command timeout to fail an attempt; a sink blocked that long is down too.
    health.up = up_ && health.blockedMs == 0;
    health.blockedTotalMs = blockedTotalMs_ + health.blockedMs;
    out.push_back(std::move(health));
}

void RedisFeatureSink::disconnect() { connection_.reset(); }

void RedisFeatureSink::connect() {
    // Scripts live in the server, which may have restarted: the guard is loaded again on every new connection.
    scriptSha_.clear();
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

bool RedisFeatureSink::loadScript(std::string& failure) {
    auto* reply = static_cast<redisReply*>(redisCommand(connection_->context, "SCRIPT LOAD %s", kGuardScript));
    if (reply == nullptr) {
        failure = connection_->context->errstr[0] != '\0' ? connection_->context->errstr : "connection lost";
        disconnect();
        return false;
    }
    bool ok = reply->type == REDIS_REPLY_STRING;
    if (ok) scriptSha_.assign(reply->str, reply->len);
    else failure = "SCRIPT LOAD failed: " + (reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                                              : std::string("unexpected reply"));
    freeReplyObject(reply);
    if (ok) stats_.scriptLoads++;
    return ok;
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
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    std::string ttl;
    std::string windowEnd;
    std::string windowEndKey;
    // A server that lost its scripts (SCRIPT FLUSH, a restart behind a proxy) answers NOSCRIPT: the guard is loaded
    // again and the batch re-sent at once. Re-sending is safe: every write is idempotent, guarded ones included.
    for (int attempt = 0;; ++attempt) {
        if (pendingWindowed_ > 0 && scriptSha_.empty() && !loadScript(failure)) return false;
        redisContext* context = connection_->context;
        for (const auto& write : pending_) {
            argv.clear();
            lengths.clear();
            auto push = [&](std::string_view argument) {
                argv.push_back(argument.data());
                lengths.push_back(argument.size());
            };
            ttl = std::to_string(std::max<int64_t>(0, write.ttlSeconds));
            if (write.windowEndMs) {
                windowEnd = std::to_string(*write.windowEndMs);
                windowEndKey = windowEndKeyFor(write.key);
                push("EVALSHA");
                push(scriptSha_);
                push("2");
                push(write.key);
                push(windowEndKey);
                push(windowEnd);
                push(ttl);
                push(write.remove ? "1" : "0");
                push(write.value);
            } else if (write.remove) {
                push("DEL");
                push(write.key);
            } else {
                push("SET");
                push(write.key);
                push(write.value);
                if (write.ttlSeconds > 0) {
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
        bool scriptMissing = false;
        for (size_t i = 0; i < pending_.size(); ++i) {
            pending_[i].refused = false;
            void* raw = nullptr;
            if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
                failure = context->errstr[0] != '\0' ? context->errstr : "connection lost";
                disconnect();
                return false;
            }
            auto* reply = static_cast<redisReply*>(raw);
            if (reply->type == REDIS_REPLY_ERROR) {
                std::string_view text(reply->str, reply->len);
                if (text.substr(0, 8) == "NOSCRIPT") scriptMissing = true;
                else if (firstError.empty()) firstError = text;
            } else if (pending_[i].windowEndMs && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
                pending_[i].refused = true;
            }
            freeReplyObject(reply);
        }
        if (scriptMissing && attempt == 0 && firstError.empty()) {
            scriptSha_.clear();
            continue;
        }
        if (scriptMissing && firstError.empty()) firstError = "NOSCRIPT right after SCRIPT LOAD";
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
}

void RedisFeatureSink::sendPending() {
    if (pending_.empty()) return;
    int64_t backoffMs = options_.initialBackoffMs;
    bool retried = false;
    {
        std::lock_guard lock(healthMutex_);
        deliveryStartMs_ = steadyMillis();
        deliveryFailed_ = false;
    }
    // Ends the delivery for health(): a blocked one adds its time to the total, whether the batch got through or the
    // job gave up.
    auto endDelivery = [&](bool up) {
        std::lock_guard lock(healthMutex_);
        int64_t waited = std::max<int64_t>(0, steadyMillis() - deliveryStartMs_);
        if (deliveryFailed_ || waited >= kBlockedAfterMs) blockedTotalMs_ += waited;
        deliveryStartMs_ = 0;
        up_ = up;
    };
    for (;;) {
        std::string failure;
        if (trySend(failure)) break;
        {
            std::lock_guard lock(healthMutex_);
            up_ = false;
            deliveryFailed_ = true;
        }
        if (options_.cancel != nullptr && options_.cancel->load()) {
            endDelivery(false);
            throw UserError("Redis sink stopped with " + std::to_string(pending_.size()) + " unacknowledged commands: " + failure,
                            UserError::kEnvironmentRefused);
        }
        options_.log(fmt::format("{}; retrying {} commands in {} ms", failure, pending_.size(), backoffMs));
        if (!retried) stats_.retriedBatches++;
        stats_.retries++;
        retried = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(backoffMs));
        backoffMs = std::min(backoffMs * 2, options_.maxBackoffMs);
        if (!connection_) stats_.reconnects++;
    }
    endDelivery(true);
    for (const auto& write : pending_) {
        if (write.refused) stats_.staleRefused++;
        else if (write.remove) stats_.keysDeleted++;
        else stats_.keysSet++;
    }
    stats_.batches++;
    pending_.clear();
    pendingIndex_.clear();
    pendingWindowed_ = 0;
}

} // namespace pipec::runtime
