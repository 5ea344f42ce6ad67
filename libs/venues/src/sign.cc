// OpenSSL's low-level SHA-2 contexts let an HMAC key schedule be computed once and copied per
// signature (two compressions saved per call, and no EVP provider lookups on the hot path). They
// are deprecated in OpenSSL 3 but still exported; the warning is silenced here only.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "tickmesh/venues/sign.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "util.h"

namespace tickmesh::venues {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string ToHex(const unsigned char* bytes, size_t n) {
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

namespace internal {

void AppendChecksumDigits(int64_t value_e8, int decimals, std::string* out) {
  if (value_e8 <= 0) return;  // "0.000" strips to nothing; negatives never occur in a book
  uint64_t v = static_cast<uint64_t>(value_e8);
  int extra_zeros = 0;
  if (decimals <= 8) {
    for (int k = decimals; k < 8; ++k) v /= 10;
  } else {
    extra_zeros = decimals - 8;
  }
  if (v != 0) absl::StrAppend(out, v);
  if (v != 0) out->append(static_cast<size_t>(extra_zeros), '0');
}

}  // namespace internal

namespace {
using internal::AppendChecksumDigits;
}  // namespace

struct HmacKey::State {
  Hash hash;
  SHA256_CTX inner256, outer256;
  SHA512_CTX inner512, outer512;
};

HmacKey::HmacKey(Hash hash, std::string_view key) : state_(std::make_unique<State>()) {
  state_->hash = hash;
  const size_t block = hash == Hash::kSha256 ? SHA256_CBLOCK : SHA512_CBLOCK;
  unsigned char k[SHA512_CBLOCK] = {0};
  if (key.size() > block) {
    if (hash == Hash::kSha256) {
      SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
    } else {
      SHA512(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
    }
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char ipad[SHA512_CBLOCK], opad[SHA512_CBLOCK];
  for (size_t i = 0; i < block; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  if (hash == Hash::kSha256) {
    SHA256_Init(&state_->inner256);
    SHA256_Update(&state_->inner256, ipad, block);
    SHA256_Init(&state_->outer256);
    SHA256_Update(&state_->outer256, opad, block);
  } else {
    SHA512_Init(&state_->inner512);
    SHA512_Update(&state_->inner512, ipad, block);
    SHA512_Init(&state_->outer512);
    SHA512_Update(&state_->outer512, opad, block);
  }
  OPENSSL_cleanse(k, sizeof(k));
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
}

HmacKey::~HmacKey() {
  if (state_) OPENSSL_cleanse(state_.get(), sizeof(State));
}

std::string HmacKey::Mac(std::initializer_list<std::string_view> parts) const {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  if (state_->hash == Hash::kSha256) {
    SHA256_CTX ctx = state_->inner256;
    for (std::string_view p : parts) SHA256_Update(&ctx, p.data(), p.size());
    SHA256_Final(digest, &ctx);
    ctx = state_->outer256;
    SHA256_Update(&ctx, digest, SHA256_DIGEST_LENGTH);
    SHA256_Final(digest, &ctx);
    return std::string(reinterpret_cast<char*>(digest), SHA256_DIGEST_LENGTH);
  }
  SHA512_CTX ctx = state_->inner512;
  for (std::string_view p : parts) SHA512_Update(&ctx, p.data(), p.size());
  SHA512_Final(digest, &ctx);
  ctx = state_->outer512;
  SHA512_Update(&ctx, digest, SHA512_DIGEST_LENGTH);
  SHA512_Final(digest, &ctx);
  return std::string(reinterpret_cast<char*>(digest), SHA512_DIGEST_LENGTH);
}

std::string HmacKey::Hex(std::initializer_list<std::string_view> parts) const {
  const std::string mac = Mac(parts);
  return ToHex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return HmacKey(HmacKey::Hash::kSha256, key).Hex({data});
}

std::string Base64Encode(std::string_view bytes) { return absl::Base64Escape(internal::AV(bytes)); }

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  // absl::Base64Unescape tolerates missing padding and whitespace; be strict instead.
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("not valid base64 (length)");
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool pad_ok =
        c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alnum && c != '+' && c != '/' && !pad_ok) {
      return absl::InvalidArgumentError("not valid base64");
    }
  }
  std::string out;
  if (!absl::Base64Unescape(internal::AV(text), &out))
    return absl::InvalidArgumentError("not valid base64");
  return out;
}

std::string BinanceSignature(std::string_view secret, std::string_view payload) {
  return HmacKey(HmacKey::Hash::kSha256, secret).Hex({payload});
}

absl::StatusOr<std::string> KrakenSignature(std::string_view base64_secret,
                                            std::string_view uri_path, std::string_view nonce,
                                            std::string_view post_data) {
  auto secret = Base64Decode(base64_secret);
  if (!secret.ok()) return absl::InvalidArgumentError("kraken secret is not valid base64");
  unsigned char sha[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, nonce.data(), nonce.size());
  SHA256_Update(&ctx, post_data.data(), post_data.size());
  SHA256_Final(sha, &ctx);
  HmacKey key(HmacKey::Hash::kSha512, *secret);
  OPENSSL_cleanse(secret->data(), secret->size());
  return Base64Encode(
      key.Mac({uri_path, std::string_view(reinterpret_cast<const char*>(sha), sizeof(sha))}));
}

std::string BybitSignature(std::string_view secret, int64_t timestamp_ms, std::string_view api_key,
                           int64_t recv_window_ms, std::string_view payload) {
  const std::string ts = absl::StrCat(timestamp_ms);
  const std::string rw = absl::StrCat(recv_window_ms);
  return HmacKey(HmacKey::Hash::kSha256, secret).Hex({ts, api_key, rw, payload});
}

uint32_t Crc32(std::string_view bytes) {
  // zlib's crc32 is the IEEE polynomial with a sliced/vectorised implementation.
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(bytes.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), chunk);
    bytes.remove_prefix(chunk);
  }
  return static_cast<uint32_t>(crc);
}

std::string KrakenChecksumInput(absl::Span<const KrakenChecksumLevel> asks_best_first,
                                absl::Span<const KrakenChecksumLevel> bids_best_first) {
  std::string s;
  s.reserve(640);
  for (size_t i = 0; i < asks_best_first.size() && i < 10; ++i) {
    AppendChecksumDigits(asks_best_first[i].price_e8, asks_best_first[i].price_decimals, &s);
    AppendChecksumDigits(asks_best_first[i].qty_e8, asks_best_first[i].qty_decimals, &s);
  }
  for (size_t i = 0; i < bids_best_first.size() && i < 10; ++i) {
    AppendChecksumDigits(bids_best_first[i].price_e8, bids_best_first[i].price_decimals, &s);
    AppendChecksumDigits(bids_best_first[i].qty_e8, bids_best_first[i].qty_decimals, &s);
  }
  return s;
}

uint32_t KrakenBookChecksum(absl::Span<const KrakenChecksumLevel> asks_best_first,
                            absl::Span<const KrakenChecksumLevel> bids_best_first) {
  return Crc32(KrakenChecksumInput(asks_best_first, bids_best_first));
}

}  // namespace tickmesh::venues
