#!/usr/bin/env bash
# Issue 23 item 2 (CUDA training): what the lent GPU machine offers, and does grm's libtorch code
# compile against its PyTorch? The machine has no apt, so the headers it lacks travel with the call.
# Here, in the checkout:
#   echo /.devprobe/ >> .git/info/exclude; mkdir -p .devprobe/include
#   cp -r /usr/include/{nlohmann,CLI,gloo,httplib.h} ~/.cache/grm/llama.cpp-npm-3.21.1/include/* .devprobe/include/
# then the device tool: run(command="bash research/scripts/gpu_probe.sh", carry=[".devprobe"]).
# Prints the facts, then OK/FAIL per file (-fsyntax-only, all files in parallel) and the first errors.
cd "$(dirname "$0")/../.."
TD=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
nvidia-smi -L
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(),
                                torch.cuda.get_device_capability(), torch.utils.cmake_prefix_path)'
g++ --version | head -1; cmake --version | head -1; nvcc --version | tail -1; ldd --version | head -1
ls /usr/include/x86_64-linux-gnu/cblas.h "$TD"/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp
ls src/model/*.cpp src/rl/*.cpp | xargs -P "$(nproc)" -I{} sh -c \
  "g++ -std=c++17 -fsyntax-only -DUSE_C10D_GLOO -Isrc -I.devprobe/include -I$TD/include \
     -I$TD/include/torch/csrc/api/include {} > /tmp/\$(basename {}).err 2>&1 && echo OK {} || echo FAIL {}"
for f in /tmp/*.cpp.err; do if [ -s "$f" ]; then echo "== $f"; grep -m8 error "$f"; fi; done
