"""The functions template.yaml deploys, by binary: one reading for the tests that check a
bench's function table against the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags (`!Ref`, `!Sub`...) as null: only plain values are
    compared."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def functions_by_binary(path: Path = TEMPLATE) -> dict[str, tuple[str, dict[str, Any]]]:
    """{binary: (logical id, Properties)} of every AWS::Serverless::Function."""
    template = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader
    return {
        r["Metadata"]["BuildProperties"]["Binary"]: (logical_id, r["Properties"])
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
