#pragma once

#include <cstdint>
#include <string_view>

namespace pipec::runtime {

/// FNV-1a, 64 bits. Its values are persisted (the repartition partition of a GROUP BY key, changelog record keys), so
/// it must never change.
inline uint64_t fnv1a64(std::string_view bytes) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

} // namespace pipec::runtime
