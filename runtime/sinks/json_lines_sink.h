#pragma once

#include "runtime/core/row_sink.h"

#include <ostream>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// One JSON object per row, keys = the output column names in order. TIMESTAMP values are ISO-8601 UTC strings
/// with milliseconds, doubles use the shortest text that reads back to the same number (NaN/Infinity → null),
/// BYTES are base64.
class JsonLinesSink : public RowSink {
public:
    explicit JsonLinesSink(std::ostream& out) : out_(out) {}
    void open(const std::vector<plan::OutputColumn>& columns) override;
    void write(const Row& row) override;
    void flush() override;

private:
    std::ostream& out_;
    std::vector<plan::OutputColumn> columns_;
    std::vector<std::string> keys_;
    std::string line_;
};

/// `2026-01-01T00:00:20.000Z`, correct for times before 1970.
std::string formatTimestamp(int64_t millis);
/// One row as a JSON object (keys = column names), as JsonLinesSink writes it, without a newline.
std::string formatJsonRow(const Row& row, const std::vector<plan::OutputColumn>& columns);
/// A value as JSON text.
void appendJsonValue(std::string& out, const Value& value, plan::TypeId type);
/// Appends `text` as a JSON string literal, quotes included, escaped as every JSON line this sink writes.
void appendJsonString(std::string& out, std::string_view text);

} // namespace pipec::runtime
