#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <string>
#include <string_view>

namespace pipec::runtime {

/// Encodes a value of a known type as bytes for hashing (group keys, DISTINCT sets); NULL is distinct from every value.
void encodeValue(const Value& value, plan::TypeId type, std::string& out);
Value decodeValue(std::string_view bytes, plan::TypeId type);

} // namespace pipec::runtime
