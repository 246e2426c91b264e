#include "util/file_text.hpp"

#include <fstream>
#include <iterator>

namespace kws {

bool read_file_text(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return false;
  out.assign(std::istreambuf_iterator<char>{in}, {});
  return !in.bad();
}

} // namespace kws
