#include "runtime/operators/window_operator.h"

#include "runtime/operators/session_window.h"
#include "runtime/operators/sliced_window.h"

#include <stdexcept>

namespace pipec::runtime {

std::unique_ptr<WindowOperator> WindowOperator::create(const plan::WindowAggregate& window) {
    switch (window.kind()) {
    case plan::TUMBLE: return std::make_unique<SlicedWindow>(window, window.size_ms(), window.size_ms());
    case plan::HOP: return std::make_unique<SlicedWindow>(window, window.size_ms(), window.slide_ms());
    case plan::SESSION: return std::make_unique<SessionWindow>(window);
    case plan::CUMULATE: return std::make_unique<SlicedWindow>(window, window.size_ms(), window.slide_ms(), true);
    default: throw std::invalid_argument("window aggregate without a window kind");
    }
}

} // namespace pipec::runtime
