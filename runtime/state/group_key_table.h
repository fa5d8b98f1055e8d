#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/value.h"
#include "runtime/state/state_buffer.h"

#include <pipec/plan.pb.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// Maps group-key values to dense indexes in order of first arrival, which is also the emission order of keys
/// within a window.
class GroupKeyTable {
public:
    explicit GroupKeyTable(const plan::WindowAggregate& window);
    uint32_t lookup(const Row& row);
    const Row& values(uint32_t index) const { return values_[index]; }
    size_t size() const { return values_.size(); }
    void write(StateWriter& writer) const;
    void read(StateReader& reader);

    /// Called with the index of every key added from now on (new rows or a restore): the Kafka job watches for keys
    /// that arrive in more than one partition.
    void onNewKey(std::function<void(uint32_t index)> listener) { onNewKey_ = std::move(listener); }

    /// A key's values as checkpoint key bytes (stable across processes and plan-compatible versions), compact: per
    /// column a NULL flag, then 8 bytes for numbers, or a varint length and the bytes for text.
    std::string encodeKey(uint32_t index) const;
    /// Adds the key `encodeKey` produced (restoring a checkpoint); throws std::runtime_error on corrupt or duplicate
    /// keys.
    uint32_t insertEncoded(std::string_view bytes) { return addEncoded(bytes, false); }
    /// The index of the key `encodeKey` produced, added when new (restoring entries of which several name one key).
    uint32_t findOrInsertEncoded(std::string_view bytes) { return addEncoded(bytes, true); }

    /// Change tracking for incremental checkpoints: keys whose state changed since the last checkpoint, and keys
    /// that have an entry in the checkpointed state (so that an emptied one expires there).
    void markChanged(uint32_t index) {
        if (index >= changedBits_.size() * 64) changedBits_.resize(index / 64 + 1 + changedBits_.size(), 0);
        changedBits_[index / 64] |= uint64_t{1} << (index % 64);
    }
    bool changed(uint32_t index) const {
        return index < changedBits_.size() * 64 && (changedBits_[index / 64] >> (index % 64) & 1) != 0;
    }
    void clearChanged() { std::fill(changedBits_.begin(), changedBits_.end(), 0); }
    void setCheckpointed(uint32_t index, bool value) {
        if (checkpointed_.size() <= index) checkpointed_.resize(index + 1, false);
        checkpointed_[index] = value;
    }
    bool checkpointed(uint32_t index) const { return index < checkpointed_.size() && checkpointed_[index]; }

private:
    uint32_t insert(const Row& row);
    uint32_t addEncoded(std::string_view bytes, bool existingAllowed);
    uint32_t lookupInteger(const Value& value, const Row& row);

    /// Fast path for the common single integer key read straight from a column: open addressing on the value.
    bool integerKey_ = false;
    std::vector<int64_t> slotKeys_;
    std::vector<uint32_t> slotIndexes_;  // index + 1; 0 = empty slot
    uint32_t nullIndex_ = 0;             // index + 1 of the NULL key
    std::vector<CompiledExpression> expressions_;
    std::vector<plan::TypeId> types_;
    std::vector<int> columns_;  // plain-column keys read the row directly
    std::unordered_map<std::string, uint32_t> indexes_;
    std::vector<Row> values_;
    std::function<void(uint32_t)> onNewKey_;
    std::vector<uint64_t> changedBits_;
    std::vector<bool> checkpointed_;
    std::string scratch_;
    Row keyScratch_;
};

} // namespace pipec::runtime
