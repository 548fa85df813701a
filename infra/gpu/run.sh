#!/usr/bin/env bash
# Runs a program published by publish.sh against the CUDA libtorch of the host's PyTorch (python3 with torch).
#   usage: infra/gpu/run.sh PROGRAM [ARGS...]     e.g. infra/gpu/run.sh out/gpu/ScmTools/scm-tools doctor
# Prints the PyTorch version and GPU, and whether TorchSharp's native shim resolves every symbol against that
# libtorch, before it starts the program (then `scm-tools doctor` samples on every device).
set -uo pipefail
program="$1"; shift
py="${PYTHON:-python3}"
torch_lib="$("$py" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)" \
  || { echo "no PyTorch for $py (set PYTHON to a python that has torch)" >&2; exit 2; }
"$py" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "devices", torch.cuda.device_count(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
site="$(dirname "$(dirname "$torch_lib")")"
nvidia_libs="$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | sort | paste -sd: -)"
export LD_LIBRARY_PATH="$torch_lib${nvidia_libs:+:$nvidia_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$py" - "$(dirname "$program")/libLibTorchSharp.so" <<'PY'
import ctypes, sys
try:
    ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL | 2)  # RTLD_NOW: every symbol must resolve now
    print("TorchSharp native shim: every symbol resolves against this libtorch")
except OSError as e:
    print("TorchSharp native shim does NOT load against this libtorch:", e); sys.exit(2)
PY
exec "$program" "$@"
