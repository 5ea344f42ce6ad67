// Hyperliquid L1-action signing building blocks: a minimal MessagePack writer for action
// objects, keccak-256, the action hash, and the EIP-712 "phantom agent" signature
// (secp256k1, recoverable, RFC 6979 deterministic nonces), as the venue's exchange endpoint and
// its official Python SDK define them. Verified against the SDK's published signing vectors.
//
// This is NOT an OrderApi: Hyperliquid orders are not supported yet (no asset-index table,
// cloid mapping or /exchange request/response codec); see libs/venues/README.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tickmesh::venues {

// Appends MessagePack encodings exactly as msgpack-python packs the same Python values (maps and
// arrays with their element count first, str as fixstr/str8/str16/str32, non-negative ints in the
// smallest form, bools). Keys are written in the order the caller writes them, which must be the
// order of the Python dict the venue hashes ("type" first, ...).
class MsgpackWriter {
 public:
  MsgpackWriter& Map(uint32_t entries);
  MsgpackWriter& Array(uint32_t items);
  MsgpackWriter& Str(std::string_view s);
  MsgpackWriter& UInt(uint64_t v);
  MsgpackWriter& Bool(bool b);
  MsgpackWriter& Nil();
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// Raw 32-byte keccak-256 (the original Keccak padding Ethereum uses, not SHA3-256).
std::string Keccak256(std::string_view bytes);

// keccak256(msgpack(action) || nonce as 8 bytes big-endian || 0x00, or 0x01 || vault address
// (20 bytes) when a vault is given). vault_address is "0x" + 40 hex digits; INVALID_ARGUMENT
// otherwise.
absl::StatusOr<std::string> HyperliquidActionHash(std::string_view msgpack_action, uint64_t nonce,
                                                  std::optional<std::string_view> vault_address);

struct HyperliquidSignature {
  std::string r;  // "0x" + 64 lower-case hex digits
  std::string s;  // "0x" + 64 lower-case hex digits
  int v = 0;      // 27 or 28
};

// Signs an L1 action: EIP-712 typed data Agent{source: "a" (mainnet) | "b" (testnet),
// connectionId: action hash} in domain {name "Exchange", version "1", chainId 1337,
// verifyingContract 0x0}. private_key_hex is "0x" + 64 hex digits (the "0x" optional);
// INVALID_ARGUMENT for a malformed or out-of-range key. Thread-safe.
absl::StatusOr<HyperliquidSignature> HyperliquidSignL1Action(
    std::string_view private_key_hex, std::string_view msgpack_action, uint64_t nonce, bool mainnet,
    std::optional<std::string_view> vault_address = std::nullopt);

// The account address ("0x" + 40 lower-case hex digits) of a private key.
absl::StatusOr<std::string> HyperliquidAddress(std::string_view private_key_hex);

}  // namespace tickmesh::venues
