#!/usr/bin/env python3
"""Writes mlruns/: the MLflow file store Ultralytics' MLflow callback (8.3)
would have left for the genuine 3-epoch detect run in the shared
fixtures (testdata/ultralytics-8.3.166/detect), laid out as MLflow's FileStore
writes it (file_store.py; docs/sync-mlflow.md): written by this
script, independently of sync/mlflow/filestore, from args.yaml,
results.csv and three of the run's files.

usage: make_mlruns.py RUN_DIR OUT_DIR
"""
import csv, os, shutil, sys, yaml

run, out = sys.argv[1], sys.argv[2]
store = os.path.join(out, "mlruns")
exp_id, run_id = "123456789012345678", "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
start, end = 1752000000000, 1752000002100  # ms

def w(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

def dump(d):
    return yaml.dump(d, default_flow_style=False, sort_keys=True)

w(os.path.join(store, "0", "meta.yaml"), dump({"artifact_location": "file://" + "/home/trainer/runs/mlflow/0", "creation_time": start - 5000,
  "experiment_id": "0", "last_update_time": start - 5000, "lifecycle_stage": "active", "name": "Default"}))
os.makedirs(os.path.join(store, ".trash"), exist_ok=True)
args = yaml.safe_load(open(os.path.join(run, "args.yaml")))
w(os.path.join(store, exp_id, "meta.yaml"), dump({"artifact_location": "file:///home/trainer/runs/mlflow/" + exp_id,
  "creation_time": start - 10, "experiment_id": exp_id, "last_update_time": start - 10, "lifecycle_stage": "active", "name": args["project"]}))
rd = os.path.join(store, exp_id, run_id)
w(os.path.join(rd, "meta.yaml"), dump({"artifact_uri": "file:///home/trainer/runs/mlflow/%s/%s/artifacts" % (exp_id, run_id),
  "end_time": end, "entry_point_name": "", "experiment_id": exp_id, "lifecycle_stage": "active", "run_id": run_id,
  "run_name": args["name"], "run_uuid": run_id, "source_name": "", "source_type": 4, "source_version": "",
  "start_time": start, "status": 3, "tags": [], "user_id": "trainer"}))
# log_params(dict(trainer.args)): str() of each value.
for k, v in args.items():
    w(os.path.join(rd, "params", k), str(v))
w(os.path.join(rd, "tags", "mlflow.runName"), args["name"])
w(os.path.join(rd, "tags", "mlflow.user"), "trainer")
w(os.path.join(rd, "tags", "mlflow.source.type"), "LOCAL")
w(os.path.join(rd, "tags", "mlflow.source.name"), "/home/trainer/train.py")
rows = list(csv.DictReader(open(os.path.join(run, "results.csv"))))
points = {}
def log(key, value, ts, step):
    key = key.replace("(", "").replace(")", "")  # sanitize_dict
    points.setdefault(key, []).append("%d %s %d\n" % (ts, repr(float(value)), step))
best, best_fit = None, None
for i, row in enumerate(rows):
    ts = start + int(float(row["time"]) * 1000)
    for k in row:
        if k.startswith("lr/") or k.startswith("train/"):
            log(k, row[k], ts, i)
    for k in row:
        if k.startswith("metrics/") or k.startswith("val/"):
            log(k, row[k], ts + 5, i)
    fit = 0.1 * float(row["metrics/mAP50(B)"]) + 0.9 * float(row["metrics/mAP50-95(B)"])
    if best_fit is None or fit > best_fit:
        best, best_fit = row, fit
for k in best:  # the final validation of best.pt, at the last step
    if k.startswith("metrics/"):
        log(k, best[k], end - 50, len(rows) - 1)
for k, lines in points.items():
    w(os.path.join(rd, "metrics", k), "".join(lines))
for f in ["results.png", "results.csv", "args.yaml"]:
    os.makedirs(os.path.join(rd, "artifacts"), exist_ok=True)
    shutil.copyfile(os.path.join(run, f), os.path.join(rd, "artifacts", f))
