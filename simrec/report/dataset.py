"""The dataset report: what a ``simrec generate`` folder holds, as one page.

Read with :func:`simrec.load_dataset` (every file's checksum verified first), so the
page describes exactly the rows a model will train on: how long visits are and how they
end, how concentrated exposure is on a few items (the long tail), how position biases
clicks and purchases, how engagement moves over the visit, and the manifest (versions,
seed, brain, model, cost) that says how the data was made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simrec.report import plots
from simrec.report.page import Section, columns, definition_table, page, table
from simrec.report.values import as_json

INK = {"clicks": "#0072B2", "purchases": "#D55E00", "impressions": "#555555", "left": "#D55E00"}


def render_dataset(path: Path) -> str:
    """The HTML page of the dataset in folder ``path``.

    Raises:
        DatasetError: not a dataset, an unfinished run, or a file that fails its checksum.
    """
    from simrec.datagen import load_dataset

    dataset = load_dataset(path)
    manifest = dataset.manifest
    interactions = dataset.interactions
    turns = dataset.turns
    sessions = dataset.sessions
    n_items = len(dataset.items)
    shown = interactions["item_index"].to_numpy(np.int64) >= 0
    config = manifest.get("config", {})
    lead = [
        f"{len(sessions):,} visits · {len(turns):,} slates · {int(shown.sum()):,} impressions "
        f"of {n_items:,} items · policy {_describe(config.get('policy'))} on "
        f"{_describe(config.get('env'))} · brain {manifest.get('brain') or '?'}",
        f"Folder {path}",
    ]
    sections = [
        _summary(interactions, turns, sessions, n_items),
        Section("charts", "Charts").charts(
            [
                _visit_lengths(sessions),
                _long_tail(interactions, n_items),
                _positions(interactions),
                _by_turn(interactions, turns),
            ]
        ),
        _manifest(manifest),
    ]
    return page(f"Dataset: {Path(path).name}", lead, sections)


def _describe(value: Any) -> str:
    if value is None:
        return "?"
    return value if isinstance(value, str) else as_json(value)


def _summary(
    interactions: pd.DataFrame, turns: pd.DataFrame, sessions: pd.DataFrame, n_items: int
) -> Section:
    from simrec.metrics import slates_frame

    slates = slates_frame(interactions)
    shown = interactions[interactions["item_index"] >= 0]
    visits = max(len(sessions), 1)
    rows = [
        ("visits", f"{len(sessions):,}"),
        ("slates per visit (mean)", f"{sessions['turns'].mean():.2f}"),
        ("visits the user left (else the turn limit)", _share(sessions["left"].mean())),
        ("CTR (slates with a click)", _share(slates["clicked"].mean())),
        ("clicks per impression", _share(shown["clicked"].mean())),
        ("purchases per visit", f"{shown['purchased'].sum() / visits:.2f}"),
        ("dismissals per impression", _share(shown["dismissed"].mean())),
        ("return per visit (mean)", f"{sessions['return'].mean():.3g}"),
        ("final satisfaction (mean)", f"{sessions['final_satisfaction'].mean():.3f}"),
        (
            "items ever shown",
            f"{shown['item_index'].nunique():,} of {n_items:,} "
            f"({_share(shown['item_index'].nunique() / max(n_items, 1))})",
        ),
    ]
    if "invalid_response" in turns:
        rows.append(("invalid LLM responses", f"{int(turns['invalid_response'].sum()):,}"))
    if "cost_usd" in sessions:
        rows.append(("cost (USD)", f"{sessions['cost_usd'].sum():,.4g}"))
    return Section("summary", "Summary").html(definition_table(rows))


def _share(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{100 * value:.1f}%"


def _visit_lengths(sessions: pd.DataFrame) -> plots.Chart:
    turns = sessions["turns"].to_numpy(np.int64)
    left = sessions["left"].to_numpy(bool)
    longest = int(turns.max()) if len(turns) else 1
    lengths = np.arange(1, longest + 1)
    ended_left = np.bincount(turns[left], minlength=longest + 1)[1:]
    ended_limit = np.bincount(turns[~left], minlength=longest + 1)[1:]
    return plots.bar_chart(
        "Visit length",
        [str(n) for n in lengths],
        [
            plots.Bars("user left", ended_left.astype(float), INK["left"]),
            plots.Bars("turn limit or still there", ended_limit.astype(float), "#56B4E9"),
        ],
        plots.Axes("slates in the visit", "visits"),
        caption="How many slates each visit lasted, split by how it ended.",
        stacked=True,
    )


def _long_tail(interactions: pd.DataFrame, n_items: int) -> plots.Chart:
    shown = interactions[interactions["item_index"] >= 0]
    items = shown["item_index"].to_numpy(np.int64)
    impressions = np.bincount(items, minlength=n_items).astype(float)
    ranks = np.arange(1, n_items + 1)
    counts = {
        "impressions": impressions,
        "clicks": np.bincount(items, weights=shown["clicked"].to_numpy(float), minlength=n_items),
        "purchases": np.bincount(
            items, weights=shown["purchased"].to_numpy(float), minlength=n_items
        ),
    }
    series = []
    for name, c in counts.items():
        ranked = np.sort(c)[::-1]  # each count ranked on its own: its own long tail
        series.append(
            plots.Series(name, ranks, np.where(ranked > 0, ranked, np.nan), color=INK[name])
        )
    order = np.argsort(-impressions, kind="stable")
    top = max(1, n_items // 10)
    share = impressions[order][:top].sum() / max(impressions.sum(), 1.0)
    never = int((impressions == 0).sum())
    return plots.rank_chart(
        "Item popularity: the long tail",
        series,
        plots.Axes("item rank (1 = the item with the most)", "count", log_y=True),
        caption=(
            f"The top 10% of items ({top:,}) got {share:.0%} of impressions; "
            f"{never:,} items were never shown. Each line ranks items by its own count; "
            "log scales."
        ),
    )


def _positions(interactions: pd.DataFrame) -> plots.Chart:
    shown = interactions[interactions["item_index"] >= 0]
    position = shown["position"].to_numpy(np.int64)
    width = int(position.max()) + 1 if len(position) else 1
    n = np.maximum(np.bincount(position, minlength=width), 1)

    def rate(column: str) -> np.ndarray:
        return np.bincount(position, weights=shown[column].to_numpy(float), minlength=width) / n

    return plots.bar_chart(
        "CTR and purchases by slot position",
        [str(p + 1) for p in range(width)],
        [
            plots.Bars("clicked", rate("clicked"), INK["clicks"]),
            plots.Bars("purchased", rate("purchased"), INK["purchases"]),
        ],
        plots.Axes("slot (1 = top of the slate)", "share of impressions", share=True),
        caption="Per slot, the share of items shown there that were clicked or bought.",
    )


def _by_turn(interactions: pd.DataFrame, turns: pd.DataFrame) -> plots.Chart:
    from simrec.metrics import turn_curves

    curves = turn_curves(interactions, turns)
    x = curves.index.to_numpy()
    survival = curves["sessions"].to_numpy(float) / max(float(curves["sessions"].max()), 1.0)
    return plots.line_chart(
        "Over the visit",
        [
            plots.Series("users still here", x, survival, color="#555555"),
            plots.Series("CTR", x, curves["ctr"].to_numpy(float), color=INK["clicks"]),
            plots.Series(
                "purchase rate", x, curves["purchase_rate"].to_numpy(float), color=INK["purchases"]
            ),
            plots.Series(
                "satisfaction", x, curves["satisfaction"].to_numpy(float), color="#009E73"
            ),
        ],
        plots.Axes("turn (slate shown)", "share (satisfaction: 0 to 1)", share=True),
        caption="Per turn: share of visits still going, share of slates clicked and bought, "
        "mean satisfaction after the turn.",
    )


def _manifest(manifest: dict[str, Any]) -> Section:
    section = Section("manifest", "Manifest")
    config = manifest.get("config", {})
    usage = manifest.get("usage", {})
    facts = [
        ("simrec version", manifest.get("simrec_version")),
        ("seed", manifest.get("seed")),
        ("sessions", manifest.get("sessions")),
        ("format", manifest.get("format")),
        ("shard size", manifest.get("shard_size")),
        ("env", config.get("env")),
        ("policy", config.get("policy")),
        ("brain", manifest.get("brain")),
        ("model", manifest.get("model")),
        ("prompt version", manifest.get("prompt_version")),
        ("config hash (sha256)", manifest.get("config_hash")),
    ]
    parts = [("Run", definition_table((k, "—" if v is None else _describe(v)) for k, v in facts))]
    rows = manifest.get("rows", {})
    if rows:
        counts = table(["table", "rows"], [[k, f"{v:,}"] for k, v in rows.items()], [False, True])
        parts.append(("Rows", counts))
    for title, mapping in (
        ("Usage and cost", usage),
        ("Env arguments", config.get("env_kwargs")),
        ("Dependencies", manifest.get("dependencies")),
    ):
        if mapping:
            parts.append((title, definition_table((k, _describe(v)) for k, v in mapping.items())))
    return section.html(columns(parts))
