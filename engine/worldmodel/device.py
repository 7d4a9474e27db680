"""Device and dtype choice: CUDA when present (bf16 where supported, else fp16), CPU float32 otherwise."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.worldmodel.errors import DeviceError

if TYPE_CHECKING:
    import torch


def resolve_device(device: str = "auto", dtype: str = "auto") -> tuple[torch.device, torch.dtype]:
    """(torch.device, torch.dtype) for a settings pair; DeviceError when CUDA is asked for and absent.

    auto picks cuda:0 if available. dtype auto: bfloat16 on GPUs that support it, else float16;
    float32 on CPU (half precision on CPU is slow and poorly supported).
    """
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was requested but no CUDA device is available to this torch build "
                f"(torch {torch.__version__}); choose the device 'cpu' or 'auto'.")
        dev = torch.device(device)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"{device} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif device == "cpu":
        dev = torch.device("cpu")
    else:
        raise DeviceError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")

    names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype == "auto":
        if dev.type == "cuda":
            dt = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dt = torch.float32
    elif dtype in names:
        dt = names[dtype]
        if dev.type == "cpu" and dt == torch.float16:
            raise DeviceError("float16 is not supported on the CPU; use float32 (or bfloat16)")
    else:
        raise DeviceError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    return dev, dt
