// `k8s-watch-server mcp --url URL`: the stdio transport for desktop
// assistants, relaying each line to a running server's /mcp over HTTP.
// Nothing but MCP goes to stdout; diagnostics go to stderr.
#include "app/options.hpp"
#include "kube/credentials.hpp"
#include "kube/kubeconfig.hpp"
#include "rest/mcp/stdio_relay.hpp"
#include "util/errors.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace kws::app {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

struct endpoint {
  std::string host;
  std::string port;
  std::string path;
  bool tls = false;
};

/// Reads `http[s]://host[:port][/path]`; the path defaults to /mcp.
std::optional<endpoint> parse_url(std::string_view url) {
  endpoint out;
  if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  auto slash = url.find('/');
  out.path
    = slash == std::string_view::npos ? "/mcp" : std::string{url.substr(slash)};
  if (out.path == "/")
    out.path = "/mcp";
  auto authority = url.substr(0, slash);
  auto colon = authority.rfind(':');
  bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string_view::npos
      && (!bracketed || authority[colon - 1] == ']')) {
    out.host = std::string{authority.substr(0, colon)};
    out.port = std::string{authority.substr(colon + 1)};
  } else {
    out.host = std::string{authority};
    out.port = out.tls ? "443" : "80";
  }
  if (bracketed && out.host.size() > 2)
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty())
    return std::nullopt;
  return out;
}

/// POSTs one message; the status and body, or the reason it failed.
struct posted {
  int status = 0;
  std::string body;
  std::string error;
};

/// One POST and its answer over a connected (and, for TLS, shaken) stream.
template <class Stream>
void exchange(Stream& stream, const endpoint& to, const std::string& line,
              const std::map<std::string, std::string>& headers, posted& out) {
  http::request<http::string_body> req{http::verb::post, to.path, 11};
  req.set(http::field::host, to.host + ":" + to.port);
  for (const auto& [name, value] : headers)
    req.set(name, value);
  req.body() = line;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{64} << 20U);
  http::read(stream, buf, parser);
  out.status = static_cast<int>(parser.get().result_int());
  out.body = parser.get().body();
}

/// A client context that checks the server's certificate against
/// `ca_file`, or the system's trusted certificates when it is empty.
ssl::context client_context(const std::string& ca_file) {
  ssl::context ctx{ssl::context::tls_client};
  if (ca_file.empty())
    ctx.set_default_verify_paths();
  else
    ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

posted post(const endpoint& to, const std::string& ca_file,
            const std::string& line,
            const std::map<std::string, std::string>& headers) {
  posted out;
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver{ioc};
    auto addresses = resolver.resolve(to.host, to.port);
    if (!to.tls) {
      beast::tcp_stream stream{ioc};
      stream.expires_after(std::chrono::seconds{60});
      stream.connect(addresses);
      exchange(stream, to, line, headers, out);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return out;
    }
    auto ctx = client_context(ca_file);
    beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
    stream.set_verify_callback(ssl::host_name_verification(to.host));
    if (SSL_set_tlsext_host_name(stream.native_handle(), to.host.c_str()) != 1)
      throw std::runtime_error{"cannot set the TLS server name " + to.host};
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds{60});
    beast::get_lowest_layer(stream).connect(addresses);
    stream.handshake(ssl::stream_base::client);
    exchange(stream, to, line, headers, out);
    beast::error_code ignored;
    stream.shutdown(ignored); // the answer is in; a missing close_notify is no
                              // failure
  } catch (const boost::system::system_error& e) {
    out.error = e.code().message();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

/// The bearer token for a server in `auth.mode: token`: --token-file, then
/// $KWS_TOKEN, then the current kubeconfig context's token (exec plugins
/// included), the last only for a loopback URL (a port-forward), so a
/// cluster credential never crosses the network in clear text unasked.
/// Empty when there is none: a server with `auth.mode: none` needs none.
caf::expected<std::string> relay_token(const options& opts,
                                       const endpoint& to) {
  if (!opts.token_file.empty())
    return kube::read_token_file(opts.token_file);
  if (const char* env = std::getenv("KWS_TOKEN"); env && *env)
    return std::string{env};
  if (!is_loopback(to.host))
    return std::string{};
  auto cfg = kube::load_default(opts.kubeconfig);
  if (!cfg)
    return std::string{};
  if (!cfg->token.empty())
    return cfg->token;
  if (!cfg->token_file.empty())
    return kube::read_token_file(cfg->token_file);
  if (cfg->exec) {
    auto cred = kube::run_exec_plugin(*cfg->exec, *cfg);
    if (!cred)
      return cred.error();
    return cred->token;
  }
  return std::string{};
}

} // namespace

int run_mcp_stdio(const options& opts) {
  auto to = parse_url(opts.url);
  if (!to) {
    std::cerr
      << "k8s-watch-server mcp: --url must be http(s)://HOST[:PORT][/PATH], "
         "got '"
      << opts.url << "'\n";
    return 2;
  }
  auto token = relay_token(opts, *to);
  if (!token) {
    std::cerr << "k8s-watch-server mcp: no bearer token: "
              << error_detail(token.error()) << "\n";
    return 2;
  }
  mcp::relay_state state;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty())
      continue;
    auto headers = mcp::relay_headers(line, state);
    if (!token->empty())
      headers["Authorization"] = "Bearer " + *token;
    auto answer = post(*to, opts.ca_file, line, headers);
    std::optional<std::string> out;
    if (!answer.error.empty()) {
      std::cerr << "k8s-watch-server mcp: " << opts.url << ": " << answer.error
                << "\n";
      out = mcp::relay_failure(
        line, "cannot reach " + opts.url + ": " + answer.error);
    } else {
      out = mcp::relay_answer(line, answer.status, answer.body, state);
    }
    if (out)
      std::cout << *out << "\n" << std::flush;
  }
  return 0;
}

} // namespace kws::app
