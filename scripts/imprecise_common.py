"""What the Python scripts in scripts/ share: the training, fixture and plot scripts import it from here.

    load_features / load_features_torch   read `imprecise features` output (FEATURES/SPLIT/inputs.npy, labels.npy)
    train_epoch, one_cycle                one epoch of the multi-exit training loop (loss = sum of the exits'
                                          cross-entropies) and its one-cycle learning-rate schedule
    exit_accuracies                       per-exit accuracy of a multi-exit torch model
    exit_metadata, export_onnx            ONNX export, one graph output per exit in exit order, with the keys
                                          imprecise.mandatory_depth / imprecise.labels / imprecise.exit_names
    ece                                   expected calibration error (15 equal-width bins, as `imprecise eval`)
    auroc                                 area under the ROC curve (e.g. of an exit's confidence for its correctness)
    run_infer                             every exit's answers from the C++ engine (`imprecise infer`)
    pyplot, read_csv_rows, plot_reliability   matplotlib without a display, a CSV's rows, the reliability diagram

The scripts run as `/usr/bin/python3 scripts/NAME.py`, so scripts/ is on sys.path and `import imprecise_common`
finds this file. torch, onnx and matplotlib are imported inside the functions that use them: the plot
scripts need no torch and the training scripts no matplotlib.
"""
import csv
import json
import os
import subprocess
import sys

import numpy as np

MANDATORY_DEPTH_KEY = "imprecise.mandatory_depth"
LABELS_KEY = "imprecise.labels"
EXIT_NAMES_KEY = "imprecise.exit_names"


# ---- `imprecise features` output -------------------------------------------------------------------------------

def load_features(features, split=None, shape=None):
    """(inputs float32 [N, ...], labels int64 [N]) from FEATURES[/SPLIT]/{inputs,labels}.npy, as written by
    `imprecise features`. shape, when given, is the expected shape of one sample."""
    folder = os.path.join(features, split) if split else features
    x = np.load(os.path.join(folder, "inputs.npy")).astype(np.float32)
    y = np.load(os.path.join(folder, "labels.npy")).astype(np.int64)
    if shape is not None:
        assert x.shape[1:] == tuple(shape), x.shape
    return x, y


def load_features_torch(features, split=None, shape=None):
    """load_features() as torch tensors (float32 inputs, int64 labels)."""
    import torch
    x, y = load_features(features, split, shape)
    return torch.from_numpy(x), torch.from_numpy(y)


# ---- training --------------------------------------------------------------------------------------------------

def one_cycle(opt, max_lr, epochs, samples, batch):
    """The one-cycle schedule over every step of `epochs` epochs of `samples` samples in batches of `batch`."""
    import torch
    steps = epochs * ((samples + batch - 1) // batch)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps)


def per_exit_arg(parser, flag, text, count, kind=float):
    """Parses a comma-separated list with one value per exit or stage (--exit-weights, --widths); a value
    that is not a `kind` or a wrong count is a usage error naming the flag."""
    try:
        values = [kind(v) for v in text.split(",")]
    except ValueError:
        parser.error(f"{flag}: '{text}' is not a comma-separated list of {kind.__name__} values")
    if len(values) != count:
        parser.error(f"{flag}: {len(values)} values for {count} exits")
    return values


def train_epoch(model, opt, sched, x, y, batch, gen, augment=None, label_smoothing=0.0, exit_weights=None):
    """One epoch over (x, y) in an order drawn from gen; every batch goes through augment(xb, gen) when given.
    Loss = the sum of the exits' cross-entropies (each times exit_weights[k] when given). Returns the mean
    loss per sample."""
    import torch
    import torch.nn.functional as F
    model.train()
    total = 0.0
    order = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        xb = augment(x[idx], gen) if augment is not None else x[idx]
        outputs = model(xb)
        weights = exit_weights if exit_weights is not None else [1.0] * len(outputs)
        loss = sum(w * F.cross_entropy(logits, y[idx], label_smoothing=label_smoothing)
                   for w, logits in zip(weights, outputs))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss) * len(idx)
    return total / len(x)


def exit_accuracies(model, x, y, batch):
    """Accuracy of every exit of a multi-exit model (its forward returns one logits tensor per exit) on (x, y),
    evaluated in batches of `batch`, as a list of floats."""
    import torch
    model.eval()
    correct = None
    with torch.no_grad():
        for i in range(0, len(x), batch):
            hits = [int((logits.argmax(1) == y[i:i + batch]).sum()) for logits in model(x[i:i + batch])]
            correct = hits if correct is None else [c + h for c, h in zip(correct, hits)]
    return [c / len(x) for c in correct]


# ---- ONNX export -----------------------------------------------------------------------------------------------

def exit_metadata(labels, exit_names, mandatory_depth=1):
    """The metadata the C++ importer reads from a multi-exit model."""
    return {MANDATORY_DEPTH_KEY: str(mandatory_depth), LABELS_KEY: ",".join(labels),
            EXIT_NAMES_KEY: ",".join(exit_names)}


def export_onnx(model, sample, path, exit_names, metadata=None, check=True, training=None):
    """Exports a multi-exit model to ONNX (opset 13, input "input", one output per exit named exit_names in
    exit order, dynamic batch axis N, constant folding), then adds `metadata` (e.g. exit_metadata(...)) as
    metadata_props in its order. Without metadata the file is left as torch wrote it. Returns the onnx model."""
    import onnx
    import torch
    model.eval()
    dynamic = {"input": {0: "N"}}
    dynamic.update({n: {0: "N"} for n in exit_names})
    torch.onnx.export(model, (sample,), path, opset_version=13, input_names=["input"], output_names=list(exit_names),
                      dynamic_axes=dynamic, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL if training is None else training)
    m = onnx.load(path)
    if metadata:
        for key, value in metadata.items():
            p = m.metadata_props.add()
            p.key, p.value = key, value
        if check:
            onnx.checker.check_model(m)
        onnx.save(m, path)
    elif check:
        onnx.checker.check_model(m)
    return m


# ---- the C++ engine's answers and their calibration ---------------------------------------------------------------

def ece(conf, correct, bins=15):
    """Expected calibration error over `bins` equal-width confidence bins (as `imprecise eval` computes it)."""
    idx = np.clip((conf * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += abs(correct[m].sum() - conf[m].sum()) / len(conf)
    return total


def auroc(scores, positive):
    """Area under the ROC curve of `scores` for telling `positive` (bool) samples from the others: the chance
    that a random positive scores above a random negative (ties count half). nan without both kinds."""
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    pos, neg = int(positive.sum()), int((~positive).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties (1-based)
    first = np.searchsorted(sorted_scores, sorted_scores, side="left")
    last = np.searchsorted(sorted_scores, sorted_scores, side="right")
    ranks[order] = (first + last + 1) / 2.0
    return float((ranks[positive].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def run_infer(cli, model, inputs):
    """The exits (name, prediction, confidence per sample) of `imprecise infer --model MODEL --input INPUTS`."""
    run = subprocess.run([cli, "infer", "--model", model, "--input", inputs], check=True, capture_output=True,
                         text=True)
    return json.loads(run.stdout)["exits"]


# ---- plots -----------------------------------------------------------------------------------------------------

def pyplot():
    """matplotlib.pyplot on the Agg backend (no display on build machines)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


MARKERS = "osD^v<>xP*"
DASHES = ["-", "--", "-.", ":"]


def policy_style(index):
    """A distinct marker and dash per policy, so lines that tie (yao-dp and density) stay visible."""
    return dict(marker=MARKERS[index % len(MARKERS)], linestyle=DASHES[index % len(DASHES)])


def zoom_limits(values, band=0.06, pad=0.005):
    """(low, high) y-limits around the top cluster of `values` (those within `band` of the best): the
    range where the interesting policies sit, for a zoomed second panel."""
    values = [v for v in values if v == v]
    top = max(values)
    cluster = [v for v in values if v >= top - band]
    return min(cluster) - pad, top + pad


def x_offsets(count, spread):
    """Small horizontal offsets (centred on 0) that keep `count` policies' markers apart where they tie,
    e.g. several policies at zero misses."""
    if count <= 1:
        return [0.0]
    return [spread * (i / (count - 1) - 0.5) for i in range(count)]


def note_all_zero(ax, names):
    """Names the policies whose values are 0 at every load (their markers overlap on the axis)."""
    if names:
        ax.text(0.02, 0.97, "0 at every load: " + ", ".join(names), transform=ax.transAxes, va="top", fontsize=8,
                bbox=dict(facecolor="white", edgecolor="grey", alpha=0.9))


def legend_outside(ax, **kwargs):
    """The legend to the right of the axes, never on top of the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8, **kwargs)


def read_csv_rows(path, prog):
    """The rows of a CSV file with a header, as dicts; exits with "PROG: PATH: no rows" when there are none."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{prog}: {path}: no rows")
    return rows


def plot_reliability(exits, labels, out, title, samples_name, bins=10, min_count=10):
    """Two panels: accuracy against mean confidence per exit in `bins` equal-width confidence bins (bins with
    fewer than min_count samples left out; the diagonal is perfect calibration; each exit's accuracy and
    ECE in the legend), and each exit's confidence histogram. exits: run_infer()'s list; labels: int [N];
    samples_name: what the histogram counts (e.g. "test images"). Prints and returns each exit's
    (name, accuracy, ECE)."""
    plt = pyplot()
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    edges = np.linspace(0, 1, bins + 1)
    summary = []
    for e in exits:
        conf = np.asarray(e["confidence"], dtype=float)
        correct = (np.asarray(e["prediction"]) == labels).astype(float)
        idx = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
        xs, ys = [], []
        for b in range(bins):
            m = idx == b
            if m.sum() >= min_count:  # bins with a handful of samples say nothing
                xs.append(conf[m].mean())
                ys.append(correct[m].mean())
        ax.plot(xs, ys, "o-", label=f"{e['name']}: acc {correct.mean():.3f}, ECE {ece(conf, correct):.3f}")
        hist.hist(conf, bins=edges, histtype="step", lw=1.5, label=e["name"])
        print(f"{e['name']}: accuracy {correct.mean():.4f}, ECE {ece(conf, correct):.4f}, {len(conf)} samples")
        summary.append((e["name"], float(correct.mean()), ece(conf, correct)))
    ax.set_xlabel("confidence (max softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    hist.set_yscale("log")
    hist.set_xlabel("confidence")
    hist.set_ylabel(samples_name)
    hist.set_title("confidence histogram per exit")
    hist.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}")
    return summary
