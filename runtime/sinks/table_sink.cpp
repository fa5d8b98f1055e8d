#include "runtime/sinks/table_sink.h"

#include "runtime/sinks/json_lines_sink.h"

#include <fmt/format.h>

namespace pipec::runtime {

std::string TableSink::cell(const Value& value, plan::TypeId type) const {
    if (value.isNull) return "NULL";
    switch (type) {
    case plan::BOOLEAN: return value.i ? "true" : "false";
    case plan::FLOAT:
    case plan::DOUBLE: return fmt::format("{}", value.d);
    case plan::VARCHAR:
    case plan::BYTES: return value.s;
    case plan::TIMESTAMP: return formatTimestamp(value.i);
    default: return std::to_string(value.i);
    }
}

void TableSink::open(const std::vector<plan::OutputColumn>& columns) {
    columns_ = columns;
    widths_.clear();
    std::string header, rule;
    for (const auto& column : columns) {
        // Timestamps are 24 characters; leave numbers room to grow without re-aligning later rows.
        size_t width = std::max<size_t>(column.name().size(), column.type() == plan::TIMESTAMP ? 24 : 12);
        widths_.push_back(width);
        header += fmt::format("{:<{}}  ", column.name(), width);
        rule += std::string(width, '-') + "  ";
    }
    out_ << header << "\n" << rule << "\n";
}

void TableSink::write(const Row& row) {
    std::string line;
    for (size_t i = 0; i < columns_.size() && i < row.size(); ++i) {
        std::string text = cell(row[i], columns_[i].type());
        bool number = columns_[i].type() != plan::VARCHAR && columns_[i].type() != plan::TIMESTAMP && columns_[i].type() != plan::BYTES;
        line += number ? fmt::format("{:>{}}  ", text, widths_[i]) : fmt::format("{:<{}}  ", text, widths_[i]);
    }
    out_ << line << "\n";
}

} // namespace pipec::runtime
