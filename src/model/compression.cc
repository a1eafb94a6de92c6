#include "model/compression.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/endian.h"

namespace sluice::model {

namespace {

class compression_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "compression"; }
  std::string message(int c) const override {
    switch (static_cast<compression_errc>(c)) {
      case compression_errc::ok: return "ok";
      case compression_errc::unsupported_codec: return "unsupported compression codec";
      case compression_errc::bad_level: return "compression level out of range";
      case compression_errc::corrupt: return "corrupt compressed data";
      case compression_errc::truncated: return "truncated compressed data";
      case compression_errc::output_too_large: return "decompressed data exceeds the size limit";
      case compression_errc::unsupported_feature: return "compressed stream uses a feature Kafka does not support";
      case compression_errc::codec_failure: return "compression library failure";
    }
    return "unknown";
  }
};

// Decompression output that never grows beyond limit+1 bytes: producing the (limit+1)-th byte
// is how codecs without a trustworthy size header reveal they exceed the limit.
class bounded_output {
 public:
  explicit bounded_output(size_t limit, size_t size_hint)
      : _limit(limit), _cap(limit == SIZE_MAX ? SIZE_MAX : limit + 1), _first(std::min(std::max<size_t>(size_hint, 4096), _cap)) {}

  // Writable room after the produced bytes; empty once the cap is reached.
  std::span<uint8_t> room() {
    if (_used == _buf.size()) {
      if (_buf.size() >= _cap) return {};
      size_t grow = _buf.empty() ? _first : _buf.size();
      size_t next = _buf.size() + std::min(grow, _cap - _buf.size());
      _buf.resize(next);
    }
    return std::span<uint8_t>(_buf).subspan(_used);
  }
  // Grows to exactly `n` more bytes (known-size codecs); false if that would pass the limit.
  std::span<uint8_t> reserve_exact(size_t n) {
    if (n > _limit - _used) return {};
    _buf.resize(_used + n);
    return std::span<uint8_t>(_buf).subspan(_used);
  }
  void commit(size_t n) { _used += n; }
  bool over_limit() const { return _used > _limit; }
  std::vector<uint8_t> take() && {
    _buf.resize(_used);
    return std::move(_buf);
  }

 private:
  size_t _limit;
  size_t _cap;
  size_t _first;
  size_t _used = 0;
  std::vector<uint8_t> _buf;
};

// Typical Kafka ratios are 2-10x; start there and double, so small batches allocate once.
size_t output_hint(size_t in_size) { return in_size > SIZE_MAX / 4 ? SIZE_MAX : in_size * 4; }

constexpr uInt uint_chunk(size_t n) { return static_cast<uInt>(std::min<size_t>(n, UINT_MAX)); }

// ---- gzip -------------------------------------------------------------------------------

constexpr int gzip_window_bits = 15 + 16;  // +16: gzip wrapper only (Java's GZIPInputStream)

result<std::vector<uint8_t>> gzip_decompress(std::span<const uint8_t> in, size_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, gzip_window_bits) != Z_OK) return compression_errc::codec_failure;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  bounded_output out(limit, output_hint(in.size()));
  size_t pos = 0;  // input bytes handed to zlib so far
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uint_chunk(in.size());
  pos = zs.avail_in;
  for (;;) {
    auto room = out.room();
    if (room.empty()) return compression_errc::output_too_large;
    zs.next_out = room.data();
    zs.avail_out = uint_chunk(room.size());
    uInt avail_out_before = zs.avail_out;
    uInt avail_in_before = zs.avail_in;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.commit(avail_out_before - zs.avail_out);
    if (out.over_limit()) return compression_errc::output_too_large;
    if (zs.avail_in == 0 && pos < in.size()) {  // refill (inputs over 4 GiB)
      zs.avail_in = uint_chunk(in.size() - pos);
      pos += zs.avail_in;
    }
    size_t remaining = zs.avail_in + (in.size() - pos);
    switch (rc) {
      case Z_STREAM_END:
        if (remaining == 0) return std::move(out).take();
        // Concatenated members (RFC 1952 §2.2); anything else after a member is garbage.
        if (remaining < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) return compression_errc::corrupt;
        if (inflateReset(&zs) != Z_OK) return compression_errc::codec_failure;
        break;
      case Z_OK:
        break;
      case Z_BUF_ERROR:  // no progress possible: output room exists, so input ran out
        if (remaining == 0) return compression_errc::truncated;
        if (zs.avail_in == avail_in_before && zs.avail_out == avail_out_before) return compression_errc::corrupt;
        break;
      case Z_MEM_ERROR:
        return compression_errc::codec_failure;
      default:  // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
        return compression_errc::corrupt;
    }
  }
}

result<std::vector<uint8_t>> gzip_compress(std::span<const uint8_t> in, int level) {
  if (level == compression_level_default) level = Z_DEFAULT_COMPRESSION;
  else if (level < 0 || level > 9) return compression_errc::bad_level;
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return compression_errc::codec_failure;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
  std::vector<uint8_t> out(deflateBound(&zs, in.size()));
  size_t in_pos = 0;
  size_t out_pos = 0;
  for (;;) {
    zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
    zs.avail_in = uint_chunk(in.size() - in_pos);
    if (out_pos == out.size()) out.resize(out.size() + 64 * 1024);  // deflateBound is exact; be safe
    zs.next_out = out.data() + out_pos;
    zs.avail_out = uint_chunk(out.size() - out_pos);
    uInt ai = zs.avail_in, ao = zs.avail_out;
    bool last_chunk = in.size() - in_pos == ai;
    int rc = deflate(&zs, last_chunk ? Z_FINISH : Z_NO_FLUSH);
    in_pos += ai - zs.avail_in;
    out_pos += ao - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return compression_errc::codec_failure;
  }
  out.resize(out_pos);
  return out;
}

// ---- snappy (xerial framing) ----------------------------------------------------------------

constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16;  // magic, int32 version, int32 compatible version
constexpr int32_t xerial_version = 1;
constexpr int32_t xerial_compatible_version = 1;
constexpr size_t xerial_block_size = 32 * 1024;  // snappy-java SnappyOutputStream default

bool starts_with_xerial_magic(std::span<const uint8_t> b) {
  return b.size() >= sizeof(xerial_magic) && std::memcmp(b.data(), xerial_magic, sizeof(xerial_magic)) == 0;
}

// One raw snappy block appended to `out`. The block's varint header states its decompressed
// length; snappy's densest element (a 3-byte copy of 64 bytes) bounds honest headers to
// 64/3 x the block size, so a lying header is refused before anything is allocated.
result<void> snappy_raw_block(std::span<const uint8_t> block, bounded_output& out) {
  if (block.empty()) return compression_errc::truncated;
  size_t ulen = 0;
  const char* src = reinterpret_cast<const char*>(block.data());
  if (!snappy::GetUncompressedLength(src, block.size(), &ulen)) return compression_errc::corrupt;
  if (block.size() <= SIZE_MAX / 22 && ulen > block.size() * 22) return compression_errc::corrupt;
  auto dst = out.reserve_exact(ulen);
  if (dst.size() != ulen) return compression_errc::output_too_large;
  if (ulen == 0) {
    // Only the varint: anything after it is garbage.
    if (block.size() != 1) return compression_errc::corrupt;
    return ok();
  }
  if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(dst.data()))) return compression_errc::corrupt;
  out.commit(ulen);
  return ok();
}

result<std::vector<uint8_t>> snappy_decompress(std::span<const uint8_t> in, size_t limit) {
  bounded_output out(limit, 0);
  if (!starts_with_xerial_magic(in)) {
    // Raw snappy (librdkafka accepts it; kafkajs' snappy plugins and old clients send it).
    auto r = snappy_raw_block(in, out);
    if (!r) return r.error();
    return std::move(out).take();
  }
  // Versions are not checked: snappy-java has only ever written 1/1 and librdkafka ignores them.
  size_t pos = 0;
  const size_t n = in.size();
  while (pos < n) {
    auto rest = in.subspan(pos);
    if (starts_with_xerial_magic(rest)) {  // first header, or a concatenated stream's header
      if (rest.size() < xerial_header_size) return compression_errc::truncated;
      pos += xerial_header_size;
      continue;
    }
    // A block length's top byte cannot be 0x82 (that would be negative), so no ambiguity.
    if (rest.size() < 4) return compression_errc::truncated;
    int32_t len = load_be<int32_t>(rest.data());
    if (len <= 0) return compression_errc::corrupt;
    if (static_cast<size_t>(len) > rest.size() - 4) return compression_errc::truncated;
    auto r = snappy_raw_block(rest.subspan(4, static_cast<size_t>(len)), out);
    if (!r) return r.error();
    pos += 4 + static_cast<size_t>(len);
  }
  return std::move(out).take();
}

result<std::vector<uint8_t>> snappy_compress(std::span<const uint8_t> in) {
  size_t blocks = (in.size() + xerial_block_size - 1) / xerial_block_size;
  std::vector<uint8_t> out(xerial_header_size + blocks * (4 + snappy::MaxCompressedLength(xerial_block_size)));
  std::memcpy(out.data(), xerial_magic, sizeof(xerial_magic));
  store_be<int32_t>(out.data() + 8, xerial_version);
  store_be<int32_t>(out.data() + 12, xerial_compatible_version);
  size_t out_pos = xerial_header_size;
  for (size_t off = 0; off < in.size(); off += xerial_block_size) {
    size_t len = std::min(xerial_block_size, in.size() - off);
    size_t clen = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + off), len,
                        reinterpret_cast<char*>(out.data() + out_pos + 4), &clen);
    store_be<int32_t>(out.data() + out_pos, static_cast<int32_t>(clen));
    out_pos += 4 + clen;
  }
  out.resize(out_pos);
  return out;
}

// ---- lz4 (frame format) -------------------------------------------------------------------

constexpr uint8_t lz4_frame_magic[4] = {0x04, 0x22, 0x4d, 0x18};  // 0x184D2204 little-endian
constexpr uint8_t lz4_flg_block_independence = 0x20;

result<std::vector<uint8_t>> lz4_decompress(std::span<const uint8_t> in, size_t limit) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return compression_errc::codec_failure;
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> dctx(raw, LZ4F_freeDecompressionContext);
  bounded_output out(limit, output_hint(in.size()));
  size_t pos = 0;
  bool at_frame_start = true;
  bool any_frame = false;
  for (;;) {
    if (at_frame_start) {
      if (pos == in.size()) {
        if (!any_frame) return compression_errc::truncated;
        return std::move(out).take();
      }
      // Kafka's Java reader refuses linked blocks; refuse them here so every consumer can read
      // what the broker accepted. (Skippable frames have another magic and pass through.)
      if (in.size() - pos >= 5 && std::memcmp(in.data() + pos, lz4_frame_magic, 4) == 0 &&
          !(in[pos + 4] & lz4_flg_block_independence))
        return compression_errc::unsupported_feature;
      at_frame_start = false;
    }
    auto room = out.room();
    if (room.empty()) return compression_errc::output_too_large;
    size_t dst_size = room.size();
    size_t src_size = in.size() - pos;
    size_t hint = LZ4F_decompress(dctx.get(), room.data(), &dst_size, in.data() + pos, &src_size, nullptr);
    // (Error codes beyond isError need liblz4's static-only API; any failure here is corrupt input.)
    if (LZ4F_isError(hint)) return compression_errc::corrupt;
    pos += src_size;
    out.commit(dst_size);
    if (out.over_limit()) return compression_errc::output_too_large;
    if (hint == 0) {  // frame complete; another may follow
      at_frame_start = true;
      any_frame = true;
      continue;
    }
    // Room was offered, so no output and no input consumed means the input ran out.
    if (src_size == 0 && dst_size == 0) {
      return pos == in.size() ? compression_errc::truncated : compression_errc::corrupt;
    }
  }
}

result<std::vector<uint8_t>> lz4_compress(std::span<const uint8_t> in, int level) {
  if (level == compression_level_default) level = 0;  // LZ4F default: fast
  else if (level < 1 || level > 17) return compression_errc::bad_level;
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;  // Kafka's Lz4BlockOutputStream default
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = 0;
  prefs.compressionLevel = std::min(level, LZ4F_compressionLevel_max());
  std::vector<uint8_t> out(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) return compression_errc::codec_failure;
  out.resize(n);
  return out;
}

// ---- zstd ---------------------------------------------------------------------------------

result<std::vector<uint8_t>> zstd_decompress(std::span<const uint8_t> in, size_t limit) {
  // A first frame that declares its size lets a bomb be refused before any work.
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR && declared > limit)
    return compression_errc::output_too_large;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return compression_errc::codec_failure;
  // 2^27 = 128 MiB: libzstd's default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, static-only API), which
  // every client's decoder also applies; stated so that it cannot drift with the library.
  constexpr int zstd_window_log_max = 27;
  if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, zstd_window_log_max)))
    return compression_errc::codec_failure;
  bounded_output out(limit, declared <= limit ? static_cast<size_t>(declared) : output_hint(in.size()));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    auto room = out.room();
    if (room.empty()) return compression_errc::output_too_large;
    ZSTD_outBuffer ob{room.data(), room.size(), 0};
    size_t in_before = ib.pos;
    size_t r = ZSTD_decompressStream(dctx.get(), &ob, &ib);
    if (ZSTD_isError(r)) {
      switch (ZSTD_getErrorCode(r)) {
        case ZSTD_error_memory_allocation: return compression_errc::codec_failure;
        case ZSTD_error_frameParameter_windowTooLarge: return compression_errc::unsupported_feature;
        default: return compression_errc::corrupt;
      }
    }
    out.commit(ob.pos);
    if (out.over_limit()) return compression_errc::output_too_large;
    if (r == 0) {  // a frame ended; more may follow
      if (ib.pos == ib.size) return std::move(out).take();
      continue;
    }
    // Output not full + input exhausted: the decoder flushed all it could and needs more input.
    if (ob.pos < ob.size && ib.pos == ib.size) return compression_errc::truncated;
    if (ob.pos == 0 && ib.pos == in_before) return compression_errc::corrupt;  // no progress
  }
}

result<std::vector<uint8_t>> zstd_compress(std::span<const uint8_t> in, int level) {
  if (level == compression_level_default) level = ZSTD_CLEVEL_DEFAULT;
  else if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) return compression_errc::bad_level;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) return compression_errc::codec_failure;
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level)))
    return compression_errc::bad_level;
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return compression_errc::codec_failure;
  out.resize(n);
  return out;
}

}  // namespace

const std::error_category& compression_category() {
  static compression_category_impl c;
  return c;
}

result<std::vector<uint8_t>> decompress(compression codec, std::span<const uint8_t> in, size_t max_output_bytes) {
  switch (codec) {
    case compression::gzip: return gzip_decompress(in, max_output_bytes);
    case compression::snappy: return snappy_decompress(in, max_output_bytes);
    case compression::lz4: return lz4_decompress(in, max_output_bytes);
    case compression::zstd: return zstd_decompress(in, max_output_bytes);
    case compression::none: break;
  }
  return compression_errc::unsupported_codec;
}

result<std::vector<uint8_t>> compress(compression codec, std::span<const uint8_t> in, int level) {
  switch (codec) {
    case compression::gzip: return gzip_compress(in, level);
    case compression::snappy: return snappy_compress(in);
    case compression::lz4: return lz4_compress(in, level);
    case compression::zstd: return zstd_compress(in, level);
    case compression::none: break;
  }
  return compression_errc::unsupported_codec;
}

}  // namespace sluice::model
