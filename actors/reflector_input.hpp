// What the transport of a reflector (and its timers) sends to the actor that
// drives it: each answer carries the generation of the command it answers.
#pragma once

#include "kube/lister_watcher.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <variant>

namespace kws {

/// A `wait` of the machine is over.
struct reflector_timer {};

/// The answer to a list page: a response, or a transport error.
struct reflector_page {
  kube::response res;
  caf::error error;
};

/// The answer to opening a watch: the opening, or a transport error.
struct reflector_opening {
  kube::watch_opening opening;
  caf::error error;
};

/// One input of a reflector driver.
struct reflector_input {
  uint64_t gen = 0;
  std::variant<reflector_timer, reflector_page, reflector_opening,
               kube::watch_chunk>
    what;
};

} // namespace kws

// Holds a live stream: handed between the threads of one process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kws::reflector_input)
