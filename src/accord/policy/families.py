"""The families of the disclosure rules (data/policy/families.yaml): which family a policy id belongs to, for the
figures that count decisions per family rather than per rule."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accord.datafiles import load

OTHER = "other"  # the family of a rule no family claims


class RuleFamily(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z-]*$")
    name: str = Field(min_length=1)
    stems: tuple[str, ...] = Field(min_length=1)


class RuleFamilies(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[RuleFamily, ...] = Field(min_length=1)

    def family_of(self, policy_id: str) -> str:
        """The family whose stem the id continues after its party prefix ("ca-neutrality-text": neutrality)."""
        _party, _dash, rest = policy_id.partition("-")
        for family in self.families:
            if any(rest == stem or rest.startswith(f"{stem}-") for stem in family.stems):
                return family.code
        return OTHER

    def name_of(self, code: str) -> str:
        """The family's name as the data file writes it (translated where shown); its code if none."""
        return next((f.name for f in self.families if f.code == code), code)


def rule_families() -> RuleFamilies:
    return load(RuleFamilies, "policy", "families.yaml")
