#pragma once

#include <string>

namespace pipec {

/// A place in a user's file. Lines and columns are 1-based; a zero line means "the whole file".
/// `length` is the number of columns the caret underline covers (at least 1).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
    int length = 1;

    bool known() const { return line > 0; }
};

} // namespace pipec
