"""Toy evaluation sweep: what examples/batch-eval.yaml runs.

    python3 -m eval.harness [--suite smoke|full] [--ckpt-every N] [--item-time S]

It behaves like a real harness where Stratus cares: it scores a model on a
question set item by item, records its progress in $STRATUS_CHECKPOINT_DIR
(carried to the next attempt) every --ckpt-every items and resumes from it,
and on a preemption notice (SIGTERM) saves its progress and exits.  The
"model" is a stand-in function and the suites are generated arithmetic
questions, so it needs nothing but python3; a real sweep would load a
checkpoint onto the node's GPUs here and read its data set from the
location the spec's `stratus.data` names.

Writes results.json (suite, items, correct, accuracy) next to its progress.
"""
import argparse
import json
import os
import random
import signal
import sys
import time

SUITES = {"smoke": 200, "full": 2000}


def questions(suite):
    """The suite's items, the same on every node and attempt (fixed seed)."""
    rng = random.Random(suite)
    return [(rng.randint(0, 999), rng.randint(0, 999)) for _ in range(SUITES[suite])]


def model(a, b):
    """Stand-in for the model under test: right except when a carry ripples."""
    if (a % 10) + (b % 10) >= 10 and (a // 10 % 10) + (b // 10 % 10) >= 9:
        return a + b - 10
    return a + b


def save(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(prog="eval.harness")
    ap.add_argument("--suite", choices=sorted(SUITES), default="smoke")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--item-time", type=float, default=0.01)
    args = ap.parse_args()

    ckpt = os.environ.get("STRATUS_CHECKPOINT_DIR", "./checkpoints")
    os.makedirs(ckpt, exist_ok=True)
    progress = os.path.join(ckpt, "eval-progress.json")
    state = {"suite": args.suite, "done": 0, "correct": 0}
    if os.path.exists(progress):
        with open(progress) as f:
            saved = json.load(f)
        if saved.get("suite") == args.suite:
            state = saved

    def on_term(signum, frame):
        print(f"preemption notice at item {state['done']}: saving progress", flush=True)
        save(progress, state)
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)
    items = questions(args.suite)
    where = f"{os.environ.get('STRATUS_CLOUD', '?')}/{os.environ.get('STRATUS_REGION', '?')}"
    print(f"eval {args.suite} on {where}: items {state['done']}..{len(items)}", flush=True)
    while state["done"] < len(items):
        a, b = items[state["done"]]
        time.sleep(args.item_time)  # the model's forward pass
        state["correct"] += model(a, b) == a + b
        state["done"] += 1
        if state["done"] % args.ckpt_every == 0:
            save(progress, state)
            print(f"item {state['done']}/{len(items)} (progress saved)", flush=True)
    save(progress, state)
    result = dict(state, items=len(items), accuracy=round(state["correct"] / len(items), 4))
    save(os.path.join(ckpt, "results.json"), result)
    print(f"eval {args.suite}: {result['correct']}/{len(items)} correct, "
          f"accuracy {result['accuracy']:.2%}", flush=True)


if __name__ == "__main__":
    main()
