"""`minerwatch model train|evaluate CAPTURES... --labels FILE`: retrain the encrypted-flow model on one's
own captures, or measure a model (the shipped one by default) on labelled captures."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from minerwatch.cli.options import whole
from minerwatch.encrypted import dataset
from minerwatch.encrypted.evaluate import evaluate, report_lines
from minerwatch.encrypted.labels import Labels, read_labels
from minerwatch.encrypted.model import load_model
from minerwatch.errors import OutputError, UsageError
from minerwatch.output.terminal import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "model",
        help="train or evaluate the encrypted-flow model on labelled captures",
        description="Train the flow-statistics model of encrypted mining detection on labelled captures, "
        "or report a model's per-class recall, false-positive rate and time to detection. The labels "
        "file is CSV: capture,label,session[,server_port,server_ip,client_ip] (docs/flowmodel.md).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("train", "train a model and write it as JSON (prints its held-out evaluation)"),
        ("evaluate", "evaluate a model on the sessions it was not trained on"),
    ):
        a = actions.add_parser(name, help=help_text, description=help_text)
        a.add_argument("captures", nargs="+", type=Path, metavar="CAPTURE")
        a.add_argument("--labels", required=True, type=Path, help="CSV labels file")
        a.set_defaults(func=run_train if name == "train" else run_evaluate)
        if name == "train":
            a.add_argument("-o", "--output", required=True, type=Path, help="model file to write")
            a.add_argument(
                "--holdout-percent",
                type=whole(0, 90),
                default=30,
                help="share of each class's recording sessions kept out of training when the labels "
                "have no split column (default 30)",
            )
            a.add_argument("--seed", type=whole(0, 2**31), default=1, help="split and forest seed")
            a.add_argument(
                "--source",
                action="append",
                default=[],
                help="how the captures were made, kept in the model's metadata (repeatable)",
            )
        else:
            a.add_argument("--model", type=Path, help="model file (default: the shipped model)")
            a.add_argument("--by-session", action="store_true", help="also one row per recording session")
            a.add_argument(
                "--all-sessions",
                action="store_true",
                help="also count sessions the model was trained on (flatters it)",
            )


def _load(args: argparse.Namespace, labels: Labels) -> dataset.DataSet:
    data = dataset.load(args.captures, labels)
    for error in data.errors:
        print(f"warning: {visible(error)}")
    if not data.flows:
        raise UsageError(f"no labelled flow with payload in the captures ({data.unlabelled} unlabelled)")
    print(
        f"{len(data.flows)} labelled flows"
        f" ({data.unlabelled} unlabelled and {data.without_payload} labelled without payload not used)"
    )
    for label, (flows, sessions) in data.sizes().items():
        print(f"  {label}: {flows} flows from {sessions} sessions")
    return data


def run_train(args: argparse.Namespace) -> int:
    from minerwatch.encrypted.train import train  # scikit-learn is only needed here

    data = _load(args, read_labels(args.labels))
    model = train(data, args.holdout_percent / 100, args.seed, [args.labels.name, *args.source])
    held = set(model.metadata["held_out_sessions"])
    tmp = args.output.with_name(args.output.name + ".tmp")
    try:
        tmp.write_bytes(model.to_json())
        os.replace(tmp, args.output)
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(
        f"model written to {visible(str(args.output))}: {len(model.trees)} trees, thresholds "
        + ", ".join(f"{c} {t:.3f}" for c, t in model.thresholds.items())
    )
    print(f"held-out sessions ({len(held)}): {visible(', '.join(sorted(held)) or 'none')}")
    if held:
        for line in report_lines(evaluate(model, [f for f in data.flows if f.session in held])):
            print(visible(line))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    labels = read_labels(args.labels)
    model = load_model(args.model)
    data = _load(args, labels)
    trained = set(model.metadata.get("trained_sessions", ()))
    flows = data.flows if args.all_sessions else [f for f in data.flows if f.session not in trained]
    skipped = len(data.flows) - len(flows)
    left_out = f" ({skipped} from training sessions left out)" if skipped else ""
    print(f"evaluated {len(flows)} flows{left_out}")
    for line in report_lines(evaluate(model, flows)):
        print(visible(line))
    if args.by_session:
        print()
        for line in report_lines(evaluate(model, flows, "session"), "session"):
            print(visible(line))
    return 0
