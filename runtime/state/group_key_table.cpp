#include "runtime/state/group_key_table.h"

#include "runtime/state/value_encoding.h"

#include <cstring>
#include <stdexcept>

namespace pipec::runtime {

namespace {
// Small at first: a job has a table per task (per assigned partition, often hundreds), each with its share of the keys;
// the table doubles at half load.
constexpr size_t kInitialSlots = 16;
} // namespace

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
        slotKeys_.assign(kInitialSlots, 0);
        slotIndexes_.assign(kInitialSlots, 0);
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
        slotKeys_.assign(kInitialSlots, 0);
        slotIndexes_.assign(kInitialSlots, 0);
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

namespace {
bool isTextType(plan::TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }
bool isFloatingType(plan::TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }
} // namespace

std::string GroupKeyTable::encodeKey(uint32_t index) const {
    std::string bytes;
    const Row& values = values_[index];
    for (size_t i = 0; i < types_.size(); ++i) {
        const Value& value = values[i];
        if (value.isNull) {
            bytes.push_back('\0');
            continue;
        }
        bytes.push_back('\1');
        if (isTextType(types_[i])) {
            for (uint64_t size = value.s.size();; size >>= 7) {
                if (size < 0x80) {
                    bytes.push_back(static_cast<char>(size));
                    break;
                }
                bytes.push_back(static_cast<char>((size & 0x7f) | 0x80));
            }
            bytes += value.s;
        } else {
            uint64_t bits = 0;
            if (isFloatingType(types_[i])) std::memcpy(&bits, &value.d, sizeof bits);
            else bits = static_cast<uint64_t>(value.i);
            for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
        }
    }
    return bytes;
}

uint32_t GroupKeyTable::addEncoded(std::string_view bytes, bool existingAllowed) {
    Row values(types_.size());
    scratch_.clear();
    size_t at = 0;
    auto truncated = [] { return std::runtime_error("corrupt checkpoint: a truncated group key"); };
    for (size_t i = 0; i < types_.size(); ++i) {
        if (at >= bytes.size()) throw truncated();
        const char flag = bytes[at++];
        if (flag == '\0') {
            values[i] = Value::null();
        } else if (flag != '\1') {
            throw std::runtime_error("corrupt checkpoint: a group key");
        } else if (isTextType(types_[i])) {
            uint64_t size = 0;
            for (int shift = 0;; shift += 7) {
                if (at >= bytes.size() || shift > 56) throw truncated();
                const auto byte = static_cast<unsigned char>(bytes[at++]);
                size |= static_cast<uint64_t>(byte & 0x7f) << shift;
                if (byte < 0x80) break;
            }
            if (size > bytes.size() - at) throw truncated();
            values[i] = Value::ofString(std::string(bytes.substr(at, size)));
            at += size;
        } else {
            if (bytes.size() - at < 8) throw truncated();
            uint64_t bits = 0;
            for (int b = 0; b < 8; ++b) bits |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + static_cast<size_t>(b)])) << (8 * b);
            at += 8;
            if (isFloatingType(types_[i])) {
                double d;
                std::memcpy(&d, &bits, sizeof d);
                values[i] = Value::ofDouble(d);
            } else {
                values[i] = Value::ofInt(static_cast<int64_t>(bits));
            }
        }
        encodeValue(values[i], types_[i], scratch_);
    }
    if (at != bytes.size()) throw std::runtime_error("corrupt checkpoint: trailing bytes in a group key");
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
    if (!existingAllowed && values_.size() == before) throw std::runtime_error("corrupt checkpoint: a group key appears twice");
    return index;
}

} // namespace pipec::runtime
