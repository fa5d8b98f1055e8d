#include "runtime/operators/window_operator.h"

#include "runtime/operators/session_window.h"
#include "runtime/operators/sliced_window.h"

#include <stdexcept>

namespace pipec::runtime {

int64_t floorDivide(int64_t value, int64_t divisor) {
    int64_t quotient = value / divisor;
    return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

GroupKeyTable::GroupKeyTable(const plan::WindowAggregate& window) {
    for (const auto& key : window.group_keys()) {
        types_.push_back(key.type());
        columns_.push_back(key.kind_case() == plan::Expr::kColumn ? key.column() : -1);
        expressions_.push_back(key.kind_case() == plan::Expr::kColumn ? CompiledExpression() : CompiledExpression::compile(key));
    }
    keyScratch_.resize(types_.size());
}

uint32_t GroupKeyTable::lookup(const Row& row) {
    scratch_.clear();
    for (size_t i = 0; i < types_.size(); ++i) {
        if (columns_[i] >= 0) {
            encodeValue(row[static_cast<size_t>(columns_[i])], types_[i], scratch_);
        } else {
            keyScratch_[i] = expressions_[i].evaluate(row);
            encodeValue(keyScratch_[i], types_[i], scratch_);
        }
    }
    auto it = indexes_.find(scratch_);
    if (it != indexes_.end()) return it->second;
    uint32_t index = static_cast<uint32_t>(values_.size());
    indexes_.emplace(scratch_, index);
    Row values(types_.size());
    for (size_t i = 0; i < types_.size(); ++i) values[i] = columns_[i] >= 0 ? row[static_cast<size_t>(columns_[i])] : keyScratch_[i];
    values_.push_back(std::move(values));
    return index;
}

void GroupKeyTable::write(StateWriter& writer) const {
    writer.writeU64(values_.size());
    for (const auto& values : values_)
        for (const auto& value : values) writer.writeValue(value);
}

void GroupKeyTable::read(StateReader& reader) {
    indexes_.clear();
    values_.clear();
    uint64_t count = reader.readCount(types_.empty() ? 0 : 1);
    if (types_.empty() && count > 1) throw std::runtime_error("corrupt snapshot: keys");
    for (uint64_t k = 0; k < count; ++k) {
        Row values(types_.size());
        scratch_.clear();
        for (size_t i = 0; i < types_.size(); ++i) {
            values[i] = reader.readValue();
            encodeValue(values[i], types_[i], scratch_);
        }
        indexes_.emplace(scratch_, static_cast<uint32_t>(values_.size()));
        values_.push_back(std::move(values));
    }
}

std::unique_ptr<WindowOperator> WindowOperator::create(const plan::WindowAggregate& window) {
    switch (window.kind()) {
    case plan::TUMBLE: return std::make_unique<SlicedWindow>(window, window.size_ms(), window.size_ms());
    case plan::HOP: return std::make_unique<SlicedWindow>(window, window.size_ms(), window.slide_ms());
    case plan::SESSION: return std::make_unique<SessionWindow>(window);
    default: throw std::invalid_argument("window aggregate without a window kind");
    }
}

} // namespace pipec::runtime
