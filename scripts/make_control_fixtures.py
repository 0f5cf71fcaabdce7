#!/usr/bin/python3
"""Builds the sac controller's test actors in tests/fixtures/control/ (python3-onnx + numpy, fixed seeds).

The actors follow include/imprecise/control/sac_features.hpp for MODELS = 2 models over LANES = 2 lanes:
input [N, 10 * 2 + 1 = 21] observation features, output [N, 2 * (4 + 5 + 2) = 22] logits (per model: the
batch branch {1, 2, 4, 8}, the wait branch {0, 0.5, 1, 2, 5 ms}, the lanes branch 1..2).

  actor_bias.onnx        one Gemm whose tiny weights (|x W| <= 0.21 for features in [0, 10]) never beat its
                         bias's margin of 1: the choice is the bias's argmax whatever the observation,
                         model 0 -> batch 4, wait 1 ms, 2 lanes; model 1 -> batch 1, wait 0, 1 lane
  actor_mlp.onnx         Gemm -> Relu -> Gemm (16 hidden), random; its weights in actor_mlp.{w1,b1,w2,b2}.npy
                         so the test computes the reference logits itself
  actor_wrong_shape.onnx a Gemm over 7 features (not 21): rejected, naming the file
  actor_corrupt.onnx     actor_mlp.onnx cut in half: rejected, naming the file
  actor_3x2.onnx         for 3 models over 2 lanes (31 -> 64 -> 64 -> 33, random): what the benchmark and the
                         allocation test run, an actor of the size the training script exports
  actor_bias_named.onnx  actor_bias.onnx naming its models "b,a" (metadata imprecise.sac.models, as the
                         training script writes it): its model 0 is the host's "b"
  actor_mlp_named.onnx   actor_mlp.onnx naming its models "b,a"
  actor_unknown_model.onnx actor_bias.onnx naming "a,z": a host serving "a" and "b" refuses it
Run from the repo root:
    /usr/bin/python3 scripts/make_control_fixtures.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "control")
MODELS, LANES = 2, 2
OBS = 10 * MODELS + 1
ACT = MODELS * (4 + 5 + LANES)


def save_gemms(name, layers, inputs=OBS, models=None):
    """layers: [(W [in, out], b [out])...] with a Relu between consecutive Gemms; models: the names the
    actor was trained for, in its order (metadata imprecise.sac.models), or None."""
    nodes, inits, x = [], [], "observation"
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"), numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        last = i == len(layers) - 1
        y = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y], name=f"gemm{i}"))
        if not last:
            nodes.append(helper.make_node("Relu", [y], [f"r{i}"], name=f"relu{i}"))
            y = f"r{i}"
        x = y
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["N", inputs])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", layers[-1][0].shape[1]])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_control_fixtures")
    if models is not None:
        helper.set_model_props(m, {"imprecise.sac.models": ",".join(models)})
    onnx.checker.check_model(m)
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path)
    return path


def one_hot_bias(choices):
    """Bias with 1.0 on each branch's chosen index, 0 elsewhere; choices per model (batch, wait, lanes)."""
    b = []
    for batch, wait, lanes in choices:
        for size, pick in ((4, batch), (5, wait), (LANES, lanes)):
            row = np.zeros(size)
            row[pick] = 1.0
            b.append(row)
    return np.concatenate(b)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261128)
    bias = [(rng.uniform(-1e-3, 1e-3, (OBS, ACT)), one_hot_bias([(2, 2, 1), (0, 0, 0)]))]
    save_gemms("actor_bias", bias)
    w1, b1 = rng.normal(0, 0.5, (OBS, 16)), rng.normal(0, 0.1, 16)
    w2, b2 = rng.normal(0, 0.5, (16, ACT)), rng.normal(0, 0.1, ACT)
    path = save_gemms("actor_mlp", [(w1, b1), (w2, b2)])
    for key, value in dict(w1=w1, b1=b1, w2=w2, b2=b2).items():
        np.save(os.path.join(OUT, f"actor_mlp.{key}.npy"), value.astype(np.float32))
    save_gemms("actor_wrong_shape", [(rng.normal(0, 0.5, (7, ACT)), np.zeros(ACT))], inputs=7)
    data = open(path, "rb").read()
    with open(os.path.join(OUT, "actor_corrupt.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    rng3 = np.random.default_rng(3)
    obs3, act3 = 10 * 3 + 1, 3 * (4 + 5 + LANES)
    save_gemms("actor_3x2", [(rng3.normal(0, 0.3, (obs3, 64)), np.zeros(64)), (rng3.normal(0, 0.2, (64, 64)), np.zeros(64)),
                             (rng3.normal(0, 0.2, (64, act3)), np.zeros(act3))], inputs=obs3)
    save_gemms("actor_bias_named", bias, models=["b", "a"])
    save_gemms("actor_mlp_named", [(w1, b1), (w2, b2)], models=["b", "a"])
    save_gemms("actor_unknown_model", bias, models=["a", "z"])
    print(f"wrote {sorted(os.listdir(OUT))}")


if __name__ == "__main__":
    main()
