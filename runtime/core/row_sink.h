#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pipec::runtime {

/// The state of one sink as health checks see it. Sinks that wait for a remote backend (Redis) block the job while it
/// is down (back-pressure); this is how an operator, a dashboard or a readiness probe tells that apart from a job
/// that merely has nothing to read.
struct SinkHealth {
    std::string name;        // the `sink` label: the configured sink's name
    bool up = true;          // false while blocked, or while the last attempt to reach the backend failed
    int64_t blockedMs = 0;   // how long the delivery now in progress has been waiting for the backend (0: not blocked)
    int64_t blockedTotalMs = 0; // all the time deliveries were blocked, the current one included
    uint64_t retries = 0;    // failed delivery attempts that were retried
};

/// Where a pipeline's output rows go (a JSON-lines file, stdout, Redis, Kafka).
/// `write` may buffer; `flush` returns only when every written row is durable in the sink
/// (this is what makes at-least-once offset commits safe).
class RowSink {
public:
    virtual ~RowSink() = default;
    virtual void open(const std::vector<plan::OutputColumn>& columns) = 0;
    virtual void write(const Row& row) = 0;
    /// A windowed result row: `windowEndMs` is the (exclusive) end of the window it describes. Sinks that keep only the
    /// newest value per key use it so an older window never replaces a newer one. Default: write(row).
    virtual void writeWindowed(const Row& row, int64_t /*windowEndMs*/) { write(row); }
    virtual void flush() = 0;
    /// Appends the health of this sink (and of the sinks it forwards to) to `out`. Called from another thread (the
    /// metrics endpoint) while the job writes, so implementations read only thread-safe state. Default: nothing to
    /// report (a sink that writes to a local stream does not wait for anyone).
    virtual void health(std::vector<SinkHealth>& /*out*/) const {}
};

} // namespace pipec::runtime
