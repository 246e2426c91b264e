// A handle to an actor for callbacks that run on other threads (the kube
// client's io thread): it does not keep the actor alive, and a message to an
// actor that has stopped goes nowhere.
#pragma once

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include <optional>
#include <utility>

namespace kws {

template <class Handle>
class weak_handle {
public:
  template <class Self>
  explicit weak_handle(Self* self) : weak_{self->ctrl()} {}

  /// The actor's handle while it runs.
  std::optional<Handle> lock() const {
    if (auto strong = weak_.lock())
      return caf::actor_cast<Handle>(std::move(strong));
    return std::nullopt;
  }

  /// Sends `xs` to the actor; false when it has stopped.
  template <class... Ts>
  bool send(Ts&&... xs) const {
    auto hdl = lock();
    if (!hdl)
      return false;
    caf::anon_send(*hdl, std::forward<Ts>(xs)...);
    return true;
  }

private:
  caf::weak_actor_ptr weak_;
};

} // namespace kws
