#include "proxy/json_message_check.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace pipec::proxy {
namespace {

namespace protobuf = google::protobuf;
using Json = nlohmann::json;

std::string describe(const Json &value) {
    switch (value.type()) {
    case Json::value_t::null:
        return "null";
    case Json::value_t::object:
        return "an object";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::string:
        return "a string";
    case Json::value_t::boolean:
        return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
        return "a number";
    default:
        return "an unsupported value";
    }
}

/// An integer in the JSON mapping: a JSON number without a fraction, or a string holding one (64-bit integers are
/// strings in the mapping's output, and either form is accepted on input).
std::optional<std::string> checkInteger(const Json &value, bool isSigned, int bits) {
    long double number = 0;
    if (value.is_number_integer() || value.is_number_unsigned()) {
        number = value.is_number_unsigned() ? static_cast<long double>(value.get<uint64_t>())
                                            : static_cast<long double>(value.get<int64_t>());
    } else if (value.is_number_float()) {
        double d = value.get<double>();
        if (!std::isfinite(d) || std::floor(d) != d) return "expected an integer, found a fraction";
        number = d;
    } else if (value.is_string()) {
        const std::string &text = value.get_ref<const std::string &>();
        size_t start = !text.empty() && text[0] == '-' ? 1 : 0;
        if (text.size() == start || text.find_first_not_of("0123456789", start) != std::string::npos)
            return fmt::format("expected an integer, found the string \"{}\"",
                               text.size() > 40 ? text.substr(0, 40) + "…" : text);
        try {
            number = std::stold(text);
        } catch (const std::exception &) {
            return "expected an integer";
        }
    } else {
        return "expected an integer, found " + describe(value);
    }
    long double low = isSigned ? -std::ldexp(1.0L, bits - 1) : 0;
    long double high = isSigned ? std::ldexp(1.0L, bits - 1) - 1 : std::ldexp(1.0L, bits) - 1;
    if (number < low || number > high)
        return fmt::format("integer out of range for {}{}", isSigned ? "int" : "uint", bits);
    return std::nullopt;
}

std::optional<std::string> checkFloating(const Json &value) {
    if (value.is_number()) return std::nullopt;
    if (value.is_string()) {
        const std::string &text = value.get_ref<const std::string &>();
        if (text == "NaN" || text == "Infinity" || text == "-Infinity") return std::nullopt;
        try {
            size_t used = 0;
            (void)std::stod(text, &used);
            if (used == text.size()) return std::nullopt;
        } catch (const std::exception &) {
        }
        return "expected a number";
    }
    return "expected a number, found " + describe(value);
}

class Checker {
public:
    std::optional<std::string> message(const Json &value, const protobuf::Descriptor *descriptor,
                                       const std::string &path) {
        // Protobuf's JSON parser stops at 100 levels too; a recursive message must not recurse without bound here.
        if (++depth_ > kMaxDepth) return fail(path, fmt::format("nested more than {} levels deep", kMaxDepth));
        struct Leave {
            int &depth;
            ~Leave() { --depth; }
        } leave{depth_};
        const std::string &name = descriptor->full_name();
        // Well-known types have their own JSON forms.
        if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
            name == "google.protobuf.FieldMask") {
            if (!value.is_string())
                return fail(path, fmt::format("expected a string ({}), found {}", name, describe(value)));
            return std::nullopt;
        }
        if (name == "google.protobuf.Struct" || name == "google.protobuf.Value" ||
            name == "google.protobuf.ListValue" || name == "google.protobuf.Any" || name == "google.protobuf.Empty") {
            return std::nullopt; // any JSON; Protobuf's parser has the last word
        }
        if (descriptor->file()->name() == "google/protobuf/wrappers.proto")
            return field(value, descriptor->field(0), path, true);
        if (!value.is_object()) return fail(path, "expected an object, found " + describe(value));
        std::vector<const protobuf::FieldDescriptor *> seen;
        for (const auto &[key, member] : value.items()) {
            const protobuf::FieldDescriptor *field = descriptor->FindFieldByName(key);
            for (int i = 0; i < descriptor->field_count() && field == nullptr; ++i)
                if (descriptor->field(i)->json_name() == key) field = descriptor->field(i);
            std::string memberPath = path + "." + key;
            if (field == nullptr) return fail(memberPath, fmt::format("no such field in `{}`", name));
            for (const auto *other : seen)
                if (other == field)
                    return fail(memberPath, fmt::format("field `{}` is given twice (both name styles)", field->name()));
            if (const protobuf::OneofDescriptor *oneof = field->real_containing_oneof()) {
                for (const auto *other : seen)
                    if (other->real_containing_oneof() == oneof && !member.is_null())
                        return fail(memberPath, fmt::format("more than one field of oneof `{}`", oneof->name()));
            }
            seen.push_back(field);
            if (auto error = this->field(member, field, memberPath, false)) return error;
        }
        return std::nullopt;
    }

private:
    static constexpr int kMaxDepth = 100;
    int depth_ = 0;

    static std::optional<std::string> fail(const std::string &path, const std::string &reason) {
        return path + ": " + reason;
    }

    std::optional<std::string> field(const Json &value, const protobuf::FieldDescriptor *field, const std::string &path,
                                     bool singleOnly) {
        if (value.is_null()) return std::nullopt; // null means "not set" in the mapping
        if (field->is_map() && !singleOnly) {
            if (!value.is_object()) return fail(path, "expected an object (a map), found " + describe(value));
            const protobuf::FieldDescriptor *keyField = field->message_type()->map_key();
            const protobuf::FieldDescriptor *valueField = field->message_type()->map_value();
            for (const auto &[key, member] : value.items()) {
                std::string memberPath = fmt::format("{}[\"{}\"]", path, key);
                if (keyField->cpp_type() != protobuf::FieldDescriptor::CPPTYPE_STRING) {
                    if (auto error = scalar(Json(key), keyField, memberPath))
                        return fail(memberPath, "map key: " + *error);
                }
                if (member.is_null()) return fail(memberPath, "a map value cannot be null");
                if (auto error = this->field(member, valueField, memberPath, true)) return error;
            }
            return std::nullopt;
        }
        if (field->is_repeated() && !singleOnly) {
            if (!value.is_array()) return fail(path, "expected an array, found " + describe(value));
            for (size_t i = 0; i < value.size(); ++i) {
                std::string elementPath = fmt::format("{}[{}]", path, i);
                if (value[i].is_null()) return fail(elementPath, "an array element cannot be null");
                if (auto error = this->field(value[i], field, elementPath, true)) return error;
            }
            return std::nullopt;
        }
        if (field->cpp_type() == protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
            return message(value, field->message_type(), path);
        if (auto error = scalar(value, field, path)) return fail(path, *error);
        return std::nullopt;
    }

    static std::optional<std::string> scalar(const Json &value, const protobuf::FieldDescriptor *field,
                                             const std::string &) {
        using Cpp = protobuf::FieldDescriptor;
        switch (field->cpp_type()) {
        case Cpp::CPPTYPE_INT32:
            return checkInteger(value, true, 32);
        case Cpp::CPPTYPE_INT64:
            return checkInteger(value, true, 64);
        case Cpp::CPPTYPE_UINT32:
            return checkInteger(value, false, 32);
        case Cpp::CPPTYPE_UINT64:
            return checkInteger(value, false, 64);
        case Cpp::CPPTYPE_FLOAT:
        case Cpp::CPPTYPE_DOUBLE:
            return checkFloating(value);
        case Cpp::CPPTYPE_BOOL:
            if (value.is_boolean()) return std::nullopt;
            return "expected a boolean, found " + describe(value);
        case Cpp::CPPTYPE_STRING:
            if (!value.is_string()) return "expected a string, found " + describe(value);
            return std::nullopt; // bytes: Protobuf's parser checks the base64
        case Cpp::CPPTYPE_ENUM: {
            const protobuf::EnumDescriptor *type = field->enum_type();
            if (value.is_string()) {
                if (type->FindValueByName(value.get_ref<const std::string &>()) != nullptr) return std::nullopt;
                return fmt::format("`{}` is not a value of enum `{}`", value.get_ref<const std::string &>(),
                                   type->full_name());
            }
            if (value.is_number_integer() || value.is_number_unsigned()) return checkInteger(value, true, 32);
            return fmt::format("expected a name of enum `{}`, found {}", type->full_name(), describe(value));
        }
        case Cpp::CPPTYPE_MESSAGE:
            break;
        }
        return std::nullopt;
    }
};

} // namespace

std::optional<std::string> checkJsonMessage(const nlohmann::json &value, const google::protobuf::Descriptor *message) {
    return Checker().message(value, message, "$");
}

} // namespace pipec::proxy
