#pragma once

#include "runtime/core/row_sink.h"

#include <ostream>
#include <string>
#include <vector>

namespace pipec::runtime {

/// A readable, aligned text table for local runs on a terminal: the header once, then rows as they are emitted.
class TableSink : public RowSink {
public:
    explicit TableSink(std::ostream& out) : out_(out) {}
    void open(const std::vector<plan::OutputColumn>& columns) override;
    void write(const Row& row) override;
    void flush() override { out_.flush(); }

private:
    std::string cell(const Value& value, plan::TypeId type) const;
    std::ostream& out_;
    std::vector<plan::OutputColumn> columns_;
    std::vector<size_t> widths_;
};

} // namespace pipec::runtime
