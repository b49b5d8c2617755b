#pragma once
// The on-disk format of the embedded log, version 1 (docs/formats/log.md says the same in prose).
// Private to the storage module: log.cpp, segment.cpp and verify.cpp share these definitions so the
// writer, recovery and the offline verifier can never disagree about a byte.
//
// Everything on disk is little-endian and written with explicit byte stores, never by copying a
// struct, so the layout does not depend on the compiler's padding or the host's byte order.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::storage::format {

// --- record batch --------------------------------------------------------------------------------
// One append() writes one batch: a fixed 36-byte header followed by the records.
//
//   byte  size  field         meaning
//   0     4     magic         the bytes 'H' 'L' 'B' '1' (u32 0x31424C48); else not a batch
//   4     4     crc           CRC32C (Castagnoli) of bytes [8, length): every byte after this
//                             field, so a flipped length, offset, count or timestamp is caught
//                             like a flipped payload
//   8     4     length        total size of the batch in bytes, this header included;
//                             40 <= length <= 64 MiB (kMaxBatchBytes), checked before anything
//                             is allocated or read
//   12    1     version       1
//   13    1     flags         0; bits reserved (compression). Unknown flags: invalid batch
//   14    2     reserved      0
//   16    8     base_offset   offset of the first record; must continue the previous batch
//   24    4     record_count  >= 1; records have offsets base_offset .. base_offset + count - 1
//   28    8     timestamp_ms  append time of the batch, Unix milliseconds (signed)
//   36    ...   records       record_count times: u32 payload length, then the payload bytes;
//                             the records fill the batch exactly (no slack, no overrun)
//
// Why the CRC sits before the length: a torn write leaves either a batch that runs past the end
// of the file (detected by the length bound) or one whose CRC does not match; covering the length
// by the CRC means a corrupted length cannot make us trust a wrong boundary either.
inline constexpr std::uint32_t kBatchMagic = 0x31424C48;  // "HLB1" read as a little-endian u32
inline constexpr std::uint8_t kBatchVersion = 1;
inline constexpr std::size_t kBatchHeaderSize = 36;
inline constexpr std::size_t kRecordOverhead = 4;  // the u32 length in front of every payload
inline constexpr std::size_t kMinBatchBytes = kBatchHeaderSize + kRecordOverhead;
inline constexpr std::size_t kMaxBatchBytes = 64u << 20;
inline constexpr std::size_t kCrcOffset = 4;
inline constexpr std::size_t kCrcCoverageStart = 8;  // the CRC covers [8, length)

struct BatchHeader {
    std::uint32_t magic = 0;
    std::uint32_t crc = 0;
    std::uint32_t length = 0;
    std::uint8_t version = 0;
    std::uint8_t flags = 0;
    std::uint16_t reserved = 0;
    std::uint64_t base_offset = 0;
    std::uint32_t record_count = 0;
    std::int64_t timestamp_ms = 0;

    std::uint64_t end_offset() const { return base_offset + record_count; }
};

// --- sparse index --------------------------------------------------------------------------------
// `<base>.index` is a plain array of 8-byte entries, no header (a new index format would get a new
// file extension).
//
//   byte  size  field            meaning
//   0     4     relative_offset  base_offset of the batch minus the segment's base offset; > 0
//   4     4     position         byte position of that batch in the .log; > 0
//
// An entry is added for a batch when it starts at least index_interval_bytes after the previous
// entry (or after the start of the segment, an implicit entry (0, 0) that is never written).
// Entries are strictly increasing in both fields. The index only accelerates lookups: recovery
// drops entries that do not hold and rebuilds the tail.
inline constexpr std::size_t kIndexEntrySize = 8;

struct IndexEntry {
    std::uint32_t relative_offset = 0;
    std::uint32_t position = 0;
    bool operator==(const IndexEntry&) const = default;
};

// Segment files stay well below 4 GiB so index positions fit a u32: a segment rolls at
// segment_bytes (clamped to this) and may exceed it by at most one batch.
inline constexpr std::uint64_t kMaxSegmentBytes = 2ull << 30;

// --- epoch file ----------------------------------------------------------------------------------
// `epoch` holds the topic's random non-zero 64-bit epoch as exactly 16 lower-case hex digits and a
// newline (17 bytes). Written once, atomically: epoch.tmp, fsync, rename, fsync of the directory.
inline constexpr std::size_t kEpochFileSize = 17;

inline std::string encode_epoch(std::uint64_t epoch) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(kEpochFileSize, '\n');
    for (int i = 0; i < 16; ++i) {
        out[static_cast<std::size_t>(i)] = kHex[(epoch >> (60 - 4 * i)) & 15];
    }
    return out;
}

// The epoch in a file's contents, or nothing when they are not what encode_epoch writes. Upper-case
// digits are accepted: a hand-edited file still holds an unambiguous value.
inline std::optional<std::uint64_t> decode_epoch(std::string_view text) {
    if (text.size() != kEpochFileSize || text[16] != '\n') return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        char c = text[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    if (v == 0) return std::nullopt;
    return v;
}

// --- little-endian helpers -----------------------------------------------------------------------
inline std::uint64_t load_le(const char* p, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
inline std::uint32_t load_u32(const char* p) { return static_cast<std::uint32_t>(load_le(p, 4)); }
inline std::uint64_t load_u64(const char* p) { return load_le(p, 8); }

inline void store_le(char* p, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void store_u32(char* p, std::uint32_t v) { store_le(p, v, 4); }
inline void store_u64(char* p, std::uint64_t v) { store_le(p, v, 8); }

// Decodes the fixed header from kBatchHeaderSize bytes. Does not judge it: see check_header.
inline BatchHeader decode_header(const char* p) {
    BatchHeader h;
    h.magic = load_u32(p + 0);
    h.crc = load_u32(p + 4);
    h.length = load_u32(p + 8);
    h.version = static_cast<std::uint8_t>(p[12]);
    h.flags = static_cast<std::uint8_t>(p[13]);
    h.reserved = static_cast<std::uint16_t>(load_le(p + 14, 2));
    h.base_offset = load_u64(p + 16);
    h.record_count = load_u32(p + 24);
    h.timestamp_ms = static_cast<std::int64_t>(load_u64(p + 28));
    return h;
}

inline void encode_header(char* p, const BatchHeader& h) {
    store_u32(p + 0, h.magic);
    store_u32(p + 4, h.crc);
    store_u32(p + 8, h.length);
    p[12] = static_cast<char>(h.version);
    p[13] = static_cast<char>(h.flags);
    store_le(p + 14, h.reserved, 2);
    store_u64(p + 16, h.base_offset);
    store_u32(p + 24, h.record_count);
    store_u64(p + 28, static_cast<std::uint64_t>(h.timestamp_ms));
}

// Structural checks on a header alone, before its length is trusted for anything. Returns what is
// wrong, or nothing when the header is plausible.
inline std::optional<std::string> check_header(const BatchHeader& h) {
    if (h.magic != kBatchMagic) return "bad magic";
    if (h.version != kBatchVersion) return "unknown version " + std::to_string(h.version);
    if (h.flags != 0) return "unknown flags " + std::to_string(h.flags);
    if (h.reserved != 0) return "non-zero reserved field";
    if (h.length < kMinBatchBytes || h.length > kMaxBatchBytes) {
        return "batch length " + std::to_string(h.length) + " out of bounds";
    }
    if (h.record_count == 0) return "zero record count";
    if (h.record_count > (h.length - kBatchHeaderSize) / kRecordOverhead) {
        return "record count " + std::to_string(h.record_count) + " cannot fit in " +
               std::to_string(h.length) + " bytes";
    }
    if (h.base_offset > UINT64_MAX - h.record_count) return "base offset overflows";
    return std::nullopt;
}

// Checks that the records of a whole batch (`batch` is exactly `length` bytes) fill it exactly.
inline std::optional<std::string> check_records(std::string_view batch,
                                                std::uint32_t record_count) {
    std::size_t pos = kBatchHeaderSize;
    for (std::uint32_t i = 0; i < record_count; ++i) {
        if (batch.size() - pos < kRecordOverhead) {
            return "record " + std::to_string(i) + " runs past the batch";
        }
        std::size_t len = load_u32(batch.data() + pos);
        pos += kRecordOverhead;
        if (len > batch.size() - pos) return "record " + std::to_string(i) + " runs past the batch";
        pos += len;
    }
    if (pos != batch.size()) {
        return "records leave " + std::to_string(batch.size() - pos) + " unused bytes";
    }
    return std::nullopt;
}

}  // namespace herald::storage::format
