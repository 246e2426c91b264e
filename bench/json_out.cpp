// Closes the JSON object and writes it where the options say.
#include "bench/json_out.hpp"

#include <cstdio>

namespace kws::bench {

int write_json(const options& opt, json_out& js) {
  js.s += "\n}\n";
  if (opt.out.empty()) {
    std::fputs(js.s.c_str(), stdout);
    return 0;
  }
  auto* f = std::fopen(opt.out.c_str(), "w");
  if (f == nullptr) {
    std::perror(opt.out.c_str());
    return 1;
  }
  std::fputs(js.s.c_str(), f);
  std::fclose(f);
  return 0;
}

} // namespace kws::bench
