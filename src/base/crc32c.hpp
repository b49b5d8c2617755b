#pragma once
// CRC32C (Castagnoli), the checksum of the log format. Uses the SSE4.2 instruction when the CPU has it and a
// table otherwise; both give identical results (tested).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace herald {

// Extends `crc` (start with 0) over `data`.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept;
std::uint32_t crc32c_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept;

inline std::uint32_t crc32c(std::string_view bytes) noexcept {
    return crc32c_extend(0, bytes.data(), bytes.size());
}

}  // namespace herald
