// Fuzzes the kubeconfig loader: parsing, client-go's merge of several files
// and the resolution of the current context.
//
// Input: kubeconfig files separated by NUL bytes (YAML never holds one),
// merged in order.

#include "kube/kubeconfig.hpp"

#include "tests/fuzz/support.hpp"

#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = kws::fuzz::as_text(data, size);
  // A kubeconfig may name files to read (certificate-authority, ...). Device
  // and process files would block or be huge, which says nothing about the
  // parser; relative names resolve below a directory that does not exist.
  for (auto special : {"/dev", "/proc", "/sys", "/run"})
    if (text.find(special) != std::string_view::npos)
      return 0;
  std::vector<std::pair<std::string, std::string>> files;
  size_t index = 0;
  while (true) {
    auto end = text.find('\0');
    files.emplace_back("/nonexistent-kws-fuzz/kubeconfig-"
                         + std::to_string(index++),
                       std::string{text.substr(0, end)});
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  if (auto cfg = kws::kube::load_kubeconfig_documents(files))
    kws::fuzz::check(!cfg->server.empty(), "a configuration without server");
  return 0;
}
