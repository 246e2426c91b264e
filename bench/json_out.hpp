// The bench result: one flat JSON object of named numbers, built in the
// order the phases measure and written to --out (or stdout).
#pragma once

#include "bench/bench_options.hpp"

#include <cstdio>
#include <string>

namespace kws::bench {

struct json_out {
  std::string s = "{";
  bool first = true;
  void key(const char* k) {
    if (!first)
      s += ",";
    first = false;
    s += "\n  \"";
    s += k;
    s += "\": ";
  }
  void num(const char* k, double v) {
    key(k);
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    s += b;
  }
  void str(const char* k, const std::string& v) {
    key(k);
    s += '"' + v + '"';
  }
};

/// Writes `js` to `opt.out`, or to stdout without one.
int write_json(const options& opt, json_out& js);

} // namespace kws::bench
