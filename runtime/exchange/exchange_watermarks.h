#pragma once

#include "runtime/exchange/exchange_codec.h"
#include "runtime/state/state_buffer.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace pipec::runtime {

/// Stage 1's side of watermarks across the exchange: the event time of each source partition this member reads,
/// turned into the markers it writes to every repartition partition. A partition's watermark is the maximum event
/// time read from it less the source's watermark delay (as without an exchange); a partition that delivered nothing
/// for `idleTimeoutMs` of the idle clock is marked idle, so it does not hold stage 2 back (Flink's IDLE watermark
/// status, decided where the data is).
class SourcePartitionClock {
public:
    SourcePartitionClock(int64_t watermarkDelayMs, int64_t idleTimeoutMs) : delayMs_(watermarkDelayMs), idleTimeoutMs_(idleTimeoutMs) {}

    void assign(int32_t partition, int64_t nowMs);
    void revoke(int32_t partition);
    /// A record of `partition` with event time `timeMs`, read at `nowMs` of the idle clock.
    void observe(int32_t partition, int64_t timeMs, int64_t nowMs);
    /// Every record of `partition` was read (a bounded run): its markers say so from now on.
    void end(int32_t partition);
    /// The marker entry for `partition` as of `nowMs`.
    ExchangeCodec::MarkerEntry entry(int32_t partition, int64_t nowMs) const;
    /// The marker for every partition read, as of `nowMs`; `partitions`: the source topic's partition count.
    ExchangeCodec::Marker marker(int32_t partitions, int64_t nowMs) const;
    std::vector<int32_t> partitions() const;

private:
    struct State {
        std::optional<int64_t> maxEventTime;
        int64_t lastActivityMs = 0;
        bool ended = false;
    };
    int64_t delayMs_;
    int64_t idleTimeoutMs_;
    std::map<int32_t, State> states_;
};

/// Stage 2's side, one per stage-2 task (repartition partition): what the markers of every source partition said,
/// and which source offsets were applied. The task's watermark is the minimum over the source partitions that are
/// neither idle nor ended; it is unknown until a marker arrived from every source partition (their count travels in
/// the markers), and while an active one has had no event. When every one is idle, the maximum of their watermarks
/// is used (as for partitions without an exchange); when every one ended, +inf. It never goes back.
///
/// Rows carry their source partition and offset: a stage-1 task that restarts from its last commit produces again
/// what its predecessor produced after that commit, and `admitRow` refuses those rows (each stage-1 producer writes
/// a partition's rows in offset order, so "not above the highest applied offset" means "already applied").
class UpstreamWatermarks {
public:
    void observe(const ExchangeCodec::Marker& marker);
    /// False for a row at or below the highest offset already applied from its source partition.
    bool admitRow(int32_t partition, int64_t offset);
    std::optional<int64_t> watermark();

    /// For metrics: each source partition's watermark as last heard (nullopt: none yet).
    std::vector<std::optional<int64_t>> upstreamWatermarks() const;
    int32_t sourcePartitions() const { return expected_; }

    void write(StateWriter& writer) const;
    /// Throws std::runtime_error on corrupt input.
    void read(StateReader& reader);

private:
    struct Upstream {
        bool heard = false;
        std::optional<int64_t> watermark;  // the highest heard
        bool idle = false;
        bool end = false;
        int64_t appliedOffset = -1;
    };
    Upstream& upstream(int32_t partition);
    int32_t expected_ = 0;
    std::vector<Upstream> upstream_;
    std::optional<int64_t> lastReturned_;
};

} // namespace pipec::runtime
