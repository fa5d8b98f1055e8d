#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <string>
#include <vector>

namespace pipec::runtime {

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
    virtual void writeWindowed(const Row& row, int64_t windowEndMs) {
        (void)windowEndMs;
        write(row);
    }
    virtual void flush() = 0;
};

} // namespace pipec::runtime
