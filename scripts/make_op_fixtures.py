#!/usr/bin/python3
"""Builds the fixtures of the operators PyTorch's exporter and torchvision-style code emit beyond
make_fixtures.py's: Split, Clip, LeakyRelu, HardSigmoid, HardSwish, Gelu (and the Erf subgraph PyTorch
1.13 exports GELU as), Resize; and `mobilenet_exits`, a three-exit network of torchvision's MobileNetV3
blocks. Same conventions as make_fixtures.py (NAME.onnx, NAME.input.npy with 8 samples, NAME.exitK.npy
from PyTorch; fixed seeds; one thread). Run from the repo root with Debian's python (torch 1.13,
torchvision 0.14):
    /usr/bin/python3 scripts/make_op_fixtures.py
"""
import functools
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper
from torchvision.models.mobilenetv3 import InvertedResidual, InvertedResidualConfig
from torchvision.ops.misc import Conv2dNormActivation

from make_fixtures import BATCH, OUT, Lambda, randomize_bn, save


def save_opset(name, model, sample_shape, opset, seed=0):
    """save() at another opset (HardSwish is an ONNX operator from opset 14 on; at 13 PyTorch writes
    HardSigmoid + Mul)."""
    torch.manual_seed(seed)
    model.eval()
    x = torch.randn(BATCH, *sample_shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["input"], output_names=["exit0"],
                      dynamic_axes={"input": {0: "N"}, "exit0": {0: "N"}}, do_constant_folding=True)
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".exit0.npy"), y.numpy().astype(np.float32))
    print(f"{name}: {sorted({n.op_type for n in onnx.load(path).graph.node})}")


def save_gelu_opset20(name, approximate, sample_shape=(3, 5)):
    """Gelu is an ONNX operator from opset 20, which PyTorch 1.13 cannot write: built by hand, PyTorch's
    F.gelu as the reference."""
    torch.manual_seed(7)
    x = torch.randn(BATCH, *sample_shape)
    y = F.gelu(x, approximate=approximate)
    node = helper.make_node("Gelu", ["input"], ["exit0"], name="gelu", approximate=approximate)
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *sample_shape])],
                          [helper.make_tensor_value_info("exit0", TensorProto.FLOAT, ["N", *sample_shape])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)], producer_name="make_op_fixtures")
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".exit0.npy"), y.numpy().astype(np.float32))
    print(f"{name}: ['Gelu'] (opset 20, approximate={approximate})")


def op_fixtures():
    torch.manual_seed(11)
    # Split: sizes as an input (opset 13), and equal parts on a negative axis.
    save("op_split", Lambda(lambda x: torch.cat([p * (k + 1) for k, p in enumerate(torch.split(x, [1, 2, 3], dim=1))][::-1], 1)),
         (6, 4, 5))
    save("op_split_chunks", Lambda(lambda x: (lambda a, b: a * torch.sigmoid(b))(*x.chunk(2, dim=-1))), (3, 4, 6))
    save("op_clip", Lambda(lambda x: torch.clamp(x, -0.5, 0.8)), (3, 4, 5))
    save("op_clip_max", Lambda(lambda x: torch.clamp(x, max=0.3)), (3, 4, 5))  # min left out: Clip(x, "", max)
    save("op_relu6", nn.ReLU6(), (3, 4, 5))
    save("op_leaky_relu", nn.LeakyReLU(0.2), (3, 4, 5))
    save("op_hardsigmoid", nn.Hardsigmoid(), (3, 4, 5))
    save_opset("op_hardswish", nn.Hardswish(), (3, 4, 5), opset=14)
    save("op_gelu_erf", nn.GELU(), (3, 4, 5))  # Div, Erf, Add, Mul, Mul
    save_gelu_opset20("op_gelu", "none")
    save_gelu_opset20("op_gelu_tanh", "tanh")
    # Resize as F.interpolate exports it: nearest = asymmetric + floor; bilinear = pytorch_half_pixel
    # (align_corners=False) or align_corners; by scale_factor (a scales input) or by size (sizes).
    save("op_resize_nearest", Lambda(lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest")), (2, 3, 4))
    save("op_resize_nearest_size", Lambda(lambda x: F.interpolate(x, size=(5, 7), mode="nearest")), (2, 3, 4))
    save("op_resize_nearest1d", Lambda(lambda x: F.interpolate(x, scale_factor=3.0, mode="nearest")), (2, 5))
    save("op_resize_bilinear", Lambda(lambda x: F.interpolate(x, scale_factor=2.0, mode="bilinear")), (2, 3, 4))
    save("op_resize_bilinear_frac", Lambda(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear")), (2, 5, 6))
    save("op_resize_bilinear_align",
         Lambda(lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True)), (2, 3, 4))


class MobileNetExits(nn.Module):
    """torchvision's MobileNetV3 blocks (Conv2dNormActivation, InvertedResidual with squeeze-excitation:
    Hardswish, Hardsigmoid), three exits; the last stage upsamples (Resize) and gates half the channels
    by the other half (Split)."""

    def __init__(self, classes=10):
        super().__init__()
        norm = functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        cfg = functools.partial(InvertedResidualConfig, width_mult=1.0)
        self.stem = Conv2dNormActivation(3, 8, kernel_size=3, stride=2, norm_layer=norm, activation_layer=nn.Hardswish)
        self.block1 = InvertedResidual(cfg(8, 3, 8, 8, True, "RE", 1, 1), norm)
        self.head1 = nn.Linear(8, classes)
        self.block2 = nn.Sequential(InvertedResidual(cfg(8, 3, 24, 16, False, "HS", 2, 1), norm),
                                    InvertedResidual(cfg(16, 5, 32, 16, True, "HS", 1, 1), norm))
        self.head2 = nn.Sequential(nn.Linear(16, 16), nn.Hardswish(), nn.Linear(16, classes))
        self.block3 = nn.Sequential(InvertedResidual(cfg(16, 3, 48, 24, True, "HS", 2, 1), norm),
                                    Conv2dNormActivation(24, 32, kernel_size=1, norm_layer=norm,
                                                         activation_layer=nn.Hardswish))
        self.head3 = nn.Sequential(nn.Linear(16, 24), nn.LeakyReLU(0.1), nn.Linear(24, classes))
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                randomize_bn(m)

    def forward(self, x):
        x1 = self.block1(self.stem(x))                      # [N, 8, 10, 10]
        e1 = self.head1(F.adaptive_avg_pool2d(x1, 1).flatten(1))
        x2 = self.block2(x1)                                # [N, 16, 5, 5]
        e2 = self.head2(F.adaptive_avg_pool2d(x2, 1).flatten(1))
        x3 = self.block3(x2)                                # [N, 32, 3, 3]
        up = F.interpolate(x3, scale_factor=2.0, mode="bilinear")
        value, gate = torch.split(up, [16, 16], dim=1)
        pooled = F.adaptive_avg_pool2d(value * torch.sigmoid(gate), 1).flatten(1)
        e3 = self.head3(torch.clamp(pooled, -6.0, 6.0))
        return e1, e2, e3


def model_fixtures():
    torch.manual_seed(12)
    labels = ",".join(f"class{i}" for i in range(10))
    save("mobilenet_exits", MobileNetExits(), (3, 20, 20),
         {"imprecise.mandatory_depth": "1", "imprecise.labels": labels, "imprecise.exit_names": "early,middle,final"},
         seed=13)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    op_fixtures()
    model_fixtures()
    return 0


if __name__ == "__main__":
    sys.exit(main())
