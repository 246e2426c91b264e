#include "kube/object_facts_reader.hpp"

namespace kws::kube {

namespace {

// As deep as the record builder accepts an object; deeper ones take the
// full parse, which refuses them with its own message.
constexpr size_t max_depth = 512;

} // namespace

void object_facts_reader::expect(field f) {
  auto bit = uint32_t{1} << static_cast<unsigned>(f);
  if ((seen_.back() & bit) != 0)
    spoiled_ = true;
  seen_.back() |= bit;
  pending_ = f;
}

void object_facts_reader::push(frame f) {
  frames_.push_back(f);
  seen_.push_back(0);
  if (frames_.size() > max_depth)
    spoiled_ = true;
}

void object_facts_reader::pop() {
  if (!frames_.empty()) {
    frames_.pop_back();
    seen_.pop_back();
  }
}

void object_facts_reader::start_object() {
  auto want = pending_;
  pending_ = field::none;
  if (!started_) {
    started_ = true;
    push(frame::root);
    return;
  }
  if (frames_.empty()) {
    spoiled_ = true;
    return;
  }
  if (want == field::metadata) {
    seen_metadata_object_ = true;
    push(frame::metadata);
  } else if (frames_.back() == frame::managed_fields) {
    facts_.managers.emplace_back();
    push(frame::entry);
  } else {
    // Any field expected as a string that holds an object instead.
    if (want != field::none)
      spoiled_ = true;
    push(frame::other);
  }
}

void object_facts_reader::end_object() {
  pending_ = field::none;
  pop();
}

void object_facts_reader::start_array() {
  auto want = pending_;
  pending_ = field::none;
  if (!started_) {
    // Not an object: the full parse says so.
    started_ = true;
    spoiled_ = true;
    push(frame::other);
    return;
  }
  if (want == field::managed_fields) {
    push(frame::managed_fields);
    return;
  }
  if (want != field::none
      || (!frames_.empty() && frames_.back() == frame::managed_fields))
    spoiled_ = true;
  push(frame::other);
}

void object_facts_reader::end_array(size_t at) {
  pending_ = field::none;
  if (!frames_.empty() && frames_.back() == frame::managed_fields)
    facts_.managed_fields_end = at;
  pop();
}

void object_facts_reader::key(std::string_view name, size_t at) {
  pending_ = field::none;
  if (frames_.empty())
    return;
  switch (frames_.back()) {
    case frame::root:
      if (name == "apiVersion")
        expect(field::api_version);
      else if (name == "kind")
        expect(field::kind);
      else if (name == "metadata")
        expect(field::metadata);
      break;
    case frame::metadata:
      if (name == "name")
        expect(field::name);
      else if (name == "namespace")
        expect(field::ns);
      else if (name == "uid")
        expect(field::uid);
      else if (name == "resourceVersion")
        expect(field::resource_version);
      else if (name == "creationTimestamp")
        expect(field::creation_timestamp);
      else if (name == "managedFields") {
        facts_.has_managed_fields = true;
        facts_.managed_fields_key_end = at;
        expect(field::managed_fields);
      }
      break;
    case frame::entry:
      if (name == "manager")
        expect(field::manager);
      else if (name == "time")
        expect(field::time);
      break;
    default: break;
  }
}

void object_facts_reader::string(std::string_view value) {
  auto want = pending_;
  pending_ = field::none;
  switch (want) {
    case field::api_version: facts_.api_version.assign(value); break;
    case field::kind: facts_.kind.assign(value); break;
    case field::name: facts_.name.assign(value); break;
    case field::ns: facts_.ns.assign(value); break;
    case field::uid: facts_.uid.assign(value); break;
    case field::resource_version: facts_.resource_version.assign(value); break;
    case field::creation_timestamp:
      facts_.creation_timestamp.assign(value);
      break;
    case field::manager: facts_.managers.back().manager.assign(value); break;
    case field::time: facts_.managers.back().time.assign(value); break;
    case field::none: break;
    // metadata or managedFields holding a string.
    default: spoiled_ = true; break;
  }
  if (!frames_.empty() && frames_.back() == frame::managed_fields)
    spoiled_ = true;
}

void object_facts_reader::scalar() {
  if (pending_ != field::none
      || (!frames_.empty() && frames_.back() == frame::managed_fields))
    spoiled_ = true;
  pending_ = field::none;
  if (!started_) {
    started_ = true;
    spoiled_ = true;
  }
}

object_facts object_facts_reader::take() {
  facts_.complete = done() && !spoiled_ && seen_metadata_object_;
  return std::move(facts_);
}

} // namespace kws::kube
