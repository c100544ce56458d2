// Times Debian's libapt-pkg version comparison (debVS.CmpVersion) over a pair file, for
// bench/vercmp-vs-apt.sh to set beside Rampart's deb::compare on the same pairs.
//
// Usage: vercmp-apt PAIRS.tsv   (one "A<TAB>B" pair a line)
// Prints the best of five timed runs in ns per comparison, and how many pairs compared
// <, = and >, so the two implementations can be seen to agree on the pairs as well.

#include <apt-pkg/debversion.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

// Keeps the compiler from dropping or hoisting the (pure) comparison calls.
inline void keep(int value) { asm volatile("" : : "r"(value) : "memory"); }

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " PAIRS.tsv\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    pairs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  if (pairs.empty()) {
    std::cerr << "no pairs in " << argv[1] << "\n";
    return 2;
  }

  long less = 0, equal = 0, greater = 0;
  for (const auto &[a, b] : pairs) {
    int r = debVS.CmpVersion(a, b);
    (r < 0 ? less : r == 0 ? equal : greater)++;
  }

  // Enough rounds for about half a second a run.
  const long rounds = std::max(1L, 25'000'000L / static_cast<long>(pairs.size()));
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (long round = 0; round < rounds; ++round) {
      for (const auto &[a, b] : pairs) keep(debVS.CmpVersion(a, b));
    }
    std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / static_cast<double>(rounds * pairs.size()));
  }
  std::printf("libapt-pkg debVS.CmpVersion: %.1f ns/comparison (%zu pairs x %ld rounds, best of 5; <%ld =%ld >%ld)\n",
              best, pairs.size(), rounds, less, equal, greater);
  return 0;
}
