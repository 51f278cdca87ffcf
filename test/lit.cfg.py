# -*- Python -*-
# lit configuration of the swaa test suite: tools, substitutions, features.

import os
import subprocess

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SWAA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".onnxtext"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.swaa_obj_root, "test")
config.excludes = ["lib", "Inputs", "models", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

# Every FileCheck variable is scoped to its CHECK-LABEL block.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The numpy references and ONNX helpers in test/lib/ are part of the suite:
# without them the suite fails here, loudly, instead of skipping checks.
try:
    subprocess.run(
        [config.python_executable, "-c", "import numpy, onnx"],
        check=True,
        capture_output=True,
    )
except (OSError, subprocess.CalledProcessError):
    lit_config.fatal(
        f"{config.python_executable} cannot import numpy and onnx, which the "
        "reference checks and model tests need: run utils/setup.sh"
    )

lib_dir = os.path.join(config.test_source_root, "lib")
runner_libs = ",".join(
    os.path.join(config.mlir_lib_dir, name)
    for name in ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so")
)
config.substitutions.extend(
    [
        # Not %python: lit defines that as the interpreter running lit itself,
        # which may lack numpy and onnx.
        ("%swaa-python", config.python_executable),
        ("%attn-ref", f"{config.python_executable} {lib_dir}/attn_reference.py"),
        # mlir-runner with the CPU kernel library (swaa_gemm_*) loaded too.
        (
            "%run-cpu-kernels",
            "mlir-runner -e main -entry-point-result=void "
            f"-shared-libs={runner_libs},"
            + os.path.join(config.swaa_obj_root, "lib", "libswaa_cpu_kernels_runner.so"),
        ),
        (
            "%run-cpu",
            "mlir-runner -e main -entry-point-result=void "
            f"-shared-libs={runner_libs}",
        ),
        ("%test-root", config.test_source_root),
        ("%swaa-obj-root", config.swaa_obj_root),
        ("%swaa-lib", os.path.join(config.swaa_obj_root, "lib")),
        # ptxas from the CUDA toolkit: GPU code is assembled, never run here.
        ("%ptxas", os.environ.get("CUDA_HOME", "/usr/local/cuda") + "/bin/ptxas"),
        ("%swaa-bin", config.swaa_tools_dir),
        ("%mlir-lib", config.mlir_lib_dir),
        ("%models", os.path.join(config.test_source_root, "models")),
        (
            "%check-import",
            f"{config.python_executable} {lib_dir}/check_import.py",
        ),
    ]
)

# A CUDA device (through the driver, as the runtime opens it): the tests in
# CUDA/Device run CUDA artifacts (REQUIRES: cuda-device). Without one they
# are reported unsupported, and this says why.
import sys
sys.path.insert(0, lib_dir)
from cuda_probe import probe as cuda_probe

has_gpu, gpu_why = cuda_probe()
if has_gpu:
    config.available_features.add("cuda-device")
    lit_config.note(f"GPU tests run on {gpu_why}")
else:
    lit_config.note(f"GPU tests (REQUIRES: cuda-device) skipped: no CUDA device ({gpu_why})")

# The CPU's vector extensions: each register kernel of the CPU kernel
# library that this CPU runs is checked (test/Kernels); the ones it cannot
# run are reported unsupported, and this says which.
cpu_flags = set()
try:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                cpu_flags = set(line.split(":", 1)[1].split())
                break
except OSError:
    pass
for feature, needs in (("avx2", {"avx2", "fma"}),
                       ("avx512", {"avx2", "fma", "avx512f", "avx512vl"})):
    if needs <= cpu_flags:
        config.available_features.add(feature)
    else:
        lit_config.note(f"CPU kernel tests (REQUIRES: {feature}) skipped: "
                        f"this CPU lacks {' '.join(sorted(needs - cpu_flags))}")

tool_dirs = [config.swaa_tools_dir, config.llvm_tools_dir]
tools = ["swaa-opt", "swaa-compile", "swaa-import-fuzz", "swaa-runtime-fuzz",
         "swaa-run", "swaa-api-check", "swaa-gemm-check",
         "swaa-embed-example", "mlir-runner", "mlir-opt"]
# The runtime and its users built with ASan and UBSan (SWAA_SANITIZE_RUNTIME).
if config.swaa_sanitize_runtime:
    config.available_features.add("sanitizers")
    # LeakSanitizer crashes while scanning the dynamic TLS of libomp's worker
    # threads (in the dlopen'ed model.so); leaks are still checked, without
    # TLS as a root.
    config.environment["LSAN_OPTIONS"] = "use_tls=0:suppressions=" + os.path.join(
        config.test_source_root, "Inputs", "lsan.supp")
    tools += ["swaa-run-sanitized", "swaa-embed-example-sanitized",
              "swaa-api-check-sanitized", "swaa-gemm-check-sanitized"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
