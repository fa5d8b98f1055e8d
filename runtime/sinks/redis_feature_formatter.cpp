#include "runtime/sinks/redis_feature_formatter.h"

#include <fmt/format.h>

#include <stdexcept>

namespace pipec::runtime {
namespace {

/// Whether Redis Cluster would hash only part of `key`: a `{` followed later by a `}` with something in between.
bool hasHashTag(const std::string& key) {
    size_t open = key.find('{');
    if (open == std::string::npos) return false;
    size_t close = key.find('}', open + 1);
    return close != std::string::npos && close > open + 1;
}

} // namespace

RedisFeatureFormatter::RedisFeatureFormatter(std::string keyFormat, std::string keySeparator, std::vector<RedisFeature> features)
    : keyFormat_(std::move(keyFormat)), keySeparator_(std::move(keySeparator)), features_(std::move(features)) {}

void RedisFeatureFormatter::open(const std::vector<plan::OutputColumn>& columns) {
    columns_ = columns;
    keyColumns_.clear();
    featureColumns_.clear();
    for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i].is_key()) keyColumns_.push_back(static_cast<int>(i));
    for (const auto& feature : features_) {
        int found = -1;
        for (size_t i = 0; i < columns.size(); ++i)
            if (columns[i].name() == feature.valueColumn) found = static_cast<int>(i);
        if (found < 0) throw std::invalid_argument("feature `" + feature.name + "`: no output column `" + feature.valueColumn + "`");
        featureColumns_.push_back(found);
    }
}

void RedisFeatureFormatter::entityKey(const Row& row, std::string& out) const {
    out.clear();
    for (size_t k = 0; k < keyColumns_.size(); ++k) {
        if (k > 0) out += keySeparator_;
        int column = keyColumns_[k];
        out += formatFeatureValue(row[column], columns_[column].type());
    }
}

void RedisFeatureFormatter::keyFor(const std::string& feature, const std::string& entityKey, std::string& out) const {
    out.clear();
    const std::string& format = keyFormat_;
    for (size_t i = 0; i < format.size();) {
        if (format.compare(i, 9, "{feature}") == 0) {
            out += feature;
            i += 9;
        } else if (format.compare(i, 5, "{key}") == 0) {
            out += entityKey;
            i += 5;
        } else {
            out += format[i++];
        }
    }
}

std::string RedisFeatureFormatter::keyFor(const std::string& feature, const std::string& entityKey) const {
    std::string key;
    keyFor(feature, entityKey, key);
    return key;
}

std::string RedisFeatureFormatter::windowEndKeyFor(const std::string& key) {
    // Both keys of a script call must live in one hash slot on Redis Cluster. A key with a hash tag keeps it as the
    // companion's first tag (the prefix has no braces); any other key is hashed whole, so the companion makes all of
    // it its tag. The two shapes differ right after the prefix (`:` or `{`), so no two keys share a companion.
    if (hasHashTag(key)) return "pipec-window-end:" + key;
    return "pipec-window-end{" + key + "}";
}

std::string RedisFeatureFormatter::formatFeatureValue(const Value& value, plan::TypeId type) {
    if (value.isNull) return "null";
    switch (type) {
    case plan::BOOLEAN: return value.i != 0 ? "true" : "false";
    case plan::FLOAT:
    case plan::DOUBLE: return fmt::format("{}", value.d);
    case plan::VARCHAR:
    case plan::BYTES: return value.s;
    default: return std::to_string(value.i);
    }
}

} // namespace pipec::runtime
