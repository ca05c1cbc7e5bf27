"""Verification's models: an operator's judgement on what only a person can decide."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, model_validator

from paht.rules.vocabulary import CHECK_OUTCOMES, CHECKS
from paht.schemas import CATEGORIES

BOOLEAN_JUDGEMENTS = ("unclear_media", "unclear_or_test", "monitoring_only", "urgent")
# the operator's checks of the packs' holding `warn` rules (rules/README.md, "Operator checks")
CHECK_JUDGEMENTS = tuple(CHECKS)


class Judgement(BaseModel):
    name: Literal["unclear_media", "unclear_or_test", "monitoring_only", "urgent", "identity", "category",
                  *CHECK_JUDGEMENTS]  # type: ignore[valid-type]
    value: bool | str

    @model_validator(mode="after")
    def value_fits_name(self):
        if self.name in BOOLEAN_JUDGEMENTS and not isinstance(self.value, bool):
            raise ValueError(f"{self.name} is true or false")
        if self.name == "identity" and self.value not in ("confirmed", "false"):
            raise ValueError("identity is confirmed or false")
        if self.name == "category" and self.value not in CATEGORIES:
            raise ValueError("category is one of " + ", ".join(CATEGORIES))
        if self.name in CHECK_JUDGEMENTS and self.value not in CHECK_OUTCOMES:
            raise ValueError(f"{self.name} is " + " or ".join(CHECK_OUTCOMES))
        return self
