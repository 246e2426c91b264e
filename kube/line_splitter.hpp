// Splits the de-chunked body of a watch response into JSON documents.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

/// Incremental splitter for a stream of JSON documents.
///
/// HTTP chunk boundaries have nothing to do with event boundaries, so bytes
/// are fed as they arrive. A document ends at a newline (Go's `json.Encoder`
/// appends one) or, for servers that send no newlines, when its outermost
/// object closes. A small scanner tracks brace depth and skips string
/// literals, so braces and escaped quotes inside strings never confuse it.
/// A raw newline inside an unfinished document ends that document anyway:
/// compact JSON never holds one, and the parser then reports the fragment as
/// malformed instead of the splitter swallowing the rest of the stream.
/// Bytes are never decoded, so UTF-8 sequences split across feeds survive.
class line_splitter {
public:
  /// Feeds bytes and calls `f(std::string_view doc)` for every complete
  /// document, in order. The view is valid only during the call.
  template <class F>
  void feed(std::string_view data, F&& f) {
    size_t start = 0; // first byte of `data` not yet copied to `partial_`
    for (size_t i = next_significant(data, 0); i < data.size();
         i = next_significant(data, i + 1)) {
      auto c = data[i];
      switch (scan(c)) {
        case step::skip: start = i + 1; break;
        case step::keep: break;
        case step::end_before: // newline: the document ends before it
          emit(data, start, i, f);
          start = i + 1;
          break;
        case step::end_after: // closing brace at depth 0
          emit(data, start, i + 1, f);
          start = i + 1;
          break;
      }
    }
    if (start < data.size() && in_document())
      partial_.append(data.substr(start));
  }

  /// Convenience overload that copies the documents.
  std::vector<std::string> feed(std::string_view data);

  /// Ends the stream: returns the unfinished trailing bytes ("" when the
  /// stream ended on a document boundary) and resets the splitter.
  std::string finish();

  /// Number of bytes of an unfinished document held back.
  size_t pending() const { return partial_.size(); }

private:
  enum class step { skip, keep, end_before, end_after };

  bool in_document() const { return depth_ > 0 || garbage_; }

  step scan(char c);

  /// The first position from `i` on whose byte `scan` must see; every byte
  /// before it is kept without changing the state (string contents, the
  /// members between brackets, the rest of a garbage line). Skipping them
  /// in a tight loop makes splitting cheap beside parsing.
  size_t next_significant(std::string_view data, size_t i) const;

  template <class F>
  void emit(std::string_view data, size_t start, size_t end, F& f) {
    if (partial_.empty()) {
      auto doc = trim(data.substr(start, end - start));
      if (!doc.empty())
        f(doc);
    } else {
      partial_.append(data.substr(start, end - start));
      auto doc = trim(partial_);
      if (!doc.empty())
        f(doc);
      partial_.clear();
    }
    reset_state();
  }

  static std::string_view trim(std::string_view x);

  void reset_state() {
    depth_ = 0;
    in_string_ = false;
    escape_ = false;
    garbage_ = false;
  }

  std::string partial_;
  size_t depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  /// A document that does not start with '{' (garbage); ends at a newline.
  bool garbage_ = false;
};

} // namespace kws::kube
