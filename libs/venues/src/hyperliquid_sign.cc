#include "tickmesh/venues/hyperliquid_sign.h"

#include <cryptopp/keccak.h>
#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "util.h"

namespace tickmesh::venues {
namespace {

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

absl::StatusOr<std::string> HexToBytes(std::string_view hex, size_t bytes, std::string_view what) {
  if (hex.substr(0, 2) == "0x" || hex.substr(0, 2) == "0X") hex.remove_prefix(2);
  if (hex.size() != 2 * bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::AV(what), " must be ", 2 * bytes, " hex digits"));
  }
  std::string out(bytes, '\0');
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < bytes; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return absl::InvalidArgumentError(absl::StrCat(internal::AV(what), " is not hex"));
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0xf]);
  }
  return out;
}

const secp256k1_context* Context() {
  // Signing/verification contexts are immutable after creation and safe to share.
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c =
        secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    return c;
  }();
  return ctx;
}

absl::StatusOr<std::string> SecretKey(std::string_view private_key_hex) {
  auto key = HexToBytes(private_key_hex, 32, "private key");
  if (!key.ok()) return absl::InvalidArgumentError("private key must be 64 hex digits");
  if (!secp256k1_ec_seckey_verify(Context(), reinterpret_cast<const unsigned char*>(key->data()))) {
    OPENSSL_cleanse(key->data(), key->size());
    return absl::InvalidArgumentError("private key is out of range for secp256k1");
  }
  return key;
}

}  // namespace

MsgpackWriter& MsgpackWriter::Map(uint32_t entries) {
  if (entries < 16) {
    out_.push_back(static_cast<char>(0x80 | entries));
  } else if (entries <= 0xffff) {
    out_.push_back(static_cast<char>(0xde));
    PutBigEndian(entries, 2, &out_);
  } else {
    out_.push_back(static_cast<char>(0xdf));
    PutBigEndian(entries, 4, &out_);
  }
  return *this;
}

MsgpackWriter& MsgpackWriter::Array(uint32_t items) {
  if (items < 16) {
    out_.push_back(static_cast<char>(0x90 | items));
  } else if (items <= 0xffff) {
    out_.push_back(static_cast<char>(0xdc));
    PutBigEndian(items, 2, &out_);
  } else {
    out_.push_back(static_cast<char>(0xdd));
    PutBigEndian(items, 4, &out_);
  }
  return *this;
}

MsgpackWriter& MsgpackWriter::Str(std::string_view s) {
  const size_t n = s.size();
  if (n < 32) {
    out_.push_back(static_cast<char>(0xa0 | n));
  } else if (n <= 0xff) {
    out_.push_back(static_cast<char>(0xd9));
    PutBigEndian(n, 1, &out_);
  } else if (n <= 0xffff) {
    out_.push_back(static_cast<char>(0xda));
    PutBigEndian(n, 2, &out_);
  } else {
    out_.push_back(static_cast<char>(0xdb));
    PutBigEndian(n, 4, &out_);
  }
  out_.append(s);
  return *this;
}

MsgpackWriter& MsgpackWriter::UInt(uint64_t v) {
  if (v < 128) {
    out_.push_back(static_cast<char>(v));
  } else if (v <= 0xff) {
    out_.push_back(static_cast<char>(0xcc));
    PutBigEndian(v, 1, &out_);
  } else if (v <= 0xffff) {
    out_.push_back(static_cast<char>(0xcd));
    PutBigEndian(v, 2, &out_);
  } else if (v <= 0xffffffffULL) {
    out_.push_back(static_cast<char>(0xce));
    PutBigEndian(v, 4, &out_);
  } else {
    out_.push_back(static_cast<char>(0xcf));
    PutBigEndian(v, 8, &out_);
  }
  return *this;
}

MsgpackWriter& MsgpackWriter::Bool(bool b) {
  out_.push_back(static_cast<char>(b ? 0xc3 : 0xc2));
  return *this;
}

MsgpackWriter& MsgpackWriter::Nil() {
  out_.push_back(static_cast<char>(0xc0));
  return *this;
}

std::string Keccak256(std::string_view bytes) {
  CryptoPP::Keccak_256 h;
  h.Update(reinterpret_cast<const CryptoPP::byte*>(bytes.data()), bytes.size());
  std::string out(32, '\0');
  h.Final(reinterpret_cast<CryptoPP::byte*>(out.data()));
  return out;
}

absl::StatusOr<std::string> HyperliquidActionHash(std::string_view msgpack_action, uint64_t nonce,
                                                  std::optional<std::string_view> vault_address) {
  std::string data(msgpack_action);
  PutBigEndian(nonce, 8, &data);
  if (vault_address.has_value()) {
    auto vault = HexToBytes(*vault_address, 20, "vault address");
    if (!vault.ok()) return vault.status();
    data.push_back('\x01');
    data += *vault;
  } else {
    data.push_back('\x00');
  }
  return Keccak256(data);
}

absl::StatusOr<HyperliquidSignature> HyperliquidSignL1Action(
    std::string_view private_key_hex, std::string_view msgpack_action, uint64_t nonce, bool mainnet,
    std::optional<std::string_view> vault_address) {
  auto key = SecretKey(private_key_hex);
  if (!key.ok()) return key.status();
  auto connection_id = HyperliquidActionHash(msgpack_action, nonce, vault_address);
  if (!connection_id.ok()) return connection_id.status();

  // EIP-712: domain separator of {name, version, chainId, verifyingContract}.
  std::string domain = Keccak256(
      "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
  domain += Keccak256("Exchange");
  domain += Keccak256("1");
  std::string chain_id(32, '\0');
  chain_id[30] = static_cast<char>(1337 >> 8);
  chain_id[31] = static_cast<char>(1337 & 0xff);
  domain += chain_id;
  domain += std::string(32, '\0');  // verifyingContract 0x000...0, left-padded
  const std::string domain_separator = Keccak256(domain);
  // Agent{string source, bytes32 connectionId}.
  std::string agent = Keccak256("Agent(string source,bytes32 connectionId)");
  agent += Keccak256(mainnet ? "a" : "b");
  agent += *connection_id;
  const std::string struct_hash = Keccak256(agent);
  const std::string digest = Keccak256(std::string("\x19\x01", 2) + domain_separator + struct_hash);

  secp256k1_ecdsa_recoverable_signature sig;
  const int ok = secp256k1_ecdsa_sign_recoverable(
      Context(), &sig, reinterpret_cast<const unsigned char*>(digest.data()),
      reinterpret_cast<const unsigned char*>(key->data()), nullptr, nullptr);
  OPENSSL_cleanse(key->data(), key->size());
  if (!ok) return absl::InternalError("secp256k1 signing failed");
  unsigned char compact[64];
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Context(), compact, &recid, &sig);
  HyperliquidSignature out;
  out.r = Hex(compact, 32);
  out.s = Hex(compact + 32, 32);
  out.v = 27 + recid;
  return out;
}

absl::StatusOr<std::string> HyperliquidAddress(std::string_view private_key_hex) {
  auto key = SecretKey(private_key_hex);
  if (!key.ok()) return key.status();
  secp256k1_pubkey pub;
  const int ok = secp256k1_ec_pubkey_create(Context(), &pub,
                                            reinterpret_cast<const unsigned char*>(key->data()));
  OPENSSL_cleanse(key->data(), key->size());
  if (!ok) return absl::InternalError("secp256k1 public key derivation failed");
  unsigned char serialized[65];
  size_t len = sizeof(serialized);
  secp256k1_ec_pubkey_serialize(Context(), serialized, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  const std::string hash =
      Keccak256(std::string_view(reinterpret_cast<const char*>(serialized + 1), len - 1));
  return Hex(reinterpret_cast<const unsigned char*>(hash.data()) + 12, 20);
}

}  // namespace tickmesh::venues
