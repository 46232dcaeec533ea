"""The fidelity report as a terminal table (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

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
        title=f"fidelity of the {report['brain']} brain on {report['data']['users']:,} users"
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
    ranking = Table(
        title=f"policies: held-out NDCG@10 vs grounded-env CTR (Kendall tau {report['kendall_tau']:.2f})"
    )
    for column in ("policy", "NDCG@10 (real)", "CTR (env)"):
        ranking.add_column(column, justify="left" if column == "policy" else "right")
    for row in report["policy_ranking"]["policies"]:
        ranking.add_row(row["policy"], f"{row['ndcg_10']:.3f}", f"{row['ctr']:.3f}")
    console.print(ranking)
