#!/usr/bin/env python3
"""make-checkpoint.py writes a synthetic Ultralytics checkpoint (weights/*.pt)
without PyTorch, for yoloarchive's tests.

It reproduces what matters to a reader that does not run Python code: the
PyTorch zip layout (<name>/data.pkl, <name>/data/<key>, <name>/version), a
protocol-2 pickle whose top level is the dict Ultralytics' trainer saves
(version, date, epoch, best_fitness, model, ema, updates, optimizer,
train_args, train_metrics, train_results, license, docs, git), an nn.Module
object graph pickled through copyreg with class GLOBALs, and tensors stored
as persistent storage ids rebuilt by torch._utils._rebuild_tensor_v2, as
torch.save writes them.

usage: make-checkpoint.py OUT.pt ARGS_YAML VERSION [BATCH]
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile


def module(name):
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    parts = name.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    return mod


# Stand-ins for the classes and functions a real checkpoint names.
torch_utils = module("torch._utils")
torch_mod = sys.modules["torch"]
tasks = module("ultralytics.nn.tasks")
container = module("torch.nn.modules.container")
conv = module("ultralytics.nn.modules.conv")


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks):
    return ("tensor", size)


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class HalfStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


HalfStorage.__module__ = "torch"
torch_mod.HalfStorage = HalfStorage


class Tensor:
    def __init__(self, storage, size):
        self.storage, self.size = storage, size

    def __reduce_ex__(self, proto):
        stride = tuple(int(x) for x in [1] * len(self.size))
        return (_rebuild_tensor_v2, (self.storage, 0, self.size, stride, False, collections.OrderedDict()))


def new_class(mod, name):
    cls = type(name, (object,), {})
    cls.__module__ = mod.__name__
    setattr(mod, name, cls)
    return cls


DetectionModel = new_class(tasks, "DetectionModel")
Sequential = new_class(container, "Sequential")
Conv = new_class(conv, "Conv")


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, HalfStorage):
            return ("storage", HalfStorage, obj.key, "cpu", obj.numel)
        return None


def yaml_args(path):
    """A tiny reader for the flat args.yaml Ultralytics writes."""
    out = {}
    for line in open(path):
        if ":" not in line or line.startswith(" "):
            continue
        k, v = line.rstrip("\n").split(":", 1)
        v = v.strip()
        if v in ("null", ""):
            val = None
        elif v in ("true", "false"):
            val = v == "true"
        else:
            try:
                val = int(v)
            except ValueError:
                try:
                    val = float(v)
                except ValueError:
                    val = v.strip("'\"")
        out[k] = val
    return out


def main():
    out, args_yaml, version = sys.argv[1:4]
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else None
    args = yaml_args(args_yaml)
    if batch is not None:
        args["batch"] = batch  # what AutoBatch chose: only the checkpoint knows it
    storages = [HalfStorage(str(i), n) for i, n in enumerate([432, 16, 4608])]
    layer = Conv()
    layer.__dict__.update({"training": False, "_parameters": collections.OrderedDict(
        weight=Tensor(storages[0], (16, 3, 3, 3)), bias=Tensor(storages[1], (16,)))})
    seq = Sequential()
    seq.__dict__.update({"training": False, "_modules": collections.OrderedDict([("0", layer)])})
    model = DetectionModel()
    model.__dict__.update({"training": False, "yaml": {"nc": 3, "backbone": [[-1, 1, "Conv", [16, 3, 2]]]},
                           "names": {0: "rectangle", 1: "circle", 2: "ellipse"},
                           "_modules": collections.OrderedDict(model=seq), "stride": Tensor(storages[2], (3,))})
    ckpt = {
        "epoch": -1,
        "best_fitness": 0.0,
        "model": model,
        "ema": None,
        "updates": None,
        "optimizer": None,
        "train_args": args,
        "train_metrics": {"metrics/precision(B)": 0.0, "metrics/recall(B)": 0.0, "metrics/mAP50(B)": 0.0,
                          "metrics/mAP50-95(B)": 0.0, "val/box_loss": 3.91676, "fitness": 0.0},
        "train_results": {"epoch": [1.0, 2.0, 3.0], "time": [0.514821, 0.977435, 1.39101]},
        "date": "2025-07-10T12:34:56.789012",
        "version": version,
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "git": {"root": None, "branch": None, "commit": None, "origin": None},
    }
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(ckpt)
    name = out.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(name + "/data.pkl", buf.getvalue())
        z.writestr(name + "/byteorder", "little")
        for s in storages:
            z.writestr(name + "/data/" + s.key, struct.pack("<%de" % s.numel, *([0.5] * s.numel)))
        z.writestr(name + "/version", "3\n")


if __name__ == "__main__":
    main()
