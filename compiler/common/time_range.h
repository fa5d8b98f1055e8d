#pragma once

#include <cstdint>

namespace pipec {

/// The longest duration or interval a spec may write: 2^60 ms, about 36.5 million years. The runtime drops event
/// times beyond ±2^60 ms (`runtime::kEventTimeLimit`, checked equal by a unit test), so with every window size, slide,
/// gap and watermark delay at most 2^60 ms, `time + size` and `time - delay` stay within ±2^61 and cannot overflow.
inline constexpr int64_t kMaxDurationMs = int64_t{1} << 60;

/// How the limit reads in messages.
inline constexpr const char* kMaxDurationText = "2^60 ms (about 36 million years)";

} // namespace pipec
