"""The fidelity report as a terminal table (rich)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from simrec.grounding.split import describe_split

ROWS = (
    ("accuracy_1_1", "accuracy 1:1"),
    ("accuracy_1_1_popular_negatives", "accuracy 1:1, popular negatives"),
    ("f1_1_1", "F1 1:1"),
    ("accuracy_1_3", "accuracy 1:3"),
    ("f1_1_3", "F1 1:3"),
    ("accuracy_1_9", "accuracy 1:9"),
    ("f1_1_9", "F1 1:9"),
    ("auc", "AUC (unseen catalog)"),
    ("ndcg_10", "NDCG@10"),
)


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the brain's figures beside the baselines, then the policy ranking."""
    console = console or Console()
    table = Table(
        title=f"fidelity of the {report['brain']} brain on {report['data']['users']:,} users, "
        f"{describe_split(report['split'])}"
    )
    table.add_column("measure")
    table.add_column(report["brain"], justify="right")
    for name in report["baselines"]:
        table.add_column(name, justify="right")
    for key, label in ROWS:
        table.add_row(
            label, f"{report[key]:.3f}", *(f"{b[key]:.3f}" for b in report["baselines"].values())
        )
    console.print(table)
    console.print(
        f"liked set vs held-out: genre TV {report['genre_tv']:.3f}; popularity percentile "
        f"{report['liked_popularity_percentile']:.3f} vs {report['held_out_popularity_percentile']:.3f}; "
        f"{report['liked_per_user']:.1f} liked items per user"
    )
    result = report["policy_ranking"]
    low, high = result.get("kendall_tau_low", math.nan), result.get("kendall_tau_high", math.nan)
    ranking = Table(
        title=f"policies: held-out NDCG@10 vs grounded-env CTR (Kendall tau "
        f"{report['kendall_tau']:.2f}, 95% interval {low:.2f} to {high:.2f})"
    )
    for column in ("policy", "NDCG@10 (real)", "95% interval", "CTR (env)", "95% interval "):
        ranking.add_column(column, justify="left" if column == "policy" else "right")
    for row in result["policies"]:
        ranking.add_row(
            row["policy"],
            f"{row['ndcg_10']:.3f}",
            _span(row, "ndcg_10"),
            f"{row['ctr']:.3f}",
            _span(row, "ctr"),
        )
    console.print(ranking)
    if "pairs" in result:
        unresolved = [
            f"{p['policy']} vs {p['other']}" for p in result["pairs"] if not p["separated_env"]
        ]
        console.print(
            f"pairs of policies: {result['pairs_separated_real']} of {result['pairs_total']} "
            f"separated on the real data (paired 95% interval excludes 0), "
            f"{result['pairs_separated_both']} of those in the env too, "
            f"{result['pairs_agreeing']} in the same order"
            + (f"; not separated in the env: {', '.join(unresolved)}" if unresolved else "")
        )


def _span(row: dict[str, Any], name: str) -> str:
    """``low-high`` of a figure's interval (empty for a report written without one)."""
    if f"{name}_low" not in row:
        return ""
    return f"{row[f'{name}_low']:.3f}-{row[f'{name}_high']:.3f}"
