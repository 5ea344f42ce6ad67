// libFuzzer target: the strategy config parser never crashes on arbitrary YAML (it returns a
// status); a document that parses also yields strategies that can be instantiated.
#include <cstddef>
#include <cstdint>
#include <string>

#include "strategy_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const YAML::Exception&) {
    return 0;  // not YAML: runtime::LoadYamlFile reports it before the parser runs
  }
  auto config = tickmesh::signal::ParseStrategyConfig(root, tickmesh::signal::MacdCrossParams{});
  if (config.ok()) {
    for (const auto& spec : config->strategies) {
      if (spec.Make() == nullptr) __builtin_trap();
    }
  }
  return 0;
}
