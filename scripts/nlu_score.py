"""Score `rasa test nlu` results per language: intent accuracy, macro-F1, and how well
out-of-scope messages are caught.

The language of an example is the test file it came from (tests/nlu/zh.yml,
tests/nlu_real/dev/en_abcd.yml: the part of the name before the first "_"), not a guess.
A message is "rejected" when the bot treats it as out of scope: the intent
`out_of_scope`, or no intent confident enough (`nlu_fallback`). So:
- out-of-scope caught: the share of out_of_scope messages that are rejected;
- in-scope rejected: the share of the other messages that are rejected.
Exits 1 when a language misses any of the thresholds given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

REJECTED = ("out_of_scope", "nlu_fallback")


def test_languages(test_dir: Path) -> Dict[str, str]:
    """text -> language, from <test_dir>/<language>*.yml."""
    languages = {}
    for path in sorted(test_dir.glob("*.yml")):
        language = path.stem.split("_")[0]
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    languages[line[2:].strip()] = language
    return languages


def macro_f1(pairs: List[Tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def summary(pairs: List[Tuple[str, str]]) -> Dict[str, float]:
    """Accuracy (nlu_fallback counts as out_of_scope), macro-F1, OOS caught, in-scope rejected."""
    scored = [(gold, "out_of_scope" if predicted in REJECTED else predicted) for gold, predicted in pairs]
    out = [p for g, p in scored if g == "out_of_scope"]
    inside = [p for g, p in scored if g != "out_of_scope"]
    return {
        "examples": len(scored),
        "accuracy": sum(g == p for g, p in scored) / len(scored),
        "macro_f1": macro_f1(scored),
        "oos_examples": len(out),
        "oos_caught": sum(p == "out_of_scope" for p in out) / len(out) if out else 1.0,
        "inscope_rejected": sum(p == "out_of_scope" for p in inside) / len(inside) if inside else 0.0,
    }


def per_intent(pairs: List[Tuple[str, str]]) -> Dict[str, Dict[str, float]]:
    """Recall and precision per gold intent (nlu_fallback as out_of_scope)."""
    scored = [(gold, "out_of_scope" if predicted in REJECTED else predicted) for gold, predicted in pairs]
    table = {}
    for label in sorted({g for g, _ in scored}):
        tp = sum(1 for g, p in scored if g == label and p == label)
        support = sum(1 for g, _ in scored if g == label)
        predicted = sum(1 for _, p in scored if p == label)
        table[label] = {"support": support, "recall": tp / support, "precision": tp / predicted if predicted else 0.0}
    return table


def pairs_by_language(results_dir: Path, test_dir: Path) -> Dict[str, List[Tuple[str, str]]]:
    languages = test_languages(test_dir)
    pairs: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results_dir / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                language = languages.get(item["text"].strip(), "unknown")
                predicted = (item.get("intent_prediction") or {}).get("name") or "nlu_fallback"
                pairs[language].append((item["intent"], predicted))
    return pairs


def score(results_dir: Path, test_dir: Path) -> Dict[str, Dict[str, float]]:
    return {language: summary(items) for language, items in sorted(pairs_by_language(results_dir, test_dir).items())}


def failures(
    scores: Dict[str, Dict[str, float]],
    min_accuracy: Optional[float],
    min_oos_caught: Optional[float],
    max_rejected: Optional[float],
) -> List[str]:
    found = []
    for language, s in scores.items():
        if min_accuracy is not None and s["accuracy"] < min_accuracy:
            found.append(f"{language}: accuracy {s['accuracy']:.3f} < {min_accuracy}")
        if min_oos_caught is not None and s["oos_examples"] and s["oos_caught"] < min_oos_caught:
            found.append(f"{language}: out-of-scope caught {s['oos_caught']:.3f} < {min_oos_caught}")
        if max_rejected is not None and s["inscope_rejected"] > max_rejected:
            found.append(f"{language}: in-scope rejected {s['inscope_rejected']:.3f} > {max_rejected}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("tests", type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.95)
    parser.add_argument("--min-oos-caught", type=float)
    parser.add_argument("--max-rejected", type=float)
    parser.add_argument("--intents", action="store_true", help="also print recall and precision per intent")
    args = parser.parse_args()
    pairs = pairs_by_language(args.results, args.tests)
    scores = {language: summary(items) for language, items in sorted(pairs.items())}
    (args.results / "per_language.json").write_text(json.dumps(scores, indent=2))
    if not scores:
        print("no NLU results found", file=sys.stderr)
        return 1
    for language, s in scores.items():
        print(
            f"{args.tests} {language}: {s['examples']} examples, accuracy {s['accuracy']:.3f}, "
            f"macro-F1 {s['macro_f1']:.3f}, out-of-scope caught {s['oos_caught']:.3f} "
            f"({s['oos_examples']}), in-scope rejected {s['inscope_rejected']:.3f}"
        )
        if args.intents:
            for intent, row in per_intent(pairs[language]).items():
                print(
                    f"    {intent:26} n={row['support']:3}  "
                    f"recall {row['recall']:.2f}  precision {row['precision']:.2f}"
                )
    problems = failures(scores, args.min_accuracy, args.min_oos_caught, args.max_rejected)
    for problem in problems:
        print(f"BELOW TARGET: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
