#!/usr/bin/env python
"""
Install GOSS and build its compiled ops (``goss._C``) with ``torch.utils.cpp_extension``.

C++ sources under ``goss/csrc`` are always built; the CUDA kernels (``*.cu``) are added when a
GPU is visible or ``FORCE_CUDA=1`` (Detectron2's pattern). Use ``pip install -e .
--no-build-isolation`` so the extension is built against the installed torch.
"""

import glob
import os

import torch
from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

HERE = os.path.dirname(os.path.abspath(__file__))


def get_extensions():
    """Return ``[goss._C]``: C++ sources always, CUDA sources with a GPU or ``FORCE_CUDA=1``."""
    csrc = os.path.join(HERE, "goss", "csrc")
    sources = sorted(glob.glob(os.path.join(csrc, "**", "*.cpp"), recursive=True))
    cuda_sources = sorted(glob.glob(os.path.join(csrc, "**", "*.cu"), recursive=True))
    if not sources:
        return []
    use_cuda = CUDA_HOME is not None and (
        torch.cuda.is_available() or os.environ.get("FORCE_CUDA", "0") == "1"
    )
    # -g0: no debug information (Python's own flags add -g), which halves the compile time
    extra_compile_args = {"cxx": ["-O3", "-std=c++20", "-g0"]}
    define_macros = []
    extension = CppExtension
    if use_cuda:
        extension = CUDAExtension
        sources += cuda_sources
        define_macros += [("WITH_CUDA", None)]
        extra_compile_args["nvcc"] = ["-O3", "-std=c++20", "--expt-relaxed-constexpr"]
        arch_list = os.environ.get("TORCH_CUDA_ARCH_LIST")
        if not arch_list and not torch.cuda.is_available():
            # No GPU to query: build for Ampere and Hopper by default.
            os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0;9.0"
    return [
        extension(
            "goss._C",
            [os.path.relpath(s, HERE) for s in sources],
            include_dirs=[csrc],
            define_macros=define_macros,
            extra_compile_args=extra_compile_args,
        )
    ]


setup(
    name="goss",
    version="0.1.0",
    description="GOSS: generalized open-set semantic segmentation on Detectron2",
    packages=find_packages(include=("goss", "goss.*")),
    python_requires=">=3.9",
    ext_modules=get_extensions(),
    cmdclass={"build_ext": BuildExtension},
)
