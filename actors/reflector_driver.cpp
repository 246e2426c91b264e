// Every callback of the transport holds only a weak reference to the actor,
// so a stopped actor is not kept alive by its client, and answers arriving
// after the actor is gone are dropped.
#include "actors/reflector_driver.hpp"

#include "actors/weak_handle.hpp"
#include "messages/type_ids.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include <random>
#include <type_traits>
#include <utility>

namespace kws {

namespace {

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

kube::reflector_settings seeded(kube::reflector_settings s) {
  if (s.seed == 0)
    s.seed = random_seed();
  return s;
}

} // namespace

reflector_driver::reflector_driver(caf::local_actor* self,
                                   std::shared_ptr<kube::lister_watcher> source,
                                   resource_type type,
                                   kube::reflector_settings settings,
                                   reflector_handlers handlers)
    : self_(self), source_(std::move(source)), type_(type),
      machine_(std::move(type), source_->describe(), seeded(settings)),
      handlers_(std::move(handlers)) {}

reflector_driver::~reflector_driver() {
  // Only allocation can throw here; report it instead of letting the
  // exception escape a destructor.
  try {
    stop();
  } catch (const std::exception& e) {
    KWS_ERROR("reflector {} did not stop cleanly: {}", type_.group_resource(),
              e.what());
  }
}

kube::reflector_machine::time_point reflector_driver::now() const {
  return self_->clock().now();
}

void reflector_driver::start(std::string resume_rv) {
  run(machine_.start(now(), std::move(resume_rv)));
}

void reflector_driver::ack(size_t deliveries) {
  run(machine_.ack(now(), deliveries));
}

void reflector_driver::stop() {
  queue_.clear();
  run(machine_.stop());
  // A handler that stops its own driver is still running.
  if (!running_)
    handlers_ = {};
}

void reflector_driver::handle(reflector_input& input) {
  auto gen = input.gen;
  auto t = now();
  std::visit(
    [&](auto& x) {
      using input_type = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<input_type, reflector_timer>) {
        run(machine_.timer(t, gen));
      } else if constexpr (std::is_same_v<input_type, reflector_page>) {
        if (x.error)
          run(machine_.page(t, gen, std::move(x.error)));
        else
          run(machine_.page(t, gen, std::move(x.res)));
      } else if constexpr (std::is_same_v<input_type, reflector_opening>) {
        if (gen != machine_.generation()) {
          // The answer of an abandoned watch.
          if (x.opening.stream)
            x.opening.stream->close();
          return;
        }
        if (x.error) {
          run(machine_.opened(t, gen, std::move(x.error)));
          return;
        }
        stream_ = std::move(x.opening.stream);
        run(machine_.opened(t, gen, std::move(x.opening.head)));
      } else {
        run(machine_.chunk(t, gen, std::move(x)));
      }
    },
    input.what);
}

void reflector_driver::run(kube::reflector_commands commands) {
  for (auto& c : commands)
    queue_.push_back(std::move(c));
  if (running_)
    return;
  running_ = true;
  while (!queue_.empty()) {
    auto next = std::move(queue_.front());
    queue_.pop_front();
    execute(next);
  }
  running_ = false;
}

void reflector_driver::execute(kube::reflector_command& command) {
  std::visit(
    [&](auto& c) {
      using command_type = std::decay_t<decltype(c)>;
      namespace cmd = kube::command;
      if constexpr (std::is_same_v<command_type, cmd::list_page>) {
        source_->list(
          std::move(c.request),
          [weak = weak_handle<caf::actor>{self_},
           gen = c.gen](caf::expected<kube::response> res) {
            reflector_page page;
            if (res)
              page.res = std::move(*res);
            else
              page.error = std::move(res.error());
            weak.send(atom::internal_v, reflector_input{gen, std::move(page)});
          });
      } else if constexpr (std::is_same_v<command_type, cmd::open_watch>) {
        source_->watch(
          std::move(c.request),
          [weak = weak_handle<caf::actor>{self_},
           gen = c.gen](caf::expected<kube::watch_opening> res) {
            reflector_opening opening;
            if (res)
              opening.opening = std::move(*res);
            else
              opening.error = std::move(res.error());
            auto stream = opening.opening.stream;
            if (!weak.send(atom::internal_v,
                           reflector_input{gen, std::move(opening)})
                && stream)
              stream->close();
          });
      } else if constexpr (std::is_same_v<command_type, cmd::read_more>) {
        if (stream_)
          stream_->read([weak = weak_handle<caf::actor>{self_},
                         gen = c.gen](kube::watch_chunk chunk) {
            weak.send(atom::internal_v, reflector_input{gen, std::move(chunk)});
          });
      } else if constexpr (std::is_same_v<command_type, cmd::close_watch>) {
        if (stream_) {
          stream_->close();
          stream_.reset();
        }
      } else if constexpr (std::is_same_v<command_type, cmd::wait>) {
        caf::delayed_anon_send(caf::actor_cast<caf::actor>(self_), c.delay,
                               atom::internal_v,
                               reflector_input{c.gen, reflector_timer{}});
      } else if constexpr (std::is_same_v<command_type, cmd::deliver_list>) {
        KWS_DEBUG("reflector {} listed {} items at resourceVersion {}",
                  type_.group_resource(), c.list.items.size(),
                  c.list.resource_version);
        if (handlers_.on_list)
          handlers_.on_list(std::move(c.list));
        else
          run(machine_.ack(now(), 1));
      } else if constexpr (std::is_same_v<command_type, cmd::deliver_events>) {
        if (handlers_.on_events)
          handlers_.on_events(std::move(c.events), c.received_ns);
        else
          run(machine_.ack(now(), 1));
      } else if constexpr (std::is_same_v<command_type, cmd::report>) {
        KWS_DEBUG("reflector {}: {}", type_.group_resource(), c.error);
        if (handlers_.on_error)
          handlers_.on_error(c.error);
      } else if constexpr (std::is_same_v<command_type, cmd::ended_early>) {
        metrics::get_counter("kws_watch_terminated_total",
                             "Watches the apiserver ended before their timeout "
                             "(as it does for a client that reads too slowly).",
                             "resource=\"" + type_.group_resource() + "\"")
          .inc();
        KWS_WARN("watch of {} ended by the apiserver after {} s, before its "
                 "timeout of {} s{}{}; watching again from resourceVersion {}",
                 type_.group_resource(), c.lived.count(), c.timeout.count(),
                 c.error ? ": " : "", c.error ? render(c.error) : "",
                 c.resource_version);
      }
    },
    command);
}

} // namespace kws
