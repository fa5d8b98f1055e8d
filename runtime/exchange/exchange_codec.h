#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// The records of a repartition topic `<group>-<job>-repartition` (see docs/exchange.md). Two kinds, both starting
/// with a kind byte and the plan's row-format tag (the first 4 bytes of `Exchange.row_format`), so that a row of
/// another plan is refused rather than misread:
///
/// - a row: the source partition and offset it came from (stage 2 drops what it already applied, so a replay of
///   stage 1 after a crash is not counted twice), its event time, and the carried columns: a null bitmap, then each
///   non-NULL value (integers and times as zigzag varints, FLOAT as 4 bytes, DOUBLE as 8, text as a varint length and
///   bytes). Its Kafka key is the encoded GROUP BY key, and its partition a hash of that key.
/// - a watermark marker, written by every stage-1 member to every repartition partition: the source's partition count,
///   and for each source partition the member reads, its watermark, idleness and end.
class ExchangeCodec {
public:
    static constexpr uint8_t kRow = 1;
    static constexpr uint8_t kMarker = 2;

    explicit ExchangeCodec(const plan::Pipeline& pipeline);

    /// The source-row width stage 2 rebuilds (the plan's source columns, `_time` included).
    size_t sourceWidth() const { return sourceWidth_; }
    const std::vector<int>& columns() const { return columns_; }
    uint32_t formatTag() const { return formatTag_; }

    /// Appends the row record for a source row (row[0] = `_time`) read at source `partition`@`offset`.
    void encodeRow(const Row& row, int32_t partition, int64_t offset, std::string& out) const;

    /// What a stage-1 member says about one source partition it reads.
    struct MarkerEntry {
        int32_t partition = 0;             // the source partition
        std::optional<int64_t> watermark;  // nullopt: the partition has had no event yet
        bool idle = false;                 // no record for the idle timeout: not holding stage 2 back
        bool end = false;                  // a bounded run drained the partition: nothing more comes from it
    };
    /// One marker record: the source topic's partition count and an entry per source partition of the writer, so
    /// that a member sends one record per repartition partition and interval, however many partitions it reads.
    struct Marker {
        int32_t partitions = 0;
        std::vector<MarkerEntry> entries;
    };
    static void encodeMarker(const Marker& marker, uint32_t formatTag, std::string& out);

    enum class Kind { Row, Marker, WrongFormat, Corrupt };
    /// What a record is (Corrupt also for an unknown kind byte), checking its format tag.
    Kind kind(std::string_view record) const;
    /// Decodes a row record into `row` (resized to sourceWidth(); columns not carried are NULL); false when corrupt.
    bool decodeRow(std::string_view record, Row& row, int32_t& partition, int64_t& offset) const;
    static bool decodeMarker(std::string_view record, Marker& marker);

    /// Which of `partitions` repartition partitions a GROUP BY key (its encoded bytes) goes to: FNV-1a 64 of the
    /// bytes, modulo the count. Stable across processes and versions (the placement is part of the topic's format).
    static int32_t partitionOf(std::string_view keyBytes, int32_t partitions);

private:
    size_t sourceWidth_ = 0;
    std::vector<int> columns_;
    std::vector<plan::TypeId> types_;
    uint32_t formatTag_ = 0;
};

/// The 4-byte tag of a row format fingerprint (hex): its first 8 hex digits, 0 when empty or not hex.
uint32_t rowFormatTag(std::string_view rowFormatHex);

} // namespace pipec::runtime
