#!/usr/bin/env python3
"""Generates Verity's small real models, their sample inputs and onnxruntime's outputs.

Everything is seeded, so a rerun on the same machine rewrites the same bytes (another machine's
BLAS may round the float training differently, and onnxmltools names graph values differently on
every run; the committed files are the reference).

    python3 -m venv ~/.cache/verity/venv
    ~/.cache/verity/venv/bin/pip install numpy==2.4.6 onnx==1.19.1 scikit-learn==1.9.1 \
        onnxruntime==1.32.0 skl2onnx==1.20.0 onnxmltools==1.16.0 xgboost==3.2.0 lightgbm==4.7.0
    ~/.cache/verity/venv/bin/python models/generate.py            # the committed models
    ~/.cache/verity/venv/bin/python models/generate.py --classical-only   # only the classical-ML ones
    ~/.cache/verity/venv/bin/python models/generate.py --dynamic-only     # only mlp-digits-dynq
    ~/.cache/verity/venv/bin/python models/generate.py --resnet   # also ResNet-18 (not committed)
    ~/.cache/verity/venv/bin/python models/generate.py --resnet-only   # ResNet-18 alone

Writes, for each committed model, `models/<name>/`:
    model.onnx           the model (ai.onnx opset 17, IR version 8)
    input_<k>.npy        sample inputs (float32; batch sizes 1, 4 and 16)
    expected_<k>.npy     onnxruntime's output 0 for input k (the probabilities)
    expected_<k>_<j>.npy onnxruntime's output j >= 1 (logits; for the int8 model also the uint8
                         logits straight out of QLinearMatMul)
    meta.json            input/output names, shapes and types, accuracy, parameters
and `models/README.md`. With `--resnet`, writes `$HOME/.cache/verity/models/resnet18/` with the
same layout (model, one 1x3x224x224 input, onnxruntime's output).

The expected outputs come from onnxruntime (CPU, graph optimisations off): an oracle Verity did
not write.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

OPSET = 17
IR_VERSION = 8
HERE = Path(__file__).resolve().parent
SAMPLE_BATCHES = (1, 4, 16)


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


def digits():
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1], split 80/20 (stratified, seeded)."""
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    return train_test_split(x, d.target, test_size=0.2, random_state=0, stratify=d.target)


def samples(x_test, shape):
    """Sample inputs: the first 1, next 4 and next 16 test samples, reshaped to `shape` (images
    as float32; other inputs keep their type)."""
    out, start = [], 0
    for n in SAMPLE_BATCHES:
        x = x_test[start : start + n].reshape((n,) + shape)
        out.append(x.astype(np.float32) if x.dtype.kind == "f" else x)
        start += n
    return out


# ----------------------------------------------------------------------------------------------
# ONNX helpers
# ----------------------------------------------------------------------------------------------


class Graph:
    """A tiny builder over onnx.helper: initializers from numpy, nodes with generated names."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, out=None, **attrs):
        self.count += 1
        out = out or f"{op.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.count}", **attrs))
        return out

    def model(self, name, inp, in_shape, outputs, out_shape, doc, in_type=TensorProto.FLOAT):
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(inp, in_type, in_shape)],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, out_shape) for o in outputs],
            self.inits,
        )
        m = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="verity-models-generate",
            doc_string=doc,
        )
        m.ir_version = IR_VERSION
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m, full_check=True)
        return m


def session(model):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def ort_label_accuracy(sess, x, y):
    """Accuracy of a classifier whose output 0 is the label."""
    labels = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    return float((labels == y).mean())


def ort_accuracy(sess, x, y):
    probs = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    return float((probs.argmax(axis=1) == y).mean())


def params(model):
    return int(sum(np.prod(i.dims, dtype=np.int64) for i in model.graph.initializer))


def op_types(model):
    seen = []
    for n in model.graph.node:
        name = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        if name not in seen:
            seen.append(name)
    return seen


def write_model(dirpath, model, inputs, meta):
    """Writes the model, its inputs, onnxruntime's outputs and meta.json; returns meta."""
    dirpath.mkdir(parents=True, exist_ok=True)
    for old in list(dirpath.glob("input_*.npy")) + list(dirpath.glob("expected_*.npy")):
        old.unlink()
    data = model.SerializeToString()
    (dirpath / "model.onnx").write_bytes(data)
    sess = session(model)
    in_name = sess.get_inputs()[0].name
    out_names = [o.name for o in sess.get_outputs()]
    outputs_meta = []
    for k, x in enumerate(inputs):
        np.save(dirpath / f"input_{k}.npy", x, allow_pickle=False)
        ys = sess.run(None, {in_name: x})
        for j, y in enumerate(ys):
            suffix = "" if j == 0 else f"_{j}"
            np.save(dirpath / f"expected_{k}{suffix}.npy", y, allow_pickle=False)
            if k == 0:
                outputs_meta.append({"name": out_names[j], "dtype": str(y.dtype)})
    meta = dict(meta)
    meta.update(
        {
            "input": {"name": in_name, "dtype": str(inputs[0].dtype), "shape": list(inputs[0].shape[1:])},
            "outputs": outputs_meta,
            "samples": [list(x.shape) for x in inputs],
            "ops": op_types(model),
            "params": params(model),
            "bytes": len(data),
            "opset": OPSET,
        }
    )
    (dirpath / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


# ----------------------------------------------------------------------------------------------
# mlp-digits: scikit-learn MLP, exported by hand
# ----------------------------------------------------------------------------------------------


def mlp_digits(x_train, y_train, x_test, y_test):
    clf = MLPClassifier(
        hidden_layer_sizes=(64, 32),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=64,
        learning_rate_init=1e-3,
        max_iter=400,
        random_state=0,
        tol=1e-6,
        n_iter_no_change=400,
    )
    with warnings.catch_warnings():
        # It runs the full 400 epochs by design (n_iter_no_change=400).
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        clf.fit(x_train, y_train)
    (w1, w2, w3), (b1, b2, b3) = clf.coefs_, clf.intercepts_
    g = Graph()
    h = g.node(
        "Gemm",
        ["input", g.init("fc1.weight", w1.T.astype(np.float32)), g.init("fc1.bias", b1.astype(np.float32))],
        transB=1,
    )
    h = g.node("Relu", [h])
    h = g.node("MatMul", [h, g.init("fc2.weight", w2.astype(np.float32))])
    h = g.node("Add", [h, g.init("fc2.bias", b2.astype(np.float32))])
    h = g.node("Relu", [h])
    logits = g.node(
        "Gemm",
        [h, g.init("fc3.weight", w3.T.astype(np.float32)), g.init("fc3.bias", b3.astype(np.float32))],
        out="logits",
        transB=1,
    )
    g.node("Softmax", [logits], out="probs", axis=1)
    model = g.model(
        "mlp_digits",
        "input",
        ["N", 64],
        ["probs", "logits"],
        ["N", 10],
        "MLP 64-64-32-10 (ReLU) on scikit-learn's 8x8 digits, pixel values / 16.",
    )
    acc = ort_accuracy(session(model), x_test, y_test)
    return model, {
        "what": "MLP 64-64-32-10 (ReLU, Softmax) trained with scikit-learn's MLPClassifier (Adam) on the 8x8 digits",
        "training": "scikit-learn MLPClassifier, random_state=0, 400 epochs",
        "test_accuracy": acc,
        "sklearn_test_accuracy": float(clf.score(x_test, y_test)),
    }


# ----------------------------------------------------------------------------------------------
# bag-of-tokens: an embedding-bag text classifier, whose Gather fails on unknown token ids
# ----------------------------------------------------------------------------------------------

VOCAB, TOPICS, SEQ, EMBED = 64, 4, 16, 16


def token_topics(n, rng):
    """Synthetic documents: SEQ token ids, each from the document's topic (a quarter of the
    vocabulary) with probability 0.6, else uniform over the vocabulary; the label is the topic."""
    y = rng.integers(0, TOPICS, n)
    own = rng.integers(0, VOCAB // TOPICS, (n, SEQ)) + (y * (VOCAB // TOPICS))[:, None]
    noise = rng.integers(0, VOCAB, (n, SEQ))
    x = np.where(rng.random((n, SEQ)) < 0.6, own, noise).astype(np.int64)
    return x, y


def bag_of_tokens():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x_train, y_train = token_topics(2000, rng)
    x_test, y_test = token_topics(500, rng)
    embeddings = rng.normal(0.0, 1.0, (VOCAB, EMBED)).astype(np.float32)
    clf = LogisticRegression(max_iter=1000, random_state=0)
    clf.fit(embeddings[x_train].mean(axis=1), y_train)
    g = Graph()
    h = g.node("Gather", [g.init("embeddings", embeddings), "tokens"], axis=0)
    h = g.node("ReduceMean", [h], axes=[1], keepdims=0)
    logits = g.node(
        "Gemm",
        [h, g.init("fc.weight", clf.coef_.astype(np.float32)), g.init("fc.bias", clf.intercept_.astype(np.float32))],
        out="logits",
        transB=1,
    )
    g.node("Softmax", [logits], out="probs", axis=1)
    model = g.model(
        "bag_of_tokens",
        "tokens",
        ["N", SEQ],
        ["probs", "logits"],
        ["N", TOPICS],
        f"Embedding-bag topic classifier: {SEQ} token ids (0..{VOCAB - 1}) -> mean embedding -> linear.",
        in_type=TensorProto.INT64,
    )
    sess = session(model)
    acc = float((sess.run(None, {"tokens": x_test})[0].argmax(axis=1) == y_test).mean())
    # The oracle refuses an id outside the vocabulary too (ONNX: Gather indices must be in range).
    unknown = x_test[:1].copy()
    unknown[0, 3] = VOCAB
    try:
        sess.run(None, {"tokens": unknown})
        raise SystemExit("onnxruntime accepted an out-of-vocabulary token id")
    except ort.capi.onnxruntime_pybind11_state.InvalidArgument as e:
        refusal = str(e).splitlines()[0]
    return model, samples(x_test, (SEQ,)), {
        "what": f"embedding-bag topic classifier ({SEQ} int64 token ids of a {VOCAB}-token vocabulary, "
        f"{TOPICS} topics); ids outside the vocabulary make its Gather fail",
        "training": "seeded random embeddings, scikit-learn LogisticRegression on the mean embedding, "
        "synthetic documents (seed 0)",
        "test_accuracy": acc,
        "out_of_vocabulary": {"token": VOCAB, "onnxruntime": refusal},
    }


# ----------------------------------------------------------------------------------------------
# cnn-digits: a small CNN trained with numpy
# ----------------------------------------------------------------------------------------------


def im2col(x, k, stride, pad):
    """[N, C, H, W] -> ([N*OH*OW, C*k*k], OH, OW) for a k x k window."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k), oh, ow


def conv2d(x, w, b=None, stride=1, pad=0):
    f, _, k, _ = w.shape
    cols, oh, ow = im2col(x, k, stride, pad)
    y = cols @ w.reshape(f, -1).T
    if b is not None:
        y = y + b
    return y.reshape(x.shape[0], oh, ow, f).transpose(0, 3, 1, 2), cols


def conv2d_backward(dy, x_shape, w, cols, pad):
    """Gradients of a stride-1 convolution with respect to its input and weight."""
    n, c, h, wd = x_shape
    f, _, k, _ = w.shape
    dflat = dy.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (dflat.T @ cols).reshape(w.shape)
    dcols = (dflat @ w.reshape(f, -1)).reshape(n, h, wd, c, k, k)
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=dy.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i : i + h, j : j + wd] += dcols[..., i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, pad : pad + h, pad : pad + wd], dw, dflat.sum(axis=0)


def maxpool2(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = blocks.argmax(axis=-1)
    return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0], arg


def maxpool2_backward(dy, arg, shape):
    n, c, h, w = shape
    d = np.zeros((n, c, h // 2, w // 2, 4), dtype=dy.dtype)
    np.put_along_axis(d, arg[..., None], dy[..., None], axis=-1)
    return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


BN_EPS = 1e-5


def cnn_forward(p, x, train=False, stats=None):
    """conv1 (no bias) -> BN -> ReLU -> pool -> conv2 + bias -> ReLU -> pool -> FC."""
    cache = {}
    c1, cache["cols1"] = conv2d(x, p["w1"], pad=1)
    if train:
        mu, var = c1.mean(axis=(0, 2, 3)), c1.var(axis=(0, 2, 3))
        stats["mean"] = 0.9 * stats["mean"] + 0.1 * mu
        stats["var"] = 0.9 * stats["var"] + 0.1 * var * c1.size / (c1.size - c1.shape[1])
    else:
        mu, var = stats["mean"], stats["var"]
    inv = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (c1 - mu[None, :, None, None]) * inv[None, :, None, None]
    bn = p["gamma"][None, :, None, None] * xhat + p["beta"][None, :, None, None]
    r1 = np.maximum(bn, 0)
    p1, cache["arg1"] = maxpool2(r1)
    c2, cache["cols2"] = conv2d(p1, p["w2"], p["b2"], pad=1)
    r2 = np.maximum(c2, 0)
    p2, cache["arg2"] = maxpool2(r2)
    flat = p2.reshape(x.shape[0], -1)
    logits = flat @ p["wf"].T + p["bf"]
    cache.update(dict(x=x, c1=c1, xhat=xhat, inv=inv, bn=bn, r1=r1, p1=p1, c2=c2, r2=r2, p2=p2, flat=flat))
    return logits, cache


def cnn_backward(p, cache, dlogits):
    g = {}
    g["wf"] = dlogits.T @ cache["flat"]
    g["bf"] = dlogits.sum(axis=0)
    dp2 = (dlogits @ p["wf"]).reshape(cache["p2"].shape)
    dr2 = maxpool2_backward(dp2, cache["arg2"], cache["r2"].shape)
    dc2 = dr2 * (cache["c2"] > 0)
    dp1, g["w2"], g["b2"] = conv2d_backward(dc2, cache["p1"].shape, p["w2"], cache["cols2"], pad=1)
    dr1 = maxpool2_backward(dp1, cache["arg1"], cache["r1"].shape)
    dbn = dr1 * (cache["bn"] > 0)
    xhat, inv = cache["xhat"], cache["inv"]
    g["gamma"] = (dbn * xhat).sum(axis=(0, 2, 3))
    g["beta"] = dbn.sum(axis=(0, 2, 3))
    dxhat = dbn * p["gamma"][None, :, None, None]
    m = dxhat.shape[0] * dxhat.shape[2] * dxhat.shape[3]
    dc1 = (
        inv[None, :, None, None]
        / m
        * (
            m * dxhat
            - dxhat.sum(axis=(0, 2, 3))[None, :, None, None]
            - xhat * (dxhat * xhat).sum(axis=(0, 2, 3))[None, :, None, None]
        )
    )
    _, g["w1"], _ = conv2d_backward(dc1, cache["x"].shape, p["w1"], cache["cols1"], pad=1)
    return g


def train_cnn(x_train, y_train, x_test, y_test, epochs=40, batch=64, lr=3e-3, seed=0):
    rng = np.random.default_rng(seed)
    he = lambda shape, fan_in: rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    p = {
        "w1": he((8, 1, 3, 3), 9),
        "gamma": np.ones(8),
        "beta": np.zeros(8),
        "w2": he((16, 8, 3, 3), 72),
        "b2": np.zeros(16),
        "wf": he((10, 64), 64),
        "bf": np.zeros(10),
    }
    stats = {"mean": np.zeros(8), "var": np.ones(8)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    x = x_train.reshape(-1, 1, 8, 8).astype(np.float64)
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        for s in range(0, len(x), batch):
            idx = order[s : s + batch]
            logits, cache = cnn_forward(p, x[idx], train=True, stats=stats)
            dlogits = softmax(logits)
            dlogits[np.arange(len(idx)), y_train[idx]] -= 1.0
            dlogits /= len(idx)
            grads = cnn_backward(p, cache, dlogits)
            step += 1
            for k in p:
                gk = grads[k] + (1e-4 * p[k] if k in ("w1", "w2", "wf") else 0.0)
                m[k] = 0.9 * m[k] + 0.1 * gk
                v[k] = 0.999 * v[k] + 0.001 * gk * gk
                mh, vh = m[k] / (1 - 0.9**step), v[k] / (1 - 0.999**step)
                p[k] -= rate * mh / (np.sqrt(vh) + 1e-8)
    # Final BN statistics over the whole training set (inference semantics).
    c1, _ = conv2d(x, p["w1"], pad=1)
    stats = {"mean": c1.mean(axis=(0, 2, 3)), "var": c1.var(axis=(0, 2, 3))}
    logits, _ = cnn_forward(p, x_test.reshape(-1, 1, 8, 8).astype(np.float64), stats=stats)
    acc = float((logits.argmax(axis=1) == y_test).mean())
    return p, stats, acc


def cnn_graph(p, stats, for_quantization=False):
    """The trained CNN as ONNX. `for_quantization` folds the BatchNormalization into conv1 (in
    float64) and writes the classifier as MatMul + Add: the quantizer then emits QLinearConv and
    a standard QLinearMatMul (a Gemm would become the contrib op QGemm, and onnxruntime's graph
    optimiser would fuse MatMul + Add back into a Gemm, so it is not run)."""
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    g = Graph()
    if for_quantization:
        a = p["gamma"] / np.sqrt(stats["var"] + BN_EPS)
        h = g.node(
            "Conv",
            [
                "input",
                g.init("conv1.weight", f32(p["w1"] * a[:, None, None, None])),
                g.init("conv1.bias", f32(p["beta"] - stats["mean"] * a)),
            ],
            pads=[1, 1, 1, 1],
            kernel_shape=[3, 3],
        )
    else:
        h = g.node("Conv", ["input", g.init("conv1.weight", f32(p["w1"]))], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        h = g.node(
            "BatchNormalization",
            [
                h,
                g.init("bn1.scale", f32(p["gamma"])),
                g.init("bn1.bias", f32(p["beta"])),
                g.init("bn1.mean", f32(stats["mean"])),
                g.init("bn1.var", f32(stats["var"])),
            ],
            epsilon=BN_EPS,
        )
    h = g.node("Relu", [h])
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node(
        "Conv",
        [h, g.init("conv2.weight", f32(p["w2"])), g.init("conv2.bias", f32(p["b2"]))],
        pads=[1, 1, 1, 1],
        kernel_shape=[3, 3],
    )
    h = g.node("Relu", [h])
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Flatten", [h], axis=1)
    if for_quantization:
        h = g.node("MatMul", [h, g.init("fc.weight", f32(p["wf"].T))])
        logits = g.node("Add", [h, g.init("fc.bias", f32(p["bf"]))], out="logits")
    else:
        logits = g.node(
            "Gemm", [h, g.init("fc.weight", f32(p["wf"])), g.init("fc.bias", f32(p["bf"]))], out="logits", transB=1
        )
    g.node("Softmax", [logits], out="probs", axis=1)
    return g.model(
        "cnn_digits",
        "input",
        ["N", 1, 8, 8],
        ["probs", "logits"],
        ["N", 10],
        "CNN on scikit-learn's 8x8 digits (1x8x8 images, pixel values / 16): "
        "Conv3x3(8)-BN-ReLU-MaxPool-Conv3x3(16)-ReLU-MaxPool-FC(10)-Softmax.",
    )


# ----------------------------------------------------------------------------------------------
# cnn-digits-int8: onnxruntime static quantization (QOperator) of the CNN
# ----------------------------------------------------------------------------------------------


class DigitsReader(CalibrationDataReader):
    def __init__(self, x, batch=64):
        self.batches = [x[i : i + batch] for i in range(0, len(x), batch)]
        self.i = 0

    def get_next(self):
        if self.i >= len(self.batches):
            return None
        self.i += 1
        return {"input": self.batches[self.i - 1]}


def quantize_cnn(float_model, x_calib):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        onnx.save(float_model, src)
        # The quantizer logs a warning recommending its pre-processing (shape inference and
        # onnxruntime's graph optimiser): the shapes are already inferred and the optimiser is
        # avoided on purpose (see `cnn_graph`).
        logging.getLogger().setLevel(logging.ERROR)
        quantize_static(
            str(src),
            str(dst),
            DigitsReader(x_calib),
            quant_format=QuantFormat.QOperator,
            op_types_to_quantize=["Conv", "Relu", "MaxPool", "Flatten", "MatMul"],
            per_channel=True,
            # 7-bit weights: onnxruntime's u8s8 kernels on x86 without VNNI (vpmaddubsw) can
            # saturate 16-bit pair sums otherwise, which would make the oracle inexact.
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        model = onnx.load(dst)
    # Also expose the integer logits straight out of QLinearMatMul.
    qmm = [n for n in model.graph.node if n.op_type == "QLinearMatMul"]
    assert len(qmm) == 1, [n.op_type for n in model.graph.node]
    q_name = qmm[0].output[0]
    for n in model.graph.node:
        n.input[:] = ["logits_quantized" if i == q_name else i for i in n.input]
        n.output[:] = ["logits_quantized" if o == q_name else o for o in n.output]
    model.graph.output.append(helper.make_tensor_value_info("logits_quantized", TensorProto.UINT8, ["N", 10]))
    strip_unused_domains(model)
    model.producer_name = "verity-models-generate (onnxruntime.quantization)"
    onnx.checker.check_model(model, full_check=True)
    return model


def strip_unused_domains(model):
    """Drops opset imports of domains no node uses (the quantizer adds com.microsoft)."""
    used = {n.domain for n in model.graph.node}
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)


def dynamic_quantized_mlp(out):
    """`mlp-digits` (read from `out`) through onnxruntime's dynamic quantizer: its MatMul becomes
    DynamicQuantizeLinear (uint8 activations, scale and zero point computed per inference) →
    MatMulInteger with int8 weights → Cast → Mul by both scales, as `quantize_dynamic` emits it
    for transformer and recurrent layers."""
    x_train, x_test, y_train, y_test = digits()
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "dynq.onnx"
        logging.getLogger().setLevel(logging.ERROR)
        quantize_dynamic(
            str(out / "mlp-digits" / "model.onnx"),
            str(dst),
            op_types_to_quantize=["MatMul"],
            # 7-bit weights, as for cnn-digits-int8: exact u8s8 sums in onnxruntime on any x86.
            reduce_range=True,
            weight_type=QuantType.QInt8,
        )
        model = onnx.load(dst)
    strip_unused_domains(model)
    model.producer_name = "verity-models-generate (onnxruntime.quantization)"
    onnx.checker.check_model(model, full_check=True)
    acc = ort_accuracy(session(model), x_test, y_test)
    meta = {
        "what": "`mlp-digits` dynamically quantized (uint8 activations per inference, 7-bit int8 weights)",
        "how": "`onnxruntime.quantization.quantize_dynamic` (MatMul, reduce_range) of `mlp-digits`",
        "test_accuracy": acc,
    }
    meta = write_model(out / "mlp-digits-dynq", model, samples(x_test, (64,)), meta)
    print(f"mlp-digits-dynq: test accuracy {acc:.4f} ({meta['bytes']} bytes); ops {meta['ops']}")


# ----------------------------------------------------------------------------------------------
# resnet18: ImageNet-shaped, seeded random weights (not committed)
# ----------------------------------------------------------------------------------------------


def resnet18(seed=0):
    """ResNet-18 (torchvision layout) with He-initialised convolutions. BatchNormalization
    statistics are set from a forward pass over a seeded random batch (data-dependent init), so
    activations stay normalised through all 18 layers and the logits are not degenerate."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (2, 3, 224, 224))
    g = Graph()

    def conv_bn(h, x, cin, cout, k, stride, name, relu=True):
        w = rng.normal(0.0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        y, _ = conv2d(x, w, stride=stride, pad=k // 2)
        mean, var = y.mean(axis=(0, 2, 3)), y.var(axis=(0, 2, 3))
        gamma = 1.0 + 0.1 * rng.normal(size=cout)
        beta = 0.1 * rng.normal(size=cout)
        y = (y - mean[None, :, None, None]) / np.sqrt(var + BN_EPS)[None, :, None, None]
        y = gamma[None, :, None, None] * y + beta[None, :, None, None]
        f32 = lambda a: np.asarray(a, dtype=np.float32)
        h = g.node(
            "Conv",
            [h, g.init(f"{name}.weight", f32(w))],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[k // 2] * 4,
        )
        h = g.node(
            "BatchNormalization",
            [
                h,
                g.init(f"{name}.bn.scale", f32(gamma)),
                g.init(f"{name}.bn.bias", f32(beta)),
                g.init(f"{name}.bn.mean", f32(mean)),
                g.init(f"{name}.bn.var", f32(var)),
            ],
            epsilon=BN_EPS,
        )
        if relu:
            h = g.node("Relu", [h])
            y = np.maximum(y, 0)
        return h, y

    h, x = conv_bn("input", x, 3, 64, 7, 2, "conv1")
    h = g.node("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    x = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(4, 5))
    cin = 64
    for layer, cout in enumerate([64, 128, 256, 512], start=1):
        for block in range(2):
            stride = 2 if (layer > 1 and block == 0) else 1
            name = f"layer{layer}.{block}"
            a, y = conv_bn(h, x, cin, cout, 3, stride, f"{name}.conv1")
            a, y = conv_bn(a, y, cout, cout, 3, 1, f"{name}.conv2", relu=False)
            if stride != 1 or cin != cout:
                s, sx = conv_bn(h, x, cin, cout, 1, stride, f"{name}.downsample", relu=False)
            else:
                s, sx = h, x
            h = g.node("Relu", [g.node("Add", [a, s])])
            x = np.maximum(y + sx, 0)
            cin = cout
    h = g.node("GlobalAveragePool", [h])
    h = g.node("Flatten", [h], axis=1)
    wf = rng.normal(0.0, np.sqrt(1.0 / 512), (1000, 512)).astype(np.float32)
    logits = g.node("Gemm", [h, g.init("fc.weight", wf), g.init("fc.bias", np.zeros(1000, np.float32))], out="logits", transB=1)
    g.node("Softmax", [logits], out="probs", axis=1)
    return g.model(
        "resnet18",
        "input",
        [1, 3, 224, 224],
        ["probs", "logits"],
        [1, 1000],
        "ResNet-18-shaped ImageNet CNN with seeded random weights (not trained).",
    )


# ----------------------------------------------------------------------------------------------
# Classical ML: scikit-learn, XGBoost and LightGBM models exported by skl2onnx and onnxmltools
# ----------------------------------------------------------------------------------------------


def classical_models(out):
    """Writes the classical-ML models (the `ai.onnx.ml` domain as the exporters write it), each
    with the digits (classifiers) or the diabetes data (regressors); returns their names. The
    exporters are imported here: only this part of the script needs them."""
    import lightgbm
    import xgboost
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import to_onnx
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

    x_train, x_test, y_train, y_test = digits()
    odd_train, odd_test = (y_train % 2).astype(np.int64), (y_test % 2).astype(np.int64)
    d = load_diabetes()
    dx_train, dx_test, dy_train, dy_test = train_test_split(
        d.data.astype(np.float32), d.target.astype(np.float32), test_size=0.2, random_state=0
    )
    skl_opset = {"": OPSET, "ai.onnx.ml": 3}
    no_zipmap = {LogisticRegression: {"zipmap": False}, RandomForestClassifier: {"zipmap": False},
                 GradientBoostingClassifier: {"zipmap": False}}
    names = []

    def classifier(name, what, how, model, x, y, x_t, y_t, export):
        model.fit(x, y)
        onx = export(model, x)
        acc = ort_label_accuracy(session(onx), x_t, y_t)
        meta = {"what": what, "how": how, "test_accuracy": acc,
                "library_test_accuracy": float((model.predict(x_t) == y_t).mean())}
        meta = write_model(out / name, onx, samples(x_t, (x_t.shape[1],)), meta)
        print(f"{name}: test accuracy {acc:.4f} ({meta['bytes']} bytes); ops {meta['ops']}")
        names.append(name)

    def regressor(name, what, how, model, export):
        model.fit(dx_train, dy_train)
        onx = export(model, dx_train)
        pred = session(onx).run(None, {onx.graph.input[0].name: dx_test})[0].reshape(-1)
        r2 = float(1 - ((pred - dy_test) ** 2).sum() / ((dy_test - dy_test.mean()) ** 2).sum())
        meta = {"what": what, "how": how, "test_accuracy": None, "test_r2": r2}
        meta = write_model(out / name, onx, samples(dx_test, (dx_test.shape[1],)), meta)
        print(f"{name}: test R² {r2:.3f} ({meta['bytes']} bytes); ops {meta['ops']}")
        names.append(name)

    def skl(model, x):
        return to_onnx(model, x[:1], options=no_zipmap, target_opset=skl_opset)

    def onnxmltools_export(convert, **kw):
        def export(model, x):
            onx = convert(model, initial_types=[("input", FloatTensorType([None, x.shape[1]]))],
                          target_opset=15, **kw)
            # onnxmltools declares LightGBM's label output as [1] whatever the batch (onnxruntime
            # warns on every run; Verity's compiler refuses the contradiction): declare the batch.
            for o in onx.graph.output:
                dims = o.type.tensor_type.shape.dim
                if o.name == "label" and len(dims) == 1 and dims[0].dim_value == 1:
                    dims[0].ClearField("dim_value")
                    dims[0].dim_param = "N"
            return onx
        return export

    classifier("forest-digits", "random forest, 12 trees of depth ≤ 6, on the 8x8 digits (10 classes)",
               "scikit-learn `RandomForestClassifier`, exported by skl2onnx (zipmap off)",
               RandomForestClassifier(n_estimators=12, max_depth=6, random_state=0),
               x_train, y_train, x_test, y_test, skl)
    classifier("gboost-odd-digits", "gradient-boosted trees (20 of depth 3): is the digit odd (binary, logistic)",
               "scikit-learn `GradientBoostingClassifier`, exported by skl2onnx (zipmap off)",
               GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
               x_train, odd_train, x_test, odd_test, skl)
    classifier("logreg-digits", "standard scaler + multinomial logistic regression on the 8x8 digits",
               "scikit-learn `StandardScaler` + `LogisticRegression` pipeline, exported by skl2onnx (zipmap off)",
               make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
               x_train, y_train, x_test, y_test, skl)
    classifier("xgboost-odd-digits", "XGBoost, 15 trees of depth 3: is the digit odd (binary, logistic)",
               "`xgboost.XGBClassifier`, exported by onnxmltools",
               xgboost.XGBClassifier(n_estimators=15, max_depth=3, random_state=0),
               x_train, odd_train, x_test, odd_test, onnxmltools_export(convert_xgboost))
    classifier("lightgbm-digits", "LightGBM, 6 rounds × 10 classes of ≤ 15 leaves, on the 8x8 digits (softmax)",
               "`lightgbm.LGBMClassifier`, exported by onnxmltools (zipmap off)",
               lightgbm.LGBMClassifier(n_estimators=6, num_leaves=15, random_state=0, verbose=-1),
               x_train, y_train, x_test, y_test, onnxmltools_export(convert_lightgbm, zipmap=False))
    # Categorical features: the intensities (0–16, as int64) of eight central pixels, one-hot.
    pixels = [19, 20, 27, 28, 35, 36, 43, 44]
    cat_train = np.rint(x_train[:, pixels] * 16).astype(np.int64)
    cat_test = np.rint(x_test[:, pixels] * 16).astype(np.int64)
    classifier("onehot-digits", "one-hot encoded intensities of 8 central pixels + logistic regression (10 classes)",
               "scikit-learn `OneHotEncoder(handle_unknown='ignore')` + `LogisticRegression` pipeline, exported by skl2onnx",
               make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=2000)),
               cat_train, y_train, cat_test, y_test, skl)
    # Sparse integer ids → dense indices; ids outside the vocabulary map to the default, -1.
    rng = np.random.default_rng(0)
    vocab = np.sort(rng.choice(1000, 64, replace=False)).astype(np.int64)
    encoder = LabelEncoder().fit(vocab)
    onx = to_onnx(encoder, vocab[:2], target_opset=skl_opset)
    ids = np.where(rng.random(21) < 0.8, rng.choice(vocab, 21), rng.integers(0, 1000, 21)).astype(np.int64)
    meta = {"what": "64 sparse ids (of 0–999) → dense indices 0–63, unknown ids → −1",
            "how": "scikit-learn `LabelEncoder` on a seeded vocabulary, exported by skl2onnx", "test_accuracy": None}
    meta = write_model(out / "label-encoder-ids", onx, samples(ids, ()), meta)
    print(f"label-encoder-ids: ({meta['bytes']} bytes); ops {meta['ops']}")
    names.append("label-encoder-ids")
    regressor("gboost-diabetes", "gradient-boosted regression trees (30 of depth 3) on scikit-learn's diabetes data",
              "scikit-learn `GradientBoostingRegressor`, exported by skl2onnx",
              GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0), skl)
    regressor("linreg-diabetes", "least-squares linear regression on scikit-learn's diabetes data",
              "scikit-learn `LinearRegression`, exported by skl2onnx", LinearRegression(), skl)
    return names


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------

README_HEAD = """\
# Models

Small real ONNX models with sample inputs and **expected outputs computed by onnxruntime**
(CPU provider, graph optimisations off, one thread): an oracle Verity did not write. They are
the end-to-end fixtures of the ONNX front end (`engine/onnx/tests/repo_models.rs` compiles each
one, runs it with the canonical executor and compares).

Generated by [`generate.py`](generate.py) with fixed seeds; do not edit by hand. To regenerate
(in a throwaway venv outside the repo):

```sh
python3 -m venv ~/.cache/verity/venv
~/.cache/verity/venv/bin/pip install numpy onnx==1.19.1 scikit-learn onnxruntime
~/.cache/verity/venv/bin/python models/generate.py            # rewrites models/
~/.cache/verity/venv/bin/python models/generate.py --resnet   # also ~/.cache/verity/models/resnet18/
```

| name | what | ops | params | test accuracy | size | how generated |
|---|---|---|---:|---:|---:|---|
"""

README_TAIL = """
Accuracy is top-1 on the 360-image test split of scikit-learn's `load_digits` (1797 8×8 images,
80/20 stratified split with `random_state=0`), measured with onnxruntime on the ONNX file
itself.

Each `models/<name>/` holds `model.onnx`, `meta.json` (input/output names, types, ops,
accuracy), sample inputs `input_<k>.npy` (float32, the first 1, next 4 and next 16 test
images, batch dimension `N`), and onnxruntime's outputs: `expected_<k>.npy` is output 0
(`probs`), `expected_<k>_<j>.npy` output `j` (`logits`; for the int8 model `expected_<k>_2.npy`
is the uint8 output of `QLinearMatMul`, before dequantisation).

**`resnet18`** (`--resnet` or `--resnet-only`, not committed: ~47 MB) is a ResNet-18-shaped ImageNet
CNN (1×3×224×224 → 1000; conv/BN/ReLU, max pool, 8 basic blocks with residual `Add`, global average
pool, Gemm, Softmax) with seeded random He-initialised weights; its BatchNormalization statistics
come from a forward pass over a seeded random batch so that activations stay normalised. It is
written with one input and onnxruntime's output to `~/.cache/verity/models/resnet18/`
(`~/.cache/verity/models/resnet18.onnx` links to the model), for benchmarks and the ImageNet-size
end-to-end run. `scripts/test.sh` generates it (through `scripts/generate-resnet18.sh`, which makes
the venv) before running the tests.

## Tests that use them

- `engine/onnx/tests/repo_models.rs`: compiles each model for each input's batch size, runs the
  canonical executor and compares with onnxruntime: floats within `1e-5 + 1e-3·|expected|`,
  every sample classified alike, and for `cnn-digits-int8` the uint8 logits and the
  dequantized logits bit for bit (only the final softmax's `exp` may differ in the last bits).
  It also runs `resnet18`; without it that test fails under `CI=true` and is skipped, on a line
  the test summary shows, elsewhere. `VERITY_MODELS_DIR` points it at another
  directory with the same layout (e.g. the whole digits test set).
- `engine/wasm-probe/tests/repo_models_wasm.rs`: the same compiled programs give bit-identical
  outputs and trace roots natively and in wasm (`--ignored` adds `resnet18`).
"""


def readme_row(name, meta, how):
    acc = meta.get("test_accuracy")
    if acc is None and "test_r2" in meta:
        acc_text = f"R² {meta['test_r2']:.2f}"
    else:
        acc_text = "" if acc is None else f"{acc * 100:.1f} %"
    return (
        f"| `{name}` | {meta['what']} | {', '.join(meta['ops'])} | {meta['params']:,} | "
        f"{acc_text} | {meta['bytes'] / 1024:.1f} KiB | {how} |\n"
    )


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resnet", action="store_true", help="also write ResNet-18 to ~/.cache/verity/models")
    ap.add_argument(
        "--resnet-only",
        action="store_true",
        help="write only ResNet-18, leaving the committed models alone (what scripts/test.sh runs)",
    )
    ap.add_argument("--out", type=Path, default=HERE, help="directory for the committed models (default: models/)")
    ap.add_argument(
        "--classical-only",
        action="store_true",
        help="write only the classical-ML models (and the README), leaving the others alone",
    )
    ap.add_argument(
        "--dynamic-only",
        action="store_true",
        help="write only mlp-digits-dynq (from the committed mlp-digits) and the README",
    )
    args = ap.parse_args()
    if args.dynamic_only:
        dynamic_quantized_mlp(args.out)
        write_readme(args.out)
        return 0
    if args.resnet_only:
        write_resnet18()
        return 0
    if args.classical_only:
        classical_models(args.out)
        write_readme(args.out)
        return 0

    x_train, x_test, y_train, y_test = digits()
    print(f"digits: {len(x_train)} train / {len(x_test)} test images")
    rows = []

    model, meta = mlp_digits(x_train, y_train, x_test, y_test)
    meta = write_model(args.out / "mlp-digits", model, samples(x_test, (64,)), meta)
    print(f"mlp-digits: test accuracy {meta['test_accuracy']:.4f} ({meta['params']} params, {meta['bytes']} bytes)")
    rows.append(readme_row("mlp-digits", meta, "scikit-learn `MLPClassifier`, exported with `onnx.helper`"))

    p, stats, np_acc = train_cnn(x_train, y_train, x_test, y_test)
    cnn = cnn_graph(p, stats)
    acc = ort_accuracy(session(cnn), x_test.reshape(-1, 1, 8, 8), y_test)
    meta = {
        "what": "CNN Conv3×3(8)-BN-ReLU-MaxPool-Conv3×3(16)-ReLU-MaxPool-Gemm(10)-Softmax on 1×8×8 digits",
        "training": "numpy (im2col conv, batch-norm, Adam with cosine decay, 40 epochs, seed 0)",
        "test_accuracy": acc,
        "numpy_test_accuracy": np_acc,
    }
    meta = write_model(args.out / "cnn-digits", cnn, samples(x_test, (1, 8, 8)), meta)
    print(f"cnn-digits: test accuracy {acc:.4f} (numpy {np_acc:.4f}; {meta['params']} params, {meta['bytes']} bytes)")
    rows.append(readme_row("cnn-digits", meta, "trained with numpy in the script, written with `onnx.helper`"))

    int8 = quantize_cnn(cnn_graph(p, stats, for_quantization=True), x_train.reshape(-1, 1, 8, 8))
    acc = ort_accuracy(session(int8), x_test.reshape(-1, 1, 8, 8), y_test)
    meta = {
        "what": "`cnn-digits` statically quantized to int8 (uint8 activations, per-channel 7-bit int8 weights)",
        "training": "onnxruntime.quantization.quantize_static, QOperator format, MinMax calibration on the training images",
        "test_accuracy": acc,
    }
    meta = write_model(args.out / "cnn-digits-int8", int8, samples(x_test, (1, 8, 8)), meta)
    print(f"cnn-digits-int8: test accuracy {acc:.4f} ({meta['params']} params, {meta['bytes']} bytes); ops {meta['ops']}")
    rows.append(
        readme_row(
            "cnn-digits-int8",
            meta,
            "`onnxruntime.quantization.quantize_static` (QOperator, per-channel, reduce_range) of `cnn-digits` "
            "with BN folded into conv1 and the classifier as MatMul + Add, calibrated on the training images",
        )
    )

    model, inputs, meta = bag_of_tokens()
    meta = write_model(args.out / "bag-of-tokens", model, inputs, meta)
    print(f"bag-of-tokens: test accuracy {meta['test_accuracy']:.4f} ({meta['params']} params, {meta['bytes']} bytes)")
    rows.append(readme_row("bag-of-tokens", meta, "scikit-learn `LogisticRegression` on seeded embeddings, written with `onnx.helper`"))

    (args.out / "README.md").write_text(README_HEAD + "".join(rows) + README_TAIL)
    dynamic_quantized_mlp(args.out)
    classical_models(args.out)
    write_readme(args.out)

    if args.resnet:
        write_resnet18()
    return 0


def write_readme(out):
    """Rewrites the README's table from every model's meta.json: the rows already there for the
    hand-built models (whose description is not in their meta), one per classical model."""
    text = (out / "README.md").read_text()
    head, rest = text.split("|---|---|---|---:|---:|---:|---|\n", 1)
    kept = [line + "\n" for line in rest.split("\n") if line.startswith("| `")]
    kept = [r for r in kept if not (out / r.split("`")[1] / "meta.json").exists()
            or "how" not in json.loads((out / r.split("`")[1] / "meta.json").read_text())]
    rows = list(kept)
    for meta_path in sorted(out.glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        if "how" in meta:
            rows.append(readme_row(meta_path.parent.name, meta, meta["how"]))
    (out / "README.md").write_text(README_HEAD + "".join(rows) + README_TAIL)


def write_resnet18():
    """Writes ResNet-18, one input and onnxruntime's outputs to ~/.cache/verity/models/resnet18/."""
    out = Path(os.environ["HOME"]) / ".cache/verity/models/resnet18"
    model = resnet18()
    x = np.random.default_rng(1).normal(0.0, 1.0, (1, 3, 224, 224)).astype(np.float32)
    meta = write_model(out, model, [x], {"what": "ResNet-18, seeded random weights", "test_accuracy": None})
    link = out.parent / "resnet18.onnx"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to("resnet18/model.onnx")
    print(f"resnet18: {meta['params']} params, {meta['bytes']} bytes -> {out}")


if __name__ == "__main__":
    sys.exit(main())
