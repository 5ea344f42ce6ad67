// Stand-alone driver for libFuzzer targets (LLVMFuzzerTestOneInput) when the build is not a
// clang -fsanitize=fuzzer build: replays every file of the given corpus files/directories, then a
// bounded number of deterministic mutations of them (bit flips, truncation, insertion, splicing),
// so each fuzz target doubles as a smoke test in ctest. Exit 0 unless an input crashes.
//   <target> [--runs N] [--seed S] CORPUS...
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> LoadCorpus(const std::vector<std::string>& paths) {
  std::vector<std::string> inputs;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(p)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    } else {
      std::ifstream in(p, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "fuzz driver: cannot read %s\n", p.c_str());
        std::exit(2);
      }
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return inputs;
}

std::string Mutate(const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  std::string s = corpus.empty() ? std::string() : corpus[rng() % corpus.size()];
  int edits = 1 + int(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng() % s.size()] ^= char(1 << (rng() % 8));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert random bytes
        s.insert(s.empty() ? 0 : rng() % s.size(), std::string(1 + rng() % 8, char(rng())));
        break;
      case 3:  // replace a byte with an interesting one
        if (!s.empty()) {
          const char interesting[] = {'\0', '"', '{', '}', '[', ']', ',', ':', '-', '9', '\xff'};
          s[rng() % s.size()] = interesting[rng() % sizeof(interesting)];
        }
        break;
      case 4:  // splice with another input
        if (!corpus.empty()) {
          const std::string& other = corpus[rng() % corpus.size()];
          if (!other.empty()) s += other.substr(rng() % other.size());
        }
        break;
      default:  // duplicate a slice
        if (s.size() > 1) {
          size_t a = rng() % s.size();
          s.insert(a, s.substr(a, rng() % (s.size() - a)));
        }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 5000;
  uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      paths.emplace_back(argv[i]);
    }
  }
  std::vector<std::string> corpus = LoadCorpus(paths);
  for (const auto& input : corpus) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) {
    std::string input = Mutate(corpus, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz driver: %zu corpus inputs and %ld mutations, no crash\n", corpus.size(), runs);
  return 0;
}
