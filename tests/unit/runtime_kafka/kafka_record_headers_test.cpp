#include "runtime/kafka/kafka_record_headers.h"

#include <doctest/doctest.h>

#include <string>

using pipec::runtime::HeaderView;
using pipec::runtime::parseKafkaHeaderSection;

namespace {

std::string varint(int64_t value) {
    auto raw = static_cast<uint64_t>((value << 1) ^ (value >> 63));  // zigzag
    std::string out;
    do {
        auto byte = static_cast<char>(raw & 0x7f);
        raw >>= 7;
        if (raw != 0) byte = static_cast<char>(byte | 0x80);
        out += byte;
    } while (raw != 0);
    return out;
}

std::string header(const std::string& name, const std::string* value) {
    std::string out = varint(static_cast<int64_t>(name.size())) + name;
    if (value == nullptr) return out + varint(-1);
    return out + varint(static_cast<int64_t>(value->size())) + *value;
}

} // namespace

TEST_CASE("a header section parses into views, null values read as empty") {
    const std::string big(300, 'v');  // a length that needs a two-byte varint
    const std::string binary("a\0b", 3);
    std::string section = varint(4) + header("event-created-at", &binary) + header("null", nullptr) +
                          header("", &big) + header("event-created-at", &big);
    std::vector<HeaderView> out;
    REQUIRE(parseKafkaHeaderSection(section, out));
    REQUIRE(out.size() == 4);
    CHECK(out[0] == HeaderView("event-created-at", binary));
    CHECK(out[1] == HeaderView("null", ""));
    CHECK(out[2] == HeaderView("", big));
    CHECK(out[3].second.size() == 300);
    // Views into the section, not copies.
    CHECK(out[2].second.data() >= section.data());
    CHECK(out[2].second.data() < section.data() + section.size());

    out.clear();
    CHECK(parseKafkaHeaderSection(varint(0), out));
    CHECK(out.empty());
}

TEST_CASE("a malformed header section is refused without reading past it") {
    const std::string value = "value";
    const std::string good = varint(1) + header("name", &value);
    std::vector<HeaderView> out;
    // Every truncation fails, and so does a byte too many.
    for (size_t length = 0; length < good.size(); ++length) {
        CAPTURE(length);
        CHECK_FALSE(parseKafkaHeaderSection(std::string_view(good).substr(0, length), out));
    }
    CHECK_FALSE(parseKafkaHeaderSection(good + "x", out));
    CHECK_FALSE(parseKafkaHeaderSection(varint(-1), out));                           // negative count
    CHECK_FALSE(parseKafkaHeaderSection(varint(1000000) + header("a", &value), out));  // count beyond the bytes
    CHECK_FALSE(parseKafkaHeaderSection(varint(1) + varint(-2) + "name", out));       // negative name length
    CHECK_FALSE(parseKafkaHeaderSection(varint(1) + varint(4) + "name" + varint(-2), out));  // value length below -1
    CHECK_FALSE(parseKafkaHeaderSection(std::string(6, '\xff') + "\x01", out));       // a varint over five bytes
    CHECK_FALSE(parseKafkaHeaderSection(varint(1) + varint(1LL << 40) + "n", out));   // a length beyond the bytes
}

TEST_CASE("the header section parser gives librdkafka's answers at its limits") {
    const std::string value = "v";
    std::vector<HeaderView> out;
    // A name with a NUL byte ends there, as librdkafka's C-string names do.
    const std::string withNul = varint(1) + header(std::string("ab\0cd", 5), &value);  // the views point into it
    REQUIRE(parseKafkaHeaderSection(withNul, out));
    CHECK(out.front() == HeaderView("ab", "v"));
    // More than 100000 headers: refused, as librdkafka refuses them.
    std::string many = varint(100001);
    for (int i = 0; i < 100001; ++i) many += header("", nullptr);
    out.clear();
    CHECK_FALSE(parseKafkaHeaderSection(many, out));
    std::string limit = varint(100000);
    for (int i = 0; i < 100000; ++i) limit += header("", nullptr);
    out.clear();
    CHECK(parseKafkaHeaderSection(limit, out));
    CHECK(out.size() == 100000);
}
