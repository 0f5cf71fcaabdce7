#!/usr/bin/python3
"""Builds the inference-engine test fixtures in tests/fixtures/nn/ (PyTorch 1.13 + onnx, fixed seeds).

For every model NAME it writes NAME.onnx (opset 13, dynamic batch axis, one output per exit),
NAME.input.npy (8 samples) and NAME.exitK.npy (PyTorch's output of exit K for those samples).
Per-operator graphs are single-exit models; the multi-exit models carry imprecise.* metadata.
A few deliberately broken models exercise the importer's error paths. Run from the repo root:
    /usr/bin/python3 scripts/make_fixtures.py
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

from imprecise_common import export_onnx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "nn")
BATCH = 8


def save(name, model, sample_shape, metadata=None, seed=0, training=torch.onnx.TrainingMode.EVAL):
    torch.manual_seed(seed)
    model.eval()
    x = torch.randn(BATCH, *sample_shape)
    with torch.no_grad():
        outs = model(x)
    if not isinstance(outs, tuple):
        outs = (outs,)
    names = [f"exit{k}" for k in range(len(outs))]
    path = os.path.join(OUT, name + ".onnx")
    export_onnx(model, x, path, names, metadata, check=False, training=training)
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    for k, o in enumerate(outs):
        np.save(os.path.join(OUT, f"{name}.exit{k}.npy"), o.numpy().astype(np.float32))
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}: {ops}")


class Lambda(nn.Module):
    def __init__(self, fn, *mods):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        return self.fn(x, *self.mods)


def randomize_bn(bn):
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    return bn


def op_fixtures():
    torch.manual_seed(1)
    save("op_conv2d", nn.Conv2d(3, 4, 3, stride=2, padding=1), (3, 9, 9))
    save("op_conv2d_groups", nn.Conv2d(4, 6, 3, stride=1, padding=2, dilation=2, groups=2), (4, 7, 8))
    save("op_conv2d_pointwise", nn.Conv2d(4, 5, 1, bias=False), (4, 5, 5))
    save("op_conv2d_asym", nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(0, 1)), (2, 7, 6))
    save("op_conv1d", nn.Conv1d(2, 4, 5, stride=2, padding=2), (2, 17))
    save("op_conv1d_depthwise", nn.Conv1d(4, 4, 3, groups=4, dilation=2), (4, 12))
    save("op_gemm", nn.Linear(10, 7), (10,))
    w = torch.randn(6, 3)
    save("op_matmul", Lambda(lambda x: x @ w), (5, 6))
    save("op_matmul_batched", Lambda(lambda x: torch.matmul(x, x.transpose(1, 2))), (4, 3))
    c = torch.randn(3, 1, 1)
    save("op_add_broadcast", Lambda(lambda x: x + c), (3, 4, 5))
    d = torch.randn(1, 5)
    save("op_mul_broadcast", Lambda(lambda x: x * d), (4, 5))
    save("op_residual", Lambda(lambda x, conv: F.relu(conv(x)) + x, nn.Conv2d(3, 3, 3, padding=1)), (3, 6, 6))
    save("op_relu", nn.ReLU(), (3, 4))
    save("op_sigmoid", nn.Sigmoid(), (3, 4))
    save("op_tanh", nn.Tanh(), (3, 4))
    save("op_batchnorm2d", randomize_bn(nn.BatchNorm2d(3)), (3, 4, 4))
    save("op_batchnorm1d", randomize_bn(nn.BatchNorm1d(4)), (4, 6))
    save("op_maxpool2d", nn.MaxPool2d(3, stride=2, padding=1), (2, 9, 9))
    save("op_maxpool2d_ceil", nn.MaxPool2d(2, stride=2, ceil_mode=True), (2, 7, 7))
    save("op_avgpool2d", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True), (2, 9, 9))
    save("op_avgpool2d_nopad", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 9, 9))
    save("op_avgpool2d_ceil", nn.AvgPool2d(2, stride=2, ceil_mode=True), (2, 7, 7))
    save("op_maxpool1d", nn.MaxPool1d(3, stride=2, padding=1), (3, 11))
    save("op_avgpool1d", nn.AvgPool1d(4, stride=2), (3, 12))
    save("op_global_avgpool", nn.AdaptiveAvgPool2d(1), (3, 5, 6))
    save("op_global_maxpool", nn.AdaptiveMaxPool2d(1), (3, 5, 6))
    save("op_reduce_mean", Lambda(lambda x: x.mean(dim=(2, 3), keepdim=True)), (3, 4, 5))
    save("op_reduce_max", Lambda(lambda x: x.amax(dim=2)), (3, 4, 5))
    save("op_flatten", Lambda(lambda x: torch.flatten(x, 1)), (2, 3, 4))
    save("op_view", Lambda(lambda x: x.view(x.size(0), -1)), (2, 3, 4))
    save("op_reshape", Lambda(lambda x: x.reshape(x.shape[0], 4, 6)), (2, 3, 4))
    save("op_transpose", Lambda(lambda x: x.permute(0, 2, 3, 1)), (2, 3, 4))
    save("op_concat", Lambda(lambda x: torch.cat([x, torch.relu(x)], dim=1)), (2, 3, 4))
    save("op_softmax", Lambda(lambda x: torch.softmax(x, dim=1)), (5, 3))
    save("op_unsqueeze", Lambda(lambda x: x.unsqueeze(2) * 2.0), (3, 4))
    conv_bn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), randomize_bn(nn.BatchNorm2d(4)))
    # PRESERVE keeps BatchNormalization (and Identity on its parameters) instead of fusing it at export,
    # so the importer's own folding into the Conv is what gets tested.
    save("op_conv_bn", conv_bn, (3, 6, 6), training=torch.onnx.TrainingMode.PRESERVE)
    save("op_gemm_bn", nn.Sequential(nn.Linear(6, 5), randomize_bn(nn.BatchNorm1d(5))), (6,))


class Cnn3(nn.Module):
    """Three stages of conv blocks, an exit after each."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), randomize_bn(nn.BatchNorm2d(8)), nn.ReLU(), nn.MaxPool2d(2))
        self.h1 = nn.Linear(8, 10)
        self.b2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), randomize_bn(nn.BatchNorm2d(16)), nn.ReLU(), nn.MaxPool2d(2))
        self.h2 = nn.Linear(16, 10)
        self.b3 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.h3 = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x1 = self.b1(x)
        e1 = self.h1(F.adaptive_avg_pool2d(x1, 1).flatten(1))
        x2 = self.b2(x1)
        e2 = self.h2(F.adaptive_avg_pool2d(x2, 1).flatten(1))
        x3 = self.b3(x2)
        e3 = self.h3(x3.view(x3.size(0), -1))
        return e1, e2, e3


class ResNetSkip(nn.Module):
    """Two stages; the second adds a residual from the first stage's stem (two tensors cross the boundary)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), randomize_bn(nn.BatchNorm2d(8)), nn.ReLU())
        self.h1 = nn.Linear(8, 5)
        self.block2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(8, 8, 1))
        self.h2 = nn.Linear(16, 5)

    def forward(self, x):
        s = self.stem(x)
        x1 = self.block1(s) + s
        e1 = self.h1(F.adaptive_avg_pool2d(x1, 1).flatten(1))
        x2 = F.relu(self.block2(x1) + s)
        pooled = torch.cat([F.adaptive_avg_pool2d(x2, 1), F.adaptive_max_pool2d(x2, 1)], dim=1)
        e2 = self.h2(torch.flatten(pooled, 1))
        return e1, e2


class Audio1d(nn.Module):
    """1-D convolutions over a waveform-like signal, three exits."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv1d(1, 8, 9, stride=2, padding=4), randomize_bn(nn.BatchNorm1d(8)), nn.ReLU(), nn.MaxPool1d(2))
        self.h1 = nn.Linear(8, 4)
        self.b2 = nn.Sequential(nn.Conv1d(8, 12, 5, padding=2, dilation=1), nn.ReLU(), nn.AvgPool1d(2))
        self.h2 = nn.Linear(12, 4)
        self.b3 = nn.Sequential(nn.Conv1d(12, 12, 3, padding=2, dilation=2, groups=3), nn.Tanh())
        self.h3 = nn.Linear(12, 4)

    def forward(self, x):
        x1 = self.b1(x)
        e1 = self.h1(x1.mean(dim=2))
        x2 = self.b2(x1)
        e2 = self.h2(x2.mean(dim=2))
        x3 = self.b3(x2)
        e3 = self.h3(x3.amax(dim=2))
        return e1, e2, e3


class PointNet(nn.Module):
    """Per-point MLP (MatMul on [N, points, features]), max over points, two exits."""

    def __init__(self):
        super().__init__()
        self.mlp1 = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 32), nn.ReLU())
        self.h1 = nn.Sequential(nn.Linear(32, 16), nn.Sigmoid(), nn.Linear(16, 6))
        self.mlp2 = nn.Sequential(nn.Linear(64, 32), nn.Tanh())
        self.h2 = nn.Linear(32, 6)

    def forward(self, pts):
        f = self.mlp1(pts)  # [N, P, 32]
        g = f.amax(dim=1)  # [N, 32]
        e1 = self.h1(g)
        both = torch.cat([f, f - g.unsqueeze(1)], dim=2)  # each point relative to the global feature
        h = self.mlp2(both).amax(dim=1)
        e2 = self.h2(h)
        return e1, e2


def model_fixtures():
    torch.manual_seed(2)
    labels = ",".join(f"class{i}" for i in range(10))
    save("cnn3", Cnn3(), (3, 16, 16), {"imprecise.mandatory_depth": "1", "imprecise.labels": labels,
                                       "imprecise.exit_names": "early,middle,final"})
    torch.manual_seed(3)
    save("resnet_skip", ResNetSkip(), (3, 8, 8), {"imprecise.mandatory_depth": "2"})
    torch.manual_seed(4)
    save("audio1d", Audio1d(), (1, 64), {"imprecise.labels": "yes,no,up,down"})
    torch.manual_seed(5)
    save("pointnet", PointNet(), (16, 3))


def broken_fixtures():
    """Small hand-built graphs for the error paths (no reference outputs)."""
    def model(nodes, inits, out_shape, opset=13, name="broken"):
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, 4, 4])
        y = helper.make_tensor_value_info("exit0", TensorProto.FLOAT, out_shape)
        g = helper.make_graph(nodes, name, [x], [y], inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_fixtures")

    w_ok = helper.make_tensor("w", TensorProto.FLOAT, [3, 2, 1, 1], np.ones(6, np.float32).tolist())
    conv = helper.make_node("Conv", ["input", "w"], ["exit0"], name="conv")
    onnx.save(model([helper.make_node("Einsum", ["input"], ["exit0"], name="einsum", equation="nchw->nchw")], [],
                    ["N", 2, 4, 4]),
              os.path.join(OUT, "bad_unsupported_op.onnx"))
    w_bad = helper.make_tensor("w", TensorProto.FLOAT, [3, 5, 1, 1], np.ones(15, np.float32).tolist())
    onnx.save(model([conv], [w_bad], ["N", 3, 4, 4]), os.path.join(OUT, "bad_shapes.onnx"))
    w_size = TensorProto()
    w_size.name = "w"
    w_size.data_type = TensorProto.FLOAT
    w_size.dims.extend([3, 2, 1, 1])
    w_size.raw_data = np.ones(5, np.float32).tobytes()  # 5 values where the shape needs 6
    onnx.save(model([conv], [w_size], ["N", 3, 4, 4]), os.path.join(OUT, "bad_size.onnx"))
    onnx.save(model([conv], [w_ok], ["N", 3, 4, 4], opset=9), os.path.join(OUT, "bad_opset.onnx"))
    dangling = helper.make_node("Relu", ["nowhere"], ["exit0"], name="relu_of_nothing")
    onnx.save(model([dangling], [], ["N", 2, 4, 4]), os.path.join(OUT, "bad_dangling.onnx"))
    # A valid graph with an Identity and a Constant node (PyTorch does not emit these).
    k = helper.make_node("Constant", [], ["k"], name="k",
                         value=helper.make_tensor("kv", TensorProto.FLOAT, [2, 1, 1], [0.5, -1.5]))
    ident = helper.make_node("Identity", ["input"], ["i"], name="ident")
    add = helper.make_node("Add", ["i", "k"], ["exit0"], name="add")
    onnx.save(model([k, ident, add], [], ["N", 2, 4, 4]), os.path.join(OUT, "op_identity_constant.onnx"))
    rng = np.random.default_rng(6)
    x = rng.standard_normal((BATCH, 2, 4, 4)).astype(np.float32)
    np.save(os.path.join(OUT, "op_identity_constant.input.npy"), x)
    np.save(os.path.join(OUT, "op_identity_constant.exit0.npy"),
            (x + np.array([0.5, -1.5], np.float32).reshape(2, 1, 1)).astype(np.float32))
    print("broken + identity fixtures written")


def main():
    os.makedirs(OUT, exist_ok=True)
    op_fixtures()
    model_fixtures()
    broken_fixtures()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total / 1024:.0f} KiB in {os.path.normpath(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
