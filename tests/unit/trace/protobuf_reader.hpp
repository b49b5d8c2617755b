#pragma once
// Test support: a protobuf wire-format reader written from the encoding rules alone (varint, 64-bit,
// length-delimited, 32-bit), so Herald's OTLP encoder is checked against the format rather than against itself.

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace herald::trace::protobuf_reader {

struct Field {
    unsigned number;
    unsigned wire;
    std::uint64_t value;  // varint, fixed64, fixed32
    std::string bytes;    // length-delimited
};

inline std::uint64_t read_varint(std::string_view& in) {
    std::uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (in.empty() || shift > 63) throw std::runtime_error("truncated varint");
        const auto b = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        v |= std::uint64_t{b & 0x7fu} << shift;
        if (!(b & 0x80)) return v;
    }
}

inline std::vector<Field> fields(std::string_view in) {
    std::vector<Field> out;
    while (!in.empty()) {
        const auto tag = read_varint(in);
        Field f{static_cast<unsigned>(tag >> 3), static_cast<unsigned>(tag & 7), 0, {}};
        auto fixed = [&](std::size_t n) {
            if (in.size() < n) throw std::runtime_error("truncated fixed");
            for (std::size_t i = 0; i < n; ++i) f.value |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
            in.remove_prefix(n);
        };
        switch (f.wire) {
            case 0: f.value = read_varint(in); break;
            case 1: fixed(8); break;
            case 5: fixed(4); break;
            case 2: {
                const auto n = read_varint(in);
                if (in.size() < n) throw std::runtime_error("truncated bytes");
                f.bytes = std::string(in.substr(0, n));
                in.remove_prefix(n);
                break;
            }
            default: throw std::runtime_error("unexpected wire type");
        }
        out.push_back(std::move(f));
    }
    return out;
}

inline std::vector<Field> all(const std::vector<Field>& fs, unsigned number) {
    std::vector<Field> out;
    for (auto& f : fs)
        if (f.number == number) out.push_back(f);
    return out;
}

inline const Field& one(const std::vector<Field>& fs, unsigned number) {
    static const Field none{0, 0, 0, {}};
    for (auto& f : fs)
        if (f.number == number) return f;
    ADD_FAILURE() << "no field " << number;
    return none;
}

inline bool has(const std::vector<Field>& fs, unsigned number) { return !all(fs, number).empty(); }

// The spans of an ExportTraceServiceRequest, and its resource's fields.
inline std::vector<std::vector<Field>> spans_of(const std::string& body, std::vector<Field>* resource = nullptr,
                                         std::vector<Field>* scope = nullptr) {
    auto request = fields(body);
    EXPECT_EQ(all(request, 1).size(), 1u);
    auto rs = fields(one(request, 1).bytes);
    if (resource) *resource = fields(one(rs, 1).bytes);
    auto ss = fields(one(rs, 2).bytes);
    if (scope) *scope = fields(one(ss, 1).bytes);
    std::vector<std::vector<Field>> out;
    for (auto& s : all(ss, 2)) out.push_back(fields(s.bytes));
    return out;
}

}  // namespace herald::trace::protobuf_reader
