// Gloo process group over a TCP store; every collective's c10 exception becomes an Error here.
#include "model/dist.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace grm::model {

namespace {

// A whole decimal integer in [lo, hi], or an error naming the variable.
Result<long> env_int(const char * name, long fallback, long lo, long hi) {
    const char * v = std::getenv(name);
    if (!v) return fallback;
    char * end = nullptr;
    errno      = 0;
    long n     = std::strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi)
        return make_error(Errc::invalid_argument, std::string(name) + "='" + v + "': expected an integer in [" +
                                                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return n;
}

std::string what(const std::exception & e) {
    if (auto * c = dynamic_cast<const c10::Error *>(&e)) return c->what_without_backtrace();
    return e.what();
}

}  // namespace

Result<DistParams> dist_params_from_env() {
    DistParams p;
    auto       world = env_int("WORLD_SIZE", 1, 1, 1 << 16);
    if (!world) return world.error();
    auto rank = env_int("RANK", 0, 0, 1 << 16);
    if (!rank) return rank.error();
    if (*rank >= *world)
        return make_error(Errc::invalid_argument, "RANK=" + std::to_string(*rank) + " is not below WORLD_SIZE=" +
                                                      std::to_string(*world));
    if (*world > 1 && !std::getenv("RANK"))
        return make_error(Errc::invalid_argument, "WORLD_SIZE=" + std::to_string(*world) + " without RANK");
    auto port = env_int("MASTER_PORT", p.master_port, 1, 65535);
    if (!port) return port.error();
    p.world       = int(*world);
    p.rank        = int(*rank);
    p.master_port = int(*port);
    if (const char * a = std::getenv("MASTER_ADDR")) {
        if (!*a) return make_error(Errc::invalid_argument, "MASTER_ADDR is empty");
        p.master_addr = a;
    }
    if (const char * t = std::getenv("GRM_DIST_TIMEOUT")) {
        char * end = nullptr;
        double s   = std::strtod(t, &end);
        if (!*t || *end || !(s > 0))
            return make_error(Errc::invalid_argument, std::string("GRM_DIST_TIMEOUT='") + t + "': expected seconds > 0");
        p.timeout_s = s;
    }
    return p;
}

std::pair<int64_t, int64_t> dist_share(int64_t n, int rank, int world) {
    const int64_t base = n / world, extra = n % world;
    const int64_t first = rank * base + std::min<int64_t>(rank, extra);
    return {first, first + base + (rank < extra ? 1 : 0)};
}

struct Dist::Impl {
    c10::intrusive_ptr<::c10d::Store>            store;
    c10::intrusive_ptr<::c10d::ProcessGroupGloo> pg;
};

Dist::Dist(DistParams p, std::unique_ptr<Impl> impl) : p_(std::move(p)), impl_(std::move(impl)) {}
Dist::~Dist() = default;

Result<std::shared_ptr<Dist>> Dist::connect(const DistParams & p) {
    const auto timeout = std::chrono::milliseconds(int64_t(p.timeout_s * 1000.0));
    const std::string where = p.master_addr + ":" + std::to_string(p.master_port);
    auto impl = std::make_unique<Impl>();
    try {
        ::c10d::TCPStoreOptions so;
        so.port        = uint16_t(p.master_port);
        so.isServer    = p.rank == 0;
        so.numWorkers  = size_t(p.world);
        so.waitWorkers = true;
        so.timeout     = timeout;
        impl->store    = c10::make_intrusive<::c10d::TCPStore>(p.master_addr, so);
    } catch (const std::exception & e) {
        return make_error(Errc::unavailable, "rank " + std::to_string(p.rank) + ": rendezvous at " + where +
                                                 " (MASTER_ADDR:MASTER_PORT) failed within " +
                                                 std::to_string(int(p.timeout_s)) + " s: " + what(e));
    }
    try {
        auto opts = ::c10d::ProcessGroupGloo::Options::create(timeout);
        // Loopback jobs bind to loopback; a multi-machine job to GLOO_SOCKET_IFNAME or the host's address.
        const bool  local = p.master_addr == "localhost" || p.master_addr.rfind("127.", 0) == 0;
        const char * ifname = std::getenv("GLOO_SOCKET_IFNAME");
        opts->devices.push_back(local    ? ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                : ifname ? ::c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                         : ::c10d::ProcessGroupGloo::createDefaultDevice());
        opts->threads = 1;
        impl->pg      = c10::make_intrusive<::c10d::ProcessGroupGloo>(impl->store, p.rank, p.world, opts);
    } catch (const std::exception & e) {
        return make_error(Errc::unavailable, "rank " + std::to_string(p.rank) + ": Gloo process group via " + where +
                                                 ": " + what(e));
    }
    return std::shared_ptr<Dist>(new Dist(p, std::move(impl)));
}

namespace {

// Runs one collective; a peer that died or stopped answering surfaces here as an exception.
template <class F> Status guarded(const Dist & d, const char * op, F && f) {
    try {
        f();
        return ok_status();
    } catch (const std::exception & e) {
        return make_error(Errc::unavailable, "rank " + std::to_string(d.rank()) + ": " + op +
                                                 " failed (another rank died or timed out): " + what(e));
    }
}

}  // namespace

// One collective over the tensors as a single flat CPU buffer, the results copied back in place.
Status Dist::flat(const char * op, const std::vector<torch::Tensor> & tensors,
                  const std::function<void(std::vector<torch::Tensor> &)> & run) {
    if (tensors.empty()) return ok_status();
    std::vector<torch::Tensor> parts;
    for (const auto & t : tensors) parts.push_back(t.detach().reshape({-1}).to(torch::kCPU));
    std::vector<torch::Tensor> buf{ torch::cat(parts) };
    auto st = guarded(*this, op, [&] { run(buf); });
    if (!st) return st;
    torch::NoGradGuard ng;
    int64_t            at = 0;
    for (const auto & t : tensors) {
        t.copy_(buf[0].narrow(0, at, t.numel()).view(t.sizes()));
        at += t.numel();
    }
    return ok_status();
}

Status Dist::all_reduce_sum(const std::vector<torch::Tensor> & tensors) {
    return flat("all-reduce", tensors, [&](std::vector<torch::Tensor> & buf) { impl_->pg->allreduce(buf)->wait(); });
}

Status Dist::all_reduce_grads(torch::nn::Module & module) {
    // A parameter no rank touched keeps no gradient, as in one process (AdamW then skips it,
    // weight decay included); one that some rank touched gets zeros on the others.
    auto                params = module.parameters();
    std::vector<double> touched;
    for (auto & p : params) touched.push_back(p.grad().defined() ? 1.0 : 0.0);
    if (auto st = all_reduce_sum(touched); !st) return st;
    std::vector<torch::Tensor> grads;
    for (size_t i = 0; i < params.size(); ++i) {
        auto & p = params[i];
        if (touched[i] == 0.0) continue;
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
    }
    return all_reduce_sum(grads);
}

Status Dist::all_reduce_sum(std::vector<double> & values) {
    if (values.empty()) return ok_status();
    auto t  = torch::tensor(values, torch::kFloat64);
    auto st = all_reduce_sum(std::vector<torch::Tensor>{ t });
    if (!st) return st;
    for (size_t i = 0; i < values.size(); ++i) values[i] = t[int64_t(i)].item<double>();
    return ok_status();
}

Status Dist::broadcast(const std::vector<torch::Tensor> & tensors) {
    return flat("broadcast", tensors, [&](std::vector<torch::Tensor> & buf) { impl_->pg->broadcast(buf)->wait(); });
}

Status Dist::barrier(double timeout_s) {
    ::c10d::BarrierOptions o;
    if (timeout_s > 0) o.timeout = std::chrono::milliseconds(int64_t(timeout_s * 1000.0));
    return guarded(*this, "barrier", [&] { impl_->pg->barrier(o)->wait(); });
}

Status dist_broadcast_params(Dist * dist, torch::nn::Module & module) {
    if (!dist) return ok_status();
    std::vector<torch::Tensor> ps;
    for (auto & p : module.parameters()) ps.push_back(p);
    return dist->broadcast(ps);
}

}  // namespace grm::model
