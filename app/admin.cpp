// The operator commands `backup` and `restore`.
#include "app/options.hpp"
#include "kube/wire.hpp"
#include "storage/rocks_store.hpp"
#include "util/errors.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <iostream>

namespace kws::app {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

/// The admin port the deploy manifests and the chart set.
constexpr uint16_t default_admin_port = 8081;

uint16_t admin_port(const options& opts) {
  if (opts.port != 0)
    return opts.port;
  if (const char* env = std::getenv("ADMIN_PORT"))
    if (int p = std::atoi(env); p > 0 && p < 65536)
      return static_cast<uint16_t>(p);
  return default_admin_port;
}

} // namespace

int run_backup(const options& opts) {
  auto port = admin_port(opts);
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::error_code ec;
  // A checkpoint of a large store still takes only seconds (hard links), but
  // allow for a slow disk.
  stream.expires_after(std::chrono::minutes{11});
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) {
    std::cerr << "k8s-watch-server backup: cannot reach the server's admin "
                 "port 127.0.0.1:"
              << port << " (adminPort, ADMIN_PORT): " << ec.message() << "\n";
    return 1;
  }
  auto target = "/admin/backup?dest=" + kube::url_encode(opts.dest);
  if (!opts.cluster.empty())
    target += "&cluster=" + kube::url_encode(opts.cluster);
  http::request<http::empty_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "localhost");
  http::write(stream, req, ec);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (!ec)
    http::read(stream, buf, res, ec);
  if (ec) {
    std::cerr << "k8s-watch-server backup: " << ec.message() << "\n";
    return 1;
  }
  if (res.result() != http::status::ok) {
    std::cerr << "k8s-watch-server backup failed (" << res.result_int()
              << "): " << res.body() << "\n";
    return 1;
  }
  std::cout << res.body() << "\n";
  return 0;
}

int run_restore(const options& opts) {
  if (auto err = storage::rocks_store::restore(opts.from, opts.dest,
                                               storage::first_id_now())) {
    std::cerr << "k8s-watch-server restore: " << render(err) << "\n";
    return 1;
  }
  std::cout << "restored " << opts.from << " into " << opts.dest
            << "; start the server with STORAGE_PATH=" << opts.dest << "\n";
  return 0;
}

} // namespace kws::app
