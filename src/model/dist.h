// Data-parallel training over PyTorch's own c10d with Gloo (CPU): N processes, launched the
// torchrun way (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or by `grm ... --nproc N`, each
// holding a full copy of the model; gradients are summed across ranks every optimizer step.
// world == 1 never touches Gloo: a null Dist pointer is the single-process path everywhere.
#pragma once

#include "core/error.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace grm::model {

struct DistParams {
    int         rank        = 0;
    int         world       = 1;
    std::string master_addr = "127.0.0.1";
    int         master_port = 29500;
    double      timeout_s   = 300;  // a collective or the rendezvous waiting longer fails (a dead rank)
};

// From RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and GRM_DIST_TIMEOUT (seconds); unset: the
// defaults (one process). A malformed or inconsistent value is an error naming the variable.
Result<DistParams> dist_params_from_env();

// The range [first, last) of n items that rank `rank` of `world` takes: contiguous shares, the
// first n % world ranks one longer.
std::pair<int64_t, int64_t> dist_share(int64_t n, int rank, int world);

class Dist {
  public:
    // Rendezvous through a TCP store on master_addr:master_port (rank 0 serves it), then a Gloo
    // process group. Fails after timeout_s naming the address when the master is unreachable.
    static Result<std::shared_ptr<Dist>> connect(const DistParams & p);
    ~Dist();

    int  rank() const { return p_.rank; }
    int  world() const { return p_.world; }
    bool main() const { return p_.rank == 0; }

    // In place, summed over ranks; the tensors (float, any shapes) travel as one flat buffer.
    Status all_reduce_sum(const std::vector<torch::Tensor> & tensors);
    // Every parameter's gradient summed over ranks (an undefined gradient counts as zeros; one
    // undefined on every rank stays undefined).
    Status all_reduce_grads(torch::nn::Module & module);
    Status all_reduce_sum(std::vector<double> & values);
    // Rank 0's values into every rank's tensors (in place).
    Status broadcast(const std::vector<torch::Tensor> & tensors);
    // timeout_s <= 0: the job's timeout.
    Status barrier(double timeout_s = 0);
    // A barrier for work only rank 0 does (data it writes), as long as that takes: a week, not the
    // job's timeout (a rank that dies still ends the wait at once).
    Status wait_for_main() { return barrier(7 * 24 * 3600.0); }

  private:
    struct Impl;
    explicit Dist(DistParams p, std::unique_ptr<Impl> impl);
    Status flat(const char * op, const std::vector<torch::Tensor> & tensors,
                const std::function<void(std::vector<torch::Tensor> &)> & run);
    DistParams            p_;
    std::unique_ptr<Impl> impl_;
};

// Rank 0's parameters into every rank, so ranks start identical (a no-op for a null dist).
Status dist_broadcast_params(Dist * dist, torch::nn::Module & module);

}  // namespace grm::model
