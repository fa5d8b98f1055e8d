#pragma once

#include "runtime/core/value.h"
#include "runtime/sources/envelope.h"  // extractEnvelopeTime, for callers reading `_time` like the replay

#include <pipec/plan.pb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pipec::runtime {

struct ReplayOptions {
    std::string inputPath;
    /// "json" (JSON lines in the Protobuf JSON mapping), "binary" (varint-length-delimited Protobuf), or "" to
    /// choose by extension (.bin/.pb/.ldpb → binary, else JSON lines).
    std::string format;
    std::string deadLetterPath;  // rejected records are copied here (JSON: the line; binary: length-delimited)
    std::function<void(const std::string&)> log;  // one message per rejected record
    /// Event times more than this ahead of the records around them are rejected as in the future (ReplayTimeGuard);
    /// <= 0: not checked.
    int64_t maxFutureSkewMs = 3'600'000;
};

struct ReplayStats {
    uint64_t records = 0;
    uint64_t decoded = 0;
    uint64_t malformed = 0;
    uint64_t missingTime = 0;
    uint64_t timeInFuture = 0; // rejected by the ReplayTimeGuard (not counted as decoded)
    uint64_t emptyValues = 0;  // zero-length binary records (a blank JSON line is layout, not a record: skipped)
};

/// Reads a file of events, decodes each with the source's schema and hands the rows to `onRow`, in file order.
/// A JSON line may carry the envelope creation time as a top-level `"_time"` (epoch millis, or an ISO-8601 string);
/// it is removed before the payload is parsed. Bad records are counted, logged with their line/record number and
/// copied to the dead-letter file; they never stop the replay. A record whose event time is a spike far ahead of the
/// records around it is rejected the same way (see ReplayTimeGuard), so `onRow` receives rows up to eight records
/// after they were read. Throws UserError when the input cannot be read or the dead-letter file not written.
ReplayStats replayFile(const plan::Source& source, const ReplayOptions& options, const std::function<void(Row&)>& onRow);

} // namespace pipec::runtime
