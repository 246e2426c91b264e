// Coverage gaps in the `meta` column family: written with the relist that
// closes them, read by `rocks_store::coverage`, dropped with their day.
#include "storage/coverage.hpp"

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <memory>
#include <tuple>

namespace kws::storage {

std::string gap_key(const coverage_gap& gap) {
  auto key = gap_seek_key(gap.end_ns);
  append_ts(key, gap.start_ns);
  key.append(gap.group_resource);
  return key;
}

std::string gap_seek_key(int64_t end_ns) {
  std::string key{gap_key_prefix};
  append_ts(key, end_ns);
  return key;
}

std::string encode_gap(const coverage_gap& gap) {
  std::string out;
  append_length_prefixed(out, gap.group_resource);
  append_ts(out, gap.start_ns);
  append_ts(out, gap.end_ns);
  append_length_prefixed(out, gap.from_resource_version);
  append_length_prefixed(out, gap.to_resource_version);
  append_length_prefixed(out, gap.reason);
  return out;
}

std::optional<coverage_gap> decode_gap(std::string_view in) {
  coverage_gap gap;
  if (!read_length_prefixed(in, gap.group_resource) || in.size() < 16)
    return std::nullopt;
  gap.start_ns = read_ts(in);
  gap.end_ns = read_ts(in.substr(8));
  in.remove_prefix(16);
  if (!read_length_prefixed(in, gap.from_resource_version)
      || !read_length_prefixed(in, gap.to_resource_version)
      || !read_length_prefixed(in, gap.reason) || !in.empty())
    return std::nullopt;
  return gap;
}

caf::expected<std::vector<coverage_gap>>
rocks_store::coverage(const coverage_query& q) const {
  // The successor of the prefix bounds the scan.
  std::string upper{gap_key_prefix};
  ++upper.back();
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(ro, impl_->meta_cf.get())};
  std::vector<coverage_gap> result;
  for (it->Seek(gap_seek_key(q.start_ns)); it->Valid(); it->Next()) {
    auto gap = decode_gap(it->value().ToStringView());
    if (!gap)
      return caf::make_error(ec::storage_failure,
                             "cannot decode a coverage gap of the store");
    if (gap->start_ns <= q.end_ns)
      result.push_back(std::move(*gap));
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read coverage gaps");
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return std::tie(a.start_ns, a.group_resource)
      < std::tie(b.start_ns, b.group_resource);
  });
  return result;
}

} // namespace kws::storage
