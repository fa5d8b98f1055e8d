#include "runtime/state/group_key_table.h"

#include "runtime/state/value_encoding.h"

#include <stdexcept>

namespace pipec::runtime {

GroupKeyTable::GroupKeyTable(const plan::WindowAggregate& window) {
    for (const auto& key : window.group_keys()) {
        types_.push_back(key.type());
        columns_.push_back(key.kind_case() == plan::Expr::kColumn ? key.column() : -1);
        expressions_.push_back(key.kind_case() == plan::Expr::kColumn ? CompiledExpression() : CompiledExpression::compile(key));
    }
    keyScratch_.resize(types_.size());
    integerKey_ = types_.size() == 1 && columns_[0] >= 0 && types_[0] != plan::VARCHAR && types_[0] != plan::BYTES &&
                  types_[0] != plan::FLOAT && types_[0] != plan::DOUBLE;
    if (integerKey_) {
        slotKeys_.assign(1024, 0);
        slotIndexes_.assign(1024, 0);
    }
}

namespace {
uint64_t mixBits(int64_t value) {
    uint64_t x = static_cast<uint64_t>(value);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
} // namespace

uint32_t GroupKeyTable::lookupInteger(const Value& value, const Row& row) {
    if (value.isNull) {
        if (!nullIndex_) nullIndex_ = insert(row) + 1;
        return nullIndex_ - 1;
    }
    size_t mask = slotKeys_.size() - 1;
    for (size_t slot = mixBits(value.i) & mask;; slot = (slot + 1) & mask) {
        if (slotIndexes_[slot] == 0) {
            uint32_t index = insert(row);
            slotKeys_[slot] = value.i;
            slotIndexes_[slot] = index + 1;
            if (values_.size() * 2 > slotKeys_.size()) {
                // Grow and rehash at half load.
                std::vector<int64_t> keys(slotKeys_.size() * 2, 0);
                std::vector<uint32_t> indexes(slotKeys_.size() * 2, 0);
                size_t newMask = keys.size() - 1;
                for (size_t old = 0; old < slotKeys_.size(); ++old) {
                    if (!slotIndexes_[old]) continue;
                    size_t target = mixBits(slotKeys_[old]) & newMask;
                    while (indexes[target]) target = (target + 1) & newMask;
                    keys[target] = slotKeys_[old];
                    indexes[target] = slotIndexes_[old];
                }
                slotKeys_.swap(keys);
                slotIndexes_.swap(indexes);
            }
            return index;
        }
        if (slotKeys_[slot] == value.i) return slotIndexes_[slot] - 1;
    }
}

uint32_t GroupKeyTable::insert(const Row& row) {
    uint32_t index = static_cast<uint32_t>(values_.size());
    Row values(types_.size());
    for (size_t i = 0; i < types_.size(); ++i) values[i] = columns_[i] >= 0 ? row[static_cast<size_t>(columns_[i])] : keyScratch_[i];
    if (!integerKey_) indexes_.emplace(scratch_, index);
    values_.push_back(std::move(values));
    if (onNewKey_) onNewKey_(index);
    return index;
}

uint32_t GroupKeyTable::lookup(const Row& row) {
    if (integerKey_) return lookupInteger(row[static_cast<size_t>(columns_[0])], row);
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
    return insert(row);
}

void GroupKeyTable::write(StateWriter& writer) const {
    writer.writeU64(values_.size());
    for (const auto& values : values_)
        for (const auto& value : values) writer.writeValue(value);
}

void GroupKeyTable::read(StateReader& reader) {
    indexes_.clear();
    values_.clear();
    nullIndex_ = 0;
    if (integerKey_) {
        slotKeys_.assign(1024, 0);
        slotIndexes_.assign(1024, 0);
    }
    uint64_t count = reader.readCount(types_.empty() ? 0 : 1);
    if (types_.empty() && count > 1) throw std::runtime_error("corrupt snapshot: keys");
    for (uint64_t k = 0; k < count; ++k) {
        Row values(types_.size());
        scratch_.clear();
        for (size_t i = 0; i < types_.size(); ++i) {
            values[i] = reader.readValue();
            encodeValue(values[i], types_[i], scratch_);
        }
        // Re-insert through lookup on a row holding the key at its source column, so every index is rebuilt.
        Row row(static_cast<size_t>(integerKey_ ? columns_[0] + 1 : 0));
        if (integerKey_) {
            row[static_cast<size_t>(columns_[0])] = values[0];
            if (lookupInteger(values[0], row) != values_.size() - 1) throw std::runtime_error("corrupt snapshot: duplicate key");
        } else {
            if (!indexes_.emplace(scratch_, static_cast<uint32_t>(values_.size())).second) throw std::runtime_error("corrupt snapshot: duplicate key");
            values_.push_back(std::move(values));
        }
    }
}

std::string GroupKeyTable::encodeKey(uint32_t index) const {
    StateWriter writer;
    for (const auto& value : values_[index]) writer.writeValue(value);
    return writer.take();
}

uint32_t GroupKeyTable::insertEncoded(std::string_view bytes) {
    StateReader reader(bytes);
    Row values(types_.size());
    scratch_.clear();
    for (size_t i = 0; i < types_.size(); ++i) {
        values[i] = reader.readValue();
        encodeValue(values[i], types_[i], scratch_);
    }
    if (!reader.atEnd()) throw std::runtime_error("corrupt checkpoint: trailing bytes in a group key");
    size_t before = values_.size();
    uint32_t index;
    if (integerKey_) {
        // Through the lookup on a row holding the key at its source column, so the integer index sees it.
        Row row(static_cast<size_t>(columns_[0] + 1));
        row[static_cast<size_t>(columns_[0])] = values[0];
        index = lookupInteger(values[0], row);
    } else {
        auto [it, inserted] = indexes_.emplace(scratch_, static_cast<uint32_t>(values_.size()));
        if (inserted) values_.push_back(std::move(values));
        index = it->second;
        if (inserted && onNewKey_) onNewKey_(index);
    }
    if (values_.size() == before) throw std::runtime_error("corrupt checkpoint: a group key appears twice");
    return index;
}

} // namespace pipec::runtime
