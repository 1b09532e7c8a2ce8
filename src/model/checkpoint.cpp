// Checkpoint directories: atomic save, load and "latest" resolution.
#include "model/checkpoint.h"

#include "core/atomic_file.h"
#include "model/config.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace grm::model {

namespace {

const char * k_model_file = "model.pt";
const char * k_optim_file = "optimizer.pt";
const char * k_rng_file   = "rng.pt";
const char * k_meta_file  = "meta.json";

}  // namespace

nlohmann::json meta_to_json(const CheckpointMeta & m) {
    auto j = nlohmann::json{
        {"schema", m.schema},
        {"kind", m.kind},
        {"config", config_to_json(m.config)},
        {"step", m.step},
        {"tokens_seen", m.tokens_seen},
        {"data", {{"epoch", m.data.epoch}, {"batch", m.data.batch}, {"fingerprint", m.data_fingerprint}}},
        {"train_options", m.train_options},
    };
    if (m.lora.on()) j["lora"] = lora_to_json(m.lora);
    return j;
}

Result<CheckpointMeta> meta_from_json(const nlohmann::json & j) {
    CheckpointMeta m;
    try {
        m.schema = j.at("schema").get<int>();
        if (m.schema != k_checkpoint_schema)
            return make_error(Errc::invalid_argument, "checkpoint schema " + std::to_string(m.schema) +
                                                          " is not the supported " + std::to_string(k_checkpoint_schema));
        m.kind = j.at("kind").get<std::string>();
        auto c = config_from_json(j.at("config"));
        if (!c) return c.error();
        m.config           = *c;
        auto lora          = lora_from_json(j.value("lora", nlohmann::json()));
        if (!lora) return lora.error();
        m.lora             = *lora;
        m.step             = j.at("step").get<int64_t>();
        m.tokens_seen      = j.value("tokens_seen", int64_t(0));
        m.data.epoch       = j.at("data").at("epoch").get<int64_t>();
        m.data.batch       = j.at("data").at("batch").get<int64_t>();
        m.data_fingerprint = j.at("data").value("fingerprint", uint64_t(0));
        m.train_options    = j.value("train_options", nlohmann::json::object());
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("checkpoint meta: ") + e.what());
    }
    return m;
}

Status save_checkpoint(const std::string & dir, torch::nn::Module & model, torch::optim::Optimizer * opt,
                       const CheckpointMeta & meta) {
    const fs::path target(dir);
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const fs::path tmp    = parent / ("." + target.filename().string() + ".tmp-" + std::to_string(getpid()));
    const fs::path old    = parent / ("." + target.filename().string() + ".old-" + std::to_string(getpid()));
    std::error_code ec;
    fs::create_directories(parent, ec);
    fs::remove_all(tmp, ec);
    if (!fs::create_directories(tmp, ec)) return make_error(Errc::io, "cannot create " + tmp.string());
    try {
        // torch::save wants a shared_ptr; the module outlives this call, so a non-owning one.
        std::shared_ptr<torch::nn::Module> ptr(&model, [](torch::nn::Module *) {});
        torch::save(ptr, (tmp / k_model_file).string());
        if (opt != nullptr) torch::save(*opt, (tmp / k_optim_file).string());
        torch::Tensor rng;
        {
            auto gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            rng = gen.get_state();
        }
        torch::save(rng, (tmp / k_rng_file).string());
    } catch (const c10::Error & e) {
        fs::remove_all(tmp, ec);
        return make_error(Errc::io, std::string("checkpoint save: ") + e.what_without_backtrace());
    }
    if (auto st = write_text_atomic((tmp / k_meta_file).string(), meta_to_json(meta).dump(2) + "\n"); !st) {
        fs::remove_all(tmp, ec);
        return st;
    }
    // Swap in: the old dir (if any) is moved aside first so `dir` is never half-written.
    const bool had_old = fs::exists(target);
    if (had_old) {
        fs::remove_all(old, ec);
        fs::rename(target, old, ec);
        if (ec) return make_error(Errc::io, "rename " + target.string() + ": " + ec.message());
    }
    fs::rename(tmp, target, ec);
    if (ec) return make_error(Errc::io, "rename " + tmp.string() + ": " + ec.message());
    if (had_old) fs::remove_all(old, ec);
    return ok_status();
}

Result<CheckpointMeta> read_checkpoint_meta(const std::string & dir) {
    std::ifstream in(fs::path(dir) / k_meta_file);
    if (!in) return make_error(Errc::not_found, "no " + std::string(k_meta_file) + " in " + dir);
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, dir + "/meta.json: " + e.what());
    }
    return meta_from_json(j);
}

Status load_checkpoint_model(const std::string & dir, torch::nn::Module & model) {
    try {
        // Read onto the CPU whatever device wrote it, then move back to where the model lives
        // (set_data keeps parameter identity, so an optimizer built on them stays valid).
        const auto params = model.parameters();
        const auto device = params.empty() ? torch::Device(torch::kCPU) : params[0].device();
        std::shared_ptr<torch::nn::Module> ptr(&model, [](torch::nn::Module *) {});
        torch::load(ptr, (fs::path(dir) / k_model_file).string(), torch::Device(torch::kCPU));
        model.to(device);
    } catch (const c10::Error & e) {
        return make_error(Errc::invalid_argument, "checkpoint model: " + std::string(e.what_without_backtrace()));
    }
    return ok_status();
}

namespace {

Status load_checkpoint_optimizer(const std::string & dir, torch::optim::Optimizer & opt) {
    try {
        const auto & groups = opt.param_groups();
        const auto   device = groups.empty() || groups[0].params().empty() ? torch::Device(torch::kCPU)
                                                                           : groups[0].params()[0].device();
        torch::load(opt, (fs::path(dir) / k_optim_file).string(), device);
    } catch (const c10::Error & e) {
        return make_error(Errc::invalid_argument, "checkpoint optimizer: " + std::string(e.what_without_backtrace()));
    }
    return ok_status();
}

Status load_checkpoint_rng(const std::string & dir) {
    try {
        torch::Tensor rng;
        torch::load(rng, (fs::path(dir) / k_rng_file).string());
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(rng);
    } catch (const c10::Error & e) {
        return make_error(Errc::invalid_argument, "checkpoint rng: " + std::string(e.what_without_backtrace()));
    }
    return ok_status();
}

}  // namespace

Status load_checkpoint_state(const std::string & dir, torch::nn::Module & model, torch::optim::Optimizer & opt) {
    if (auto st = load_checkpoint_model(dir, model); !st) return st;
    if (auto st = load_checkpoint_optimizer(dir, opt); !st) return st;
    return load_checkpoint_rng(dir);
}

Result<std::string> resolve_checkpoint(const std::string & path) {
    const fs::path p(path);
    if (fs::exists(p / k_meta_file)) return p.string();
    std::ifstream in(p / "latest");
    std::string   name;
    if (!in || !std::getline(in, name) || name.empty())
        return make_error(Errc::not_found, path + " is neither a checkpoint (meta.json) nor a run dir (latest)");
    if (!fs::exists(p / name / k_meta_file))
        return make_error(Errc::not_found, path + "/latest names " + name + ", which has no meta.json");
    return (p / name).string();
}

Status set_latest(const std::string & run_dir, const std::string & name) {
    return write_text_atomic((fs::path(run_dir) / "latest").string(), name + "\n");
}

}  // namespace grm::model
